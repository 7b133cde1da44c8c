"""Plan versioning: drafts, publishing (after which a version never changes), new versions made
from published ones, component revisions, and plan documents imported as drafts."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from compensation.engine.plans import Component as EngineComponent
from compensation.engine.plans import PlanVersion as EnginePlan
from compensation.engine.plans import validate_plan
from compensation.models import (
    Component,
    ComponentCap,
    ComponentCurvePoint,
    ComponentMilestone,
    ComponentTier,
    CompPlan,
    CreditDateField,
    PlanVersion,
    PlanVersionComponent,
    VersionStatus,
)
from compensation.plan_documents import PlanDocumentError, dump_plan
from compensation.plan_rows import (
    ComponentRows,
    ComponentValues,
    component_from_engine,
    component_to_engine,
    row_errors,
    storage_errors,
    version_to_engine,
)
from compensation.selectors import component_rows_of
from spm.tenancy.actors import acting_user
from spm.tenancy.dating import ranges_overlap, span_text
from spm.tenancy.history import record_author


def _stamp(obj: Any, actor: Any) -> Any:
    record_author(obj, acting_user(actor))
    return obj


# -- checking --------------------------------------------------------------------------------


def plan_version_errors(*, version: PlanVersion) -> list[str]:
    """Every reason the version cannot be published, as `path: message` (engine rules first)."""
    rows = component_rows_of(version)
    errors = list(validate_plan(version_to_engine(version, rows)))
    for index, component in enumerate(rows):
        errors.extend(row_errors(component, f"components[{index}]"))
    return errors


# -- plans and drafts ------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, code: str, name: str, description: str = "",
                credit_date_field: str = CreditDateField.CLOSE_DATE,
                actor: Any = None) -> CompPlan:
    plan = CompPlan(code=code, name=name, description=description,
                    credit_date_field=credit_date_field)
    plan.full_clean()
    _stamp(plan, actor).save()
    return plan


def _next_number(plan: CompPlan) -> int:
    return (PlanVersion.objects.filter(plan=plan).aggregate(n=Max("number"))["n"] or 0) + 1


@transaction.atomic
def plan_version_create(
    *,
    plan: CompPlan,
    components: Sequence[Component] = (),
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
    name: str = "",
    number: int | None = None,
    actor: Any = None,
) -> PlanVersion:
    """A new draft version of `plan` using `components` in that order."""
    CompPlan.objects.select_for_update().filter(pk=plan.pk).first()
    version = PlanVersion(plan=plan, number=number or _next_number(plan), name=name,
                          valid_from=valid_from, valid_to=valid_to)
    version.full_clean()
    _stamp(version, actor).save()
    plan_version_set_components(version=version, components=components, actor=actor)
    return version


@transaction.atomic
def plan_version_set_components(*, version: PlanVersion, components: Sequence[Component],
                                 actor: Any = None) -> None:
    """Make `components` (in order) the draft's list; refused once the version is published."""
    if version.stored_status() == VersionStatus.PUBLISHED:
        raise version.locked_error()
    codes = [c.code for c in components]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ValidationError(f"A version uses each component code once; repeated: "
                              f"{', '.join(repeated)}.")
    for link in PlanVersionComponent.objects.filter(version=version):
        _stamp(link, actor).delete()
    for position, component in enumerate(components):
        _stamp(PlanVersionComponent(version=version, component=component, position=position),
               actor).save()


@transaction.atomic
def plan_version_new_from(*, version: PlanVersion, valid_from: datetime.date | None = None,
                          actor: Any = None) -> PlanVersion:
    """A draft copying `version`: same name, notes and components, the next number."""
    components = [rows.component for rows in component_rows_of(version)]
    draft = plan_version_create(plan=version.plan, components=components,
                                valid_from=valid_from, name=version.name, actor=actor)
    draft.copied_from = version
    draft.notes = version.notes
    _stamp(draft, actor).save(update_fields=["copied_from", "notes"])
    return draft


# -- publishing ------------------------------------------------------------------------------


def _date_errors(version: PlanVersion, published: list[PlanVersion]) -> tuple[list[str],
                                                                              PlanVersion | None]:
    """Problems with the version's dates among the plan's published versions, and the open
    version it would end."""
    if version.valid_from is None:
        return ["valid_from: a version needs a first day in force to be published"], None
    if version.valid_to is not None and version.valid_to <= version.valid_from:
        return ["valid_to: must be after valid_from"], None
    start, end = version.valid_from, version.valid_to
    errors = []
    ended = None
    for other in published:
        assert other.valid_from is not None  # published versions have a first day in force
        if not ranges_overlap(other.valid_from, other.valid_to, start, end):
            continue
        runs_past = end is not None and (other.valid_to is None or other.valid_to > end)
        if other.valid_from < start and not runs_past:
            ended = other  # it ends the day this version starts
            continue
        errors.append(f"valid_from: {other} is in force "
                      f"{span_text(other.valid_from, other.valid_to)}, which "
                      f"overlaps {start} to {end or 'open'}; a new version must start after "
                      "the versions in force and run to their end")
    return errors, ended


