"""Plan versions: drafts, publishing, immutability, new versions, the component library, and
plan documents through plan_export / plan_import."""

from __future__ import annotations

import dataclasses
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from compensation.engine.plans import Tier
from compensation.models import (
    Component,
    ComponentTier,
    PlanLockedError,
    PlanVersion,
    PlanVersionComponent,
    VersionStatus,
)
from compensation.plan_documents import PlanDocumentError, dump_plan, load_plan
from compensation.selectors import (
    plan_version_document,
    plan_version_to_engine,
    version_in_force,
)
from compensation.services import (
    component_create,
    component_revise,
    plan_create,
    plan_version_create,
    plan_version_import,
    plan_version_new_from,
    plan_version_publish,
)
from spm.tenancy.context import tenant_context

from .samples import AE_COMMISSION, AE_NEW_LOGO, AE_PLAN, BROKEN_DOCUMENT

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

JAN = datetime.date(2026, 1, 1)
JUL = datetime.date(2026, 7, 1)


def make_draft(valid_from=JAN, components=(AE_COMMISSION, AE_NEW_LOGO)):
    plan = plan_create(code="AE-2026", name="Account executives")
    rows = [component_create(component=c) for c in components]
    return plan_version_create(plan=plan, components=rows, valid_from=valid_from,
                               name="Account executives 2026")


def test_publishing_freezes_the_version_with_its_document(tenant_a):
    with tenant_context(tenant_a):
        draft = make_draft()
        published = plan_version_publish(version=draft)
        assert published.status == VersionStatus.PUBLISHED
        assert published.published_at is not None
        assert load_plan(published.document) == dataclasses.replace(AE_PLAN, version=1)
        assert len(published.fingerprint) == 64
        assert plan_version_to_engine(version=published).components == AE_PLAN.components


def test_a_published_version_refuses_every_change_with_a_clear_message(tenant_a):
    with tenant_context(tenant_a):
        version = plan_version_publish(version=make_draft())
        version = PlanVersion.objects.get(pk=version.pk)
        version.name = "Changed"
        with pytest.raises(PlanLockedError, match="published, and a published plan version "
                                                   "never changes"):
            version.save()
        with pytest.raises(PlanLockedError):
            version.delete()
        link = PlanVersionComponent.objects.filter(version=version).first()
        with pytest.raises(PlanLockedError):
            link.delete()
        with pytest.raises(PlanLockedError):
            PlanVersionComponent(version=version, component=link.component, position=9).save()
        with pytest.raises(PlanLockedError):
            plan_version_publish(version=version)
        assert PlanVersion.objects.get(pk=version.pk).name == "Account executives 2026"


def test_a_component_used_by_a_published_version_cannot_change_nor_its_tiers(tenant_a):
    with tenant_context(tenant_a):
        version = plan_version_publish(version=make_draft())
        component = Component.objects.get(code="ae-commission")
        component.name = "Renamed"
        with pytest.raises(PlanLockedError, match=f"used by published plan version {version}"):
            component.save()
        tier = ComponentTier.objects.filter(component=component).first()
        tier.rate = Decimal("0.5")
        with pytest.raises(PlanLockedError):
            tier.save()
        with pytest.raises(PlanLockedError):
            ComponentTier(component=component, lower=Decimal(3), rate=Decimal("0.2")).save()
        assert ComponentTier.objects.get(pk=tier.pk).rate == Decimal("0.08")


def test_a_draft_can_change_until_it_is_published(tenant_a):
    with tenant_context(tenant_a):
        draft = make_draft()
        draft.name = "Renamed draft"
        draft.save()
        component = Component.objects.get(code="ae-new-logo")
        component.spiff_per_deal = Decimal("750.00")
        component.save()
        assert plan_version_to_engine(version=draft).components[1].formula.per_deal == \
            Decimal("750.00")


def test_a_new_version_copies_the_previous_one_as_a_draft(tenant_a):
    with tenant_context(tenant_a):
        first = plan_version_publish(version=make_draft())
        second = plan_version_new_from(version=first, valid_from=JUL)
        assert second.number == 2
        assert second.status == VersionStatus.DRAFT
        assert second.copied_from == first
        assert plan_version_to_engine(version=second).components == AE_PLAN.components
        # Both use the same library rows: copying a version copies no component.
        assert Component.objects.count() == 2


