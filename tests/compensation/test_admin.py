"""The tenant admin of plans: the engine's rules shown on the field or inline row they name,
published versions and their components read-only, publishing and copying as actions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from compensation.models import (
    AssignmentPeriod,
    Component,
    ComponentTier,
    PlanAssignment,
    PlanVersion,
    VersionStatus,
)
from compensation.services import (
    component_create,
    plan_create,
    plan_version_create,
    plan_version_publish,
)
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import PersonFactory

from .samples import AE_COMMISSION, AE_NEW_LOGO, won_deal

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

PARTS = ("tiers", "curve_points", "milestones", "caps")


@pytest.fixture
def client(admin_a) -> Client:
    client = Client()
    client.force_login(admin_a)
    return client


def url(tenant, model: str, action: str, *args) -> str:
    return tenant_reverse(tenant, f"tenant_admin:compensation_{model}_{action}", *args)


def component_post(tiers=(), **fields) -> dict[str, str]:
    data = {"code": "ae-rates", "name": "Rates", "kind": "rate_table", "measure": "amount",
            "period": "month", "basis": "attainment", "method": "graduated",
            "evaluation": "cumulative", "draw_recoverable": "unknown",
            "filter_new_logo": "unknown", "clawback_method": ""}
    for part in PARTS:
        data.update({f"{part}-TOTAL_FORMS": "0", f"{part}-INITIAL_FORMS": "0",
                     f"{part}-MIN_NUM_FORMS": "0", f"{part}-MAX_NUM_FORMS": "1000"})
    data["tiers-TOTAL_FORMS"] = str(len(tiers))
    for i, (lower, upper, rate) in enumerate(tiers):
        data.update({f"tiers-{i}-lower": lower, f"tiers-{i}-upper": upper,
                     f"tiers-{i}-rate": rate, f"tiers-{i}-multiplier": ""})
    data.update(fields)
    return data


def tier_errors(response) -> list[dict[str, list[str]]]:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == "tiers":
            return [dict(form.errors) for form in inline.formset.forms]
    raise AssertionError("no tiers inline")


def test_a_gap_between_tiers_is_shown_on_the_tier_that_leaves_it(tenant_a, client):
    response = client.post(url(tenant_a, "component", "add"), component_post(
        tiers=[("0", "1", "0.08"), ("1.2", "", "0.12")]))
    assert response.status_code == 200
    assert tier_errors(response) == [
        {}, {"lower": ["leaves a gap after tiers[0], which ends at 100%"]}]
    with tenant_context(tenant_a):
        assert not Component.objects.exists()


def test_overlapping_tiers_and_a_negative_rate_are_shown_where_they_are(tenant_a, client):
    response = client.post(url(tenant_a, "component", "add"), component_post(
        tiers=[("0", "1", "-0.08"), ("0.9", "", "0.12")]))
    assert tier_errors(response) == [
        {"rate": ["must be ≥ 0"]}, {"lower": ["overlaps tiers[0], which ends at 100%"]}]


def test_a_rate_table_without_tiers_is_refused_on_the_tiers_inline(tenant_a, client):
    response = client.post(url(tenant_a, "component", "add"), component_post())
    assert response.status_code == 200
    tiers = next(i for i in response.context["inline_admin_formsets"]
                 if i.formset.prefix == "tiers")
    assert tiers.formset.non_form_errors() == ["a rate table needs at least one tier"]


def test_a_spiff_paying_two_ways_is_refused_on_the_component_form(tenant_a, client):
    response = client.post(url(tenant_a, "component", "add"), component_post(
        kind="spiff", code="spiff", spiff_per_deal="500", spiff_percent="0.02"))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "needs exactly one of `per_deal` or `per_unit` or `percent` (found per_deal, percent)"]


def test_a_valid_rate_table_is_saved_with_its_tiers_as_the_next_revision(tenant_a, client):
    with tenant_context(tenant_a):
        component_create(component=AE_COMMISSION.__class__(
            code="ae-rates", name="Old", formula=AE_COMMISSION.formula))
    response = client.post(url(tenant_a, "component", "add"), component_post(
        tiers=[("0", "1", "0.08"), ("1", "", "0.12")], filter_product_lines="Cloud, Security"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    with tenant_context(tenant_a):
        saved = Component.objects.get(code="ae-rates", revision=2)
        assert [(t.lower, t.rate) for t in saved.tiers.all()] == [
            (Decimal("0"), Decimal("0.08")), (Decimal("1"), Decimal("0.12"))]
        assert saved.filter_product_lines == ["Cloud", "Security"]


@pytest.fixture
def published(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_create(code="AE-2026", name="AE")
        version = plan_version_create(
            plan=plan, components=[component_create(component=AE_COMMISSION)],
            valid_from=datetime.date(2026, 1, 1))
        return plan_version_publish(version=version)


def test_a_published_version_opens_read_only_and_refuses_a_post(tenant_a, client, published):
    page = client.get(url(tenant_a, "planversion", "change", published.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert "published and never changes" in page.content.decode()
    assert client.post(url(tenant_a, "planversion", "change", published.pk),
                       {"name": "Changed"}).status_code == 403
    assert client.post(url(tenant_a, "planversion", "delete", published.pk),
                       {"post": "yes"}).status_code == 403


def test_a_component_of_a_published_version_opens_read_only(tenant_a, client, published):
    with tenant_context(tenant_a):
        component = Component.objects.get(code="ae-commission")
    page = client.get(url(tenant_a, "component", "change", component.pk))
    assert page.context["has_change_permission"] is False
    assert all(not inline.has_change_permission
               for inline in page.context["inline_admin_formsets"])
    assert client.post(url(tenant_a, "component", "change", component.pk),
                       component_post()).status_code == 403


def test_the_publish_action_publishes_a_draft_and_lists_what_stops_another(tenant_a, client):
    with tenant_context(tenant_a):
        ready = plan_version_create(plan=plan_create(code="SDR", name="SDR"),
                                    components=[component_create(component=AE_NEW_LOGO)],
                                    valid_from=datetime.date(2026, 1, 1))
        undated = plan_version_create(plan=plan_create(code="MGR", name="Managers"))
    response = client.post(url(tenant_a, "planversion", "changelist"), {
        "action": "publish", "_selected_action": [ready.pk, undated.pk]}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert "Published SDR v1, in force from 2026-01-01." in shown
    assert any("MGR v1 cannot be published" in m and "a plan version needs at least one "
               "component" in m and "valid_from: a version needs a first day" in m
               for m in shown)
    with tenant_context(tenant_a):
        assert PlanVersion.objects.get(pk=ready.pk).status == VersionStatus.PUBLISHED
        assert PlanVersion.objects.get(pk=undated.pk).status == VersionStatus.DRAFT


def test_the_new_draft_action_copies_a_published_version(tenant_a, client, published):
    client.post(url(tenant_a, "planversion", "changelist"),
                {"action": "new_draft", "_selected_action": [published.pk]})
    with tenant_context(tenant_a):
        draft = PlanVersion.objects.get(number=2)
        assert draft.status == VersionStatus.DRAFT
        assert list(draft.component_links.values_list("component__code", flat=True)) == [
            "ae-commission"]


def test_a_version_cannot_use_two_revisions_of_one_component_code(tenant_a, client):
    with tenant_context(tenant_a):
        plan = plan_create(code="AE", name="AE")
        first = component_create(component=AE_NEW_LOGO)
        second = component_create(component=AE_NEW_LOGO)
        draft = plan_version_create(plan=plan)
    data = {"plan": plan.pk, "name": "", "valid_from": "", "valid_to": "", "notes": "",
            "component_links-TOTAL_FORMS": "2", "component_links-INITIAL_FORMS": "0",
            "component_links-MIN_NUM_FORMS": "0", "component_links-MAX_NUM_FORMS": "1000",
            "component_links-0-position": "0", "component_links-0-component": first.pk,
            "component_links-1-position": "1", "component_links-1-component": second.pk}
    response = client.post(url(tenant_a, "planversion", "change", draft.pk), data)
    assert response.status_code == 200
    links = next(i for i in response.context["inline_admin_formsets"]
                 if i.formset.prefix == "component_links")
    assert links.formset.forms[1].errors["component"] == [
        "'ae-new-logo' is already used by components[0]"]


def test_splits_that_do_not_add_up_to_100_are_refused(tenant_a, client):
    with tenant_context(tenant_a):
        deal = won_deal()
        ann, bob = PersonFactory(), PersonFactory()
    data = {"deal": deal.pk, "reason": "Joint pursuit",
            "splits-TOTAL_FORMS": "2", "splits-INITIAL_FORMS": "0",
            "splits-MIN_NUM_FORMS": "0", "splits-MAX_NUM_FORMS": "1000",
            "splits-0-person": ann.pk, "splits-0-percent": "60",
            "splits-1-person": bob.pk, "splits-1-percent": "30"}
    response = client.post(url(tenant_a, "dealsplitset", "add"), data)
    assert response.status_code == 200
    splits = next(i for i in response.context["inline_admin_formsets"]
                  if i.formset.prefix == "splits")
    assert splits.formset.non_form_errors() == [
        "The splits add up to 90%, not 100%: a deal's credit is split in full, no more and "
        "no less."]
    data["splits-1-percent"] = "40"
    assert client.post(url(tenant_a, "dealsplitset", "add"), data).status_code == 302


def test_an_overlapping_assignment_is_refused_and_a_new_one_gets_its_month_shares(
    tenant_a, client, published
):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        person = PersonFactory(name="Ada Ames")
    data = {"person": person.pk, "plan": published.plan_id, "valid_from": "2026-01-01",
            "valid_to": "", "target_incentive": "24000.00", "notes": ""}
    assert client.post(url(tenant_a, "planassignment", "add"), data).status_code == 302
    with tenant_context(tenant_a):
        assignment = PlanAssignment.objects.get(person=person)
        assert AssignmentPeriod.objects.filter(assignment=assignment).count() == 12
    again = client.post(url(tenant_a, "planassignment", "add"), {**data,
                                                                 "valid_from": "2026-05-01"})
    assert again.status_code == 200
    assert again.context["adminform"].form.errors["valid_from"] == [
        "Ada Ames is already on AE-2026 from 2026-01-01 with no end date; a person holds one "
        "plan at a time. End that assignment first."]


def test_finance_sees_plans_but_changes_nothing(tenant_a, make_member, published):
    finance = Client()
    finance.force_login(make_member(tenant_a, "finance", username="fin"))
    with tenant_context(tenant_a):
        tier = ComponentTier.objects.first()
    assert finance.get(url(tenant_a, "planversion", "changelist")).status_code == 200
    assert finance.get(url(tenant_a, "component", "add")).status_code == 403
    assert finance.post(url(tenant_a, "planversion", "changelist"), {
        "action": "new_draft", "_selected_action": [published.pk]}).status_code in (200, 302)
    with tenant_context(tenant_a):
        assert PlanVersion.objects.count() == 1
        assert ComponentTier.objects.get(pk=tier.pk).rate == tier.rate


def test_tiers_read_as_percentages_and_money_never_as_raw_decimals(tenant_a, client, published):
    with tenant_context(tenant_a):
        component = Component.objects.get(code="ae-commission")
        spiff = component_create(component=AE_NEW_LOGO)
        amounts = component_create(component=AE_COMMISSION.__class__(
            code="by-amount", name="By amount", formula=AE_COMMISSION.formula.__class__(
                tiers=(AE_COMMISSION.formula.tiers[0].__class__(
                    Decimal("0"), Decimal("40000"), rate=Decimal("0.05")),
                    AE_COMMISSION.formula.tiers[0].__class__(
                        Decimal("40000"), None, rate=Decimal("0.075"))),
                basis="amount")))
    page = client.get(url(tenant_a, "component", "change", component.pk)).content.decode()
    for text in ("0% \u2013 100%: 8%", "100% \u2013 150%: 12%", "150% and above: 15%"):
        assert text in page
    assert "0E-10" not in page
    assert "0.0800000000" not in page
    assert "at most 2 x target incentive per year" in page
    by_amount = client.get(url(tenant_a, "component", "change", amounts.pk)).content.decode()
    assert "0 \u2013 40,000: 5%" in by_amount
    assert "40,000 and above: 7.5%" in by_amount
    version_page = client.get(url(tenant_a, "planversion", "change", published.pk))
    assert "graduated, attainment: 0% \u2013 100%: 8%; 100% \u2013 150%: 12%" in (
        version_page.content.decode())
    with tenant_context(tenant_a):
        assert str(component.tiers.first()) == "0 to 1"
        assert str(spiff) == "ae-new-logo r1"