@transaction.atomic
def plan_version_publish(*, version: PlanVersion, actor: Any = None) -> PlanVersion:
    """Publish a draft: check it, end the open version it follows, freeze it.

    Raises ValidationError listing every problem (`path: message`), having changed nothing.
    """
    CompPlan.objects.select_for_update().filter(pk=version.plan_id).first()
    version = PlanVersion.objects.select_related("plan").get(pk=version.pk)
    if version.is_published:
        raise version.locked_error()
    errors = plan_version_errors(version=version)
    published = list(PlanVersion.objects.filter(plan=version.plan_id,
                                                status=VersionStatus.PUBLISHED))
    date_errors, ended = _date_errors(version, published)
    errors.extend(date_errors)
    if errors:
        raise ValidationError(errors)
    if ended is not None:
        ended.valid_to = version.valid_from
        ended._ending = True  # type: ignore[attr-defined]  # PlanVersion.save reads this flag
        _stamp(ended, actor).save(update_fields=["valid_to"])
    engine = version_to_engine(version, component_rows_of(version))
    document = dump_plan(engine)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = acting_user(actor)
    version.document = document
    version.fingerprint = hashlib.sha256(document.encode()).hexdigest()
    _stamp(version, actor).save()
    from .assignments import assignment_periods_refresh

    assignment_periods_refresh(plans=[version.plan])
    return version


# -- components ------------------------------------------------------------------------------


def _create_component(values: ComponentValues, revision: int, actor: Any) -> Component:
    component = Component(revision=revision, **values.fields)
    _stamp(component, actor).save()
    for model, rows in ((ComponentTier, values.tiers), (ComponentCurvePoint, values.points),
                        (ComponentMilestone, values.milestones), (ComponentCap, values.caps)):
        for row in rows:  # one by one, in order: caps keep their order by primary key
            _stamp(model(component=component, **row), actor).save()
    return component


def _next_revision(code: str) -> int:
    return (Component.objects.filter(code=code).aggregate(n=Max("revision"))["n"] or 0) + 1


@transaction.atomic
def component_create(*, component: EngineComponent, actor: Any = None) -> Component:
    """A new library component (the next revision of its code) from the engine's dataclass."""
    path = "components[0]"
    values = component_from_engine(component)
    errors = list(validate_plan(EnginePlan(plan="library", version=1,
                                           components=(component,))))
    errors += storage_errors(values, path)
    if errors:
        raise ValidationError(errors)
    return _create_component(values, _next_revision(component.code), actor)


@transaction.atomic
def component_revise(*, component: Component, replace_in: PlanVersion | None = None,
                     actor: Any = None) -> Component:
    """A copy of `component` as the next revision of its code, free to change; when
    `replace_in` (a draft) uses the old one, it uses the copy instead."""
    rows = ComponentRows.of(component)
    values = component_from_engine(component_to_engine(rows))
    revised = _create_component(values, _next_revision(component.code), actor)
    if replace_in is not None:
        link = PlanVersionComponent.objects.filter(version=replace_in,
                                                   component=component).first()
        if link is not None:
            link.component = revised
            _stamp(link, actor).save()
    return revised


# -- plan documents --------------------------------------------------------------------------


def _library_match(component: EngineComponent,
                   existing: dict[str, list[Component]]) -> Component | None:
    for candidate in existing.get(component.code, []):
        if component_to_engine(ComponentRows.of(candidate)) == component:
            return candidate
    return None


@transaction.atomic
def plan_version_import(*, document: EnginePlan, valid_from: datetime.date | None = None,
                        actor: Any = None) -> PlanVersion:
    """A draft version from a plan document (creating the plan on first use).

    Components equal to a library component of the same code reuse it; others become the next
    revision of their code. The document's version number is kept when the plan does not have
    it yet. Raises PlanDocumentError listing every problem, having saved nothing.
    """
    errors = list(validate_plan(document))
    if document.version < 1:
        errors.insert(0, "version: must be 1 or more")
    for index, component in enumerate(document.components):
        errors += storage_errors(component_from_engine(component), f"components[{index}]")
    plan_code_problem = _plan_code_error(document.plan)
    if plan_code_problem:
        errors.insert(0, f"plan: {plan_code_problem}")
    if errors:
        raise PlanDocumentError(errors)
    plan = CompPlan.objects.select_for_update().filter(code=document.plan).first()
    if plan is None:
        plan = plan_create(code=document.plan, name=document.name or document.plan,
                           actor=actor)
    codes = [c.code for c in document.components]
    existing: dict[str, list[Component]] = {}
    for component in (Component.objects.filter(code__in=codes)
                      .prefetch_related("tiers", "curve_points", "milestones", "caps")
                      .order_by("code", "-revision")):
        existing.setdefault(component.code, []).append(component)
    chosen = []
    for component in document.components:
        match = _library_match(component, existing)
        if match is None:
            match = component_create(component=component, actor=actor)
        chosen.append(match)
    taken = PlanVersion.objects.filter(plan=plan, number=document.version).exists()
    return plan_version_create(plan=plan, components=chosen, valid_from=valid_from,
                               name=document.name, number=None if taken else document.version,
                               actor=actor)


def _plan_code_error(code: str) -> str | None:
    field = CompPlan._meta.get_field("code")
    try:
        field.run_validators(code)
        if field.max_length is not None and len(code) > field.max_length:
            raise ValidationError(f"is longer than {field.max_length} characters")
    except ValidationError as exc:
        return "; ".join(exc.messages)
    return None