def test_publishing_a_successor_ends_the_open_version_the_day_it_starts(tenant_a):
    with tenant_context(tenant_a):
        first = plan_version_publish(version=make_draft())
        second = plan_version_publish(version=plan_version_new_from(version=first,
                                                                    valid_from=JUL))
        first.refresh_from_db()
        assert first.valid_to == JUL
        assert version_in_force(plan=first.plan, on=datetime.date(2026, 6, 30)) == first
        assert version_in_force(plan=first.plan, on=JUL) == second
        assert version_in_force(plan=first.plan, on=datetime.date(2025, 12, 31)) is None


def test_a_version_starting_before_the_one_in_force_is_refused(tenant_a):
    with tenant_context(tenant_a):
        first = plan_version_publish(version=make_draft(valid_from=JUL))
        early = plan_version_new_from(version=first, valid_from=JAN)
        with pytest.raises(ValidationError) as caught:
            plan_version_publish(version=early)
        assert any(f"{first} is in force from {JUL}" in m for m in caught.value.messages)
        early.refresh_from_db()
        assert early.status == VersionStatus.DRAFT


def test_publishing_lists_every_problem_with_its_path_and_changes_nothing(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_create(code="BROKEN", name="Broken")
        # Rows written past the services, as a bad migration or a raw import might leave them.
        table = Component.objects.create(code="rates", kind="rate_table")
        ComponentTier.objects.create(component=table, lower=Decimal(0), upper=Decimal(1),
                                     rate=Decimal("0.08"))
        ComponentTier.objects.create(component=table, lower=Decimal("1.1"),
                                     rate=Decimal("-0.02"))
        draft = plan_version_create(plan=plan, components=[table])
        with pytest.raises(ValidationError) as caught:
            plan_version_publish(version=draft)
        messages = caught.value.messages
        assert "components[0].tiers[1].rate: must be ≥ 0" in messages
        assert "components[0].tiers[1].from: leaves a gap after tiers[0], which ends at 100%" \
            in messages
        assert "valid_from: a version needs a first day in force to be published" in messages
        draft.refresh_from_db()
        assert draft.status == VersionStatus.DRAFT


def test_an_empty_draft_cannot_be_published(tenant_a):
    with tenant_context(tenant_a):
        draft = plan_version_create(plan=plan_create(code="EMPTY", name="Empty"),
                                    valid_from=JAN)
        with pytest.raises(ValidationError, match="at least one component"):
            plan_version_publish(version=draft)


def test_one_component_serves_several_plans(tenant_a):
    with tenant_context(tenant_a):
        shared = component_create(component=AE_NEW_LOGO)
        ae = plan_version_create(plan=plan_create(code="AE", name="AE"), components=[shared],
                                 valid_from=JAN)
        sdr = plan_version_create(plan=plan_create(code="SDR", name="SDR"),
                                  components=[shared], valid_from=JAN)
        plan_version_publish(version=ae)
        assert plan_version_to_engine(version=sdr).components == (AE_NEW_LOGO,)
        shared.refresh_from_db()
        assert shared.is_locked()


def test_a_new_revision_of_a_frozen_component_replaces_it_in_a_draft(tenant_a):
    with tenant_context(tenant_a):
        first = plan_version_publish(version=make_draft())
        draft = plan_version_new_from(version=first, valid_from=JUL)
        frozen = Component.objects.get(code="ae-commission")
        revised = component_revise(component=frozen, replace_in=draft)
        assert (revised.code, revised.revision) == ("ae-commission", 2)
        ComponentTier.objects.filter(component=revised, lower=0).update(rate=Decimal("0.09"))
        rates = [t.rate for t in plan_version_to_engine(version=draft).components[0]
                 .formula.tiers]
        assert rates == [Decimal("0.09"), Decimal("0.12"), Decimal("0.15")]
        assert plan_version_to_engine(version=first).components[0] == AE_COMMISSION


# -- plan documents ----------------------------------------------------------------------------


def export(tenant, plan="AE-2026", version=1) -> str:
    out = io.StringIO()
    call_command("plan_export", tenant=tenant.slug, plan=plan, number=version, stdout=out)
    return out.getvalue()


def import_(tenant, text: str, tmp_path, name="plan.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("plan_import", tenant=tenant.slug, file=str(path), stdout=out)
    return out.getvalue()


def test_export_then_import_then_export_gives_the_same_document(tenant_a, tenant_b, tmp_path):
    with tenant_context(tenant_a):
        plan_version_publish(version=make_draft())
    first = export(tenant_a)
    assert first == dump_plan(dataclasses.replace(AE_PLAN, version=1))
    assert "Created draft AE-2026 v1" in import_(tenant_b, first, tmp_path)
    assert export(tenant_b) == first


def test_importing_into_the_same_tenant_reuses_equal_components_and_takes_the_next_number(
    tenant_a, tmp_path
):
    with tenant_context(tenant_a):
        plan_version_publish(version=make_draft())
    document = export(tenant_a)
    assert "Created draft AE-2026 v2" in import_(tenant_a, document, tmp_path)
    second = export(tenant_a, version=2)
    assert second == document.replace("version: 1", "version: 2")
    with tenant_context(tenant_a):
        assert Component.objects.count() == 2


def test_an_edited_document_becomes_a_new_revision_of_the_changed_component(tenant_a,
                                                                            tmp_path):
    with tenant_context(tenant_a):
        plan_version_publish(version=make_draft())
    edited = export(tenant_a).replace("rate: 8%", "rate: 9%")
    import_(tenant_a, edited, tmp_path)
    with tenant_context(tenant_a):
        revisions = list(Component.objects.filter(code="ae-commission")
                         .values_list("revision", flat=True))
        assert revisions == [1, 2]
        draft = PlanVersion.objects.get(number=2)
        tiers = plan_version_to_engine(version=draft).components[0].formula.tiers
        assert tiers[0] == Tier(Decimal(0), Decimal(1), rate=Decimal("0.09"))
        assert Component.objects.filter(code="ae-new-logo").count() == 1


def test_a_document_with_errors_lists_every_one_with_its_path_and_saves_nothing(tenant_a,
                                                                               tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_DOCUMENT, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("plan_import", tenant=tenant_a.slug, file=str(path), stderr=err)
    assert caught.value.returncode == 1
    printed = err.getvalue().splitlines()
    assert f"{path}: components[0].tiers[1].rate: must be ≥ 0" in printed
    assert f"{path}: components[0].tiers[1].from: leaves a gap after tiers[0], which ends " \
           "at 100%" in printed
    assert f"{path}: components[1]: needs exactly one of `per_deal` or `per_unit` or " \
           "`percent` (found per_deal, percent)" in printed
    assert "nothing was saved" in str(caught.value)
    with tenant_context(tenant_a):
        assert not PlanVersion.objects.exists()
        assert not Component.objects.exists()


def test_values_finer_than_the_columns_keep_are_errors_with_their_path(tenant_a):
    fine = dataclasses.replace(AE_PLAN, components=(dataclasses.replace(
        AE_COMMISSION, formula=dataclasses.replace(
            AE_COMMISSION.formula, tiers=(Tier(Decimal(0), None,
                                               rate=Decimal("0.000000000001")),))),))
    with tenant_context(tenant_a), pytest.raises(PlanDocumentError) as caught:
        plan_version_import(document=fine)
    assert caught.value.errors == [
        "components[0].tiers[0].rate: has more decimal places than the 10 kept"]


def test_a_draft_exports_from_its_rows_and_a_published_version_from_its_document(tenant_a):
    with tenant_context(tenant_a):
        draft = make_draft()
        assert plan_version_document(version=draft) == dump_plan(
            dataclasses.replace(AE_PLAN, version=1))
        published = plan_version_publish(version=draft)
        assert plan_version_document(version=published) == published.document


def test_plan_export_names_a_missing_version(tenant_a):
    with pytest.raises(CommandError, match="has no version 4 of a plan coded 'AE-2026'"):
        call_command("plan_export", tenant=tenant_a.slug, plan="AE-2026", number=4)
