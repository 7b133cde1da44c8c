"""Plan assignments: who is on which plan when, and each assignment's prorated share of every
fiscal month under each plan version in force (the engine's assignment table)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

from compensation.models import (
    AssignmentPeriod,
    CompPlan,
    PlanAssignment,
    PlanVersion,
    VersionStatus,
)
from spm.org.models import Period, PeriodKind, Person
from spm.tenancy.actors import acting_user
from spm.tenancy.history import record_author

_FAR_FUTURE = pd.Timestamp("2999-12-31")


def _stamp(obj: Any, actor: Any) -> Any:
    record_author(obj, acting_user(actor))
    return obj


@transaction.atomic
def assignment_create(
    *,
    person: Person,
    plan: CompPlan,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    target_incentive: Decimal = Decimal("0.00"),
    notes: str = "",
    actor: Any = None,
    refresh_periods: bool = True,
) -> PlanAssignment:
    """Put `person` on `plan` from `valid_from`; refused when it overlaps another assignment.

    `refresh_periods=False` leaves the month shares to the caller, who rebuilds those of many
    assignments in one assignment_periods_refresh (an import: one rebuild per row would take
    most of its time).
    """
    # Serialise assignment writes per person so two overlapping requests cannot both pass.
    Person.objects.select_for_update().filter(pk=person.pk).first()
    assignment = PlanAssignment(person=person, plan=plan, valid_from=valid_from,
                                valid_to=valid_to, target_incentive=target_incentive,
                                notes=notes)
    assignment.full_clean()
    _stamp(assignment, actor).save()
    if refresh_periods:
        assignment_periods_refresh(assignments=[assignment])
    return assignment


@transaction.atomic
def assignment_change(*, assignment: PlanAssignment, actor: Any = None,
                      refresh_periods: bool = True, **changes: Any) -> PlanAssignment:
    """Change an assignment's plan, dates, target or notes, with the same checks as creating
    (`refresh_periods` as for assignment_create)."""
    allowed = {"plan", "valid_from", "valid_to", "target_incentive", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))} of an assignment.")
    Person.objects.select_for_update().filter(pk=assignment.person_id).first()
    for name, value in changes.items():
        setattr(assignment, name, value)
    assignment.full_clean()
    _stamp(assignment, actor).save()
    if refresh_periods:
        assignment_periods_refresh(assignments=[assignment])
    return assignment


def assignment_end(*, assignment: PlanAssignment, valid_to: datetime.date,
                   actor: Any = None, refresh_periods: bool = True) -> PlanAssignment:
    return assignment_change(assignment=assignment, valid_to=valid_to, actor=actor,
                             refresh_periods=refresh_periods)


def _month_targets(months: pd.DataFrame) -> pd.DataFrame:
    """Each month's position in its fiscal year and the year's month count."""
    months = months.sort_values("start_date").copy()
    months["ordinal"] = months.groupby("fiscal_year").cumcount() + 1
    months["year_months"] = months.groupby("fiscal_year")["id"].transform("size")
    return months


@transaction.atomic
def assignment_periods_refresh(
    *,
    assignments: Iterable[PlanAssignment] | None = None,
    plans: Iterable[CompPlan] | None = None,
) -> int:
    """Rebuild the month shares of the given assignments (or of every assignment of `plans`,
    or of all); returns how many rows were written. A constant number of queries.

    A month's share covers the days the assignment and one published version are both in
    force; its target is the yearly target spread over the fiscal year's months to the cent
    (the first months take the leftover cents), so a full year adds up exactly.
    """
    chosen = PlanAssignment.objects.all()
    if assignments is not None:
        chosen = chosen.filter(pk__in=[a.pk for a in assignments])
    if plans is not None:
        chosen = chosen.filter(plan_id__in=[p.pk for p in plans])
    rows = pd.DataFrame.from_records(
        chosen.values_list("id", "plan_id", "valid_from", "valid_to", "target_incentive"),
        columns=["assignment_id", "plan_id", "a_from", "a_to", "target"])
    AssignmentPeriod.objects.filter(assignment_id__in=rows["assignment_id"].tolist()).delete()
    if rows.empty:
        return 0
    first = min(rows["a_from"])
    open_ended = rows["a_to"].isna().any()
    months = Period.objects.filter(kind=PeriodKind.MONTH, end_date__gt=first)
    if not open_ended:
        months = months.filter(start_date__lt=max(rows["a_to"]))
    month_frame = pd.DataFrame.from_records(
        months.values_list("id", "fiscal_year", "start_date", "end_date"),
        columns=["id", "fiscal_year", "start_date", "end_date"])
    if month_frame.empty:
        return 0
    # Month ordinals need the whole fiscal year, not only the months in range.
    year_months = _month_targets(pd.DataFrame.from_records(
        Period.objects.filter(kind=PeriodKind.MONTH,
                              fiscal_year__in=month_frame["fiscal_year"].unique().tolist())
        .values_list("id", "fiscal_year", "start_date"),
        columns=["id", "fiscal_year", "start_date"]))
    month_frame = month_frame.merge(year_months[["id", "ordinal", "year_months"]], on="id")
    versions = pd.DataFrame.from_records(
        PlanVersion.objects.filter(plan_id__in=rows["plan_id"].unique().tolist(),
                                   status=VersionStatus.PUBLISHED)
        .values_list("id", "plan_id", "valid_from", "valid_to"),
        columns=["version_id", "plan_id", "v_from", "v_to"])
    if versions.empty:
        return 0

    frame = rows.merge(versions, on="plan_id").merge(month_frame, how="cross")
    for column in ("a_from", "a_to", "v_from", "v_to", "start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).fillna(_FAR_FUTURE)
    start = frame[["a_from", "v_from", "start_date"]].max(axis=1)
    end = frame[["a_to", "v_to", "end_date"]].min(axis=1)
    frame = frame.assign(slice_from=start, slice_to=end)
    frame = frame[frame["slice_to"] > frame["slice_from"]]
    if frame.empty:
        return 0
    days = (frame["slice_to"] - frame["slice_from"]).dt.days.to_numpy(dtype=np.int64)
    period_days = (frame["end_date"] - frame["start_date"]).dt.days.to_numpy(dtype=np.int64)
    yearly_cents = np.array([int(t.scaleb(2)) for t in frame["target"]], dtype=np.int64)
    n = frame["year_months"].to_numpy(dtype=np.int64)
    ordinal = frame["ordinal"].to_numpy(dtype=np.int64)
    month_cents = yearly_cents // n + (ordinal <= yearly_cents % n)
    written = AssignmentPeriod.objects.bulk_create([
        AssignmentPeriod(
            assignment_id=int(a), period_id=int(p), version_id=int(v),
            valid_from=s.date(), valid_to=e.date(), days=int(d), period_days=int(pd_),
            target_incentive=Decimal(int(c)).scaleb(-2),
        )
        for a, p, v, s, e, d, pd_, c in zip(
            frame["assignment_id"], frame["id"], frame["version_id"], frame["slice_from"],
            frame["slice_to"], days, period_days, month_cents, strict=True)
    ], batch_size=2000)
    return len(written)


def assignment_periods_ensure(*, month: Period) -> int:
    """Build the month's shares when assignments cover it but none were built, as after the
    periods of a new fiscal year are generated (two queries when nothing is missing)."""
    if AssignmentPeriod.objects.filter(period=month).exists():
        return 0
    covering = PlanAssignment.objects.overlapping(month.start_date, month.end_date)
    if not covering.exists():
        return 0
    return assignment_periods_refresh(assignments=list(covering.only("pk")))


def assignments_overlapping(*, person: Person, valid_from: datetime.date,
                            valid_to: datetime.date | None) -> list[PlanAssignment]:
    clash = PlanAssignment.objects.filter(person=person).overlapping(valid_from, valid_to)
    return list(clash.select_related("plan"))
