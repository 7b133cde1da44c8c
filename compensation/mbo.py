"""MBO scores on the scoring pages: which windows a payee is scored for in a period, and entering,
changing or clearing a score (audited, refused once its window is locked). Calculation runs read
the scores through compensation.selectors.mbo_scores_frame.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from compensation.models import (
    AssignmentPeriod,
    Component,
    MboScore,
    PlanVersionComponent,
    window_label,
)
from spm.org.models import Period, PeriodKind, PeriodStatus, Person
from spm.tenancy.actors import acting_user


@dataclass
class MboWindow:
    """One score to enter: a payee's MBO component in one window, and the score so far."""

    person: Person
    component: Component
    window: Period
    score: MboScore | None
    locked: bool

    @property
    def label(self) -> str:
        """The window as the engine and the statements' lines name it."""
        return window_label(self.window)

    @property
    def terms(self) -> str:
        """What the score pays, as the component says: "20% of target, score counted up to
        120%"."""
        weight, most = self.component.mbo_weight, self.component.mbo_max_score
        text = f"{_percent(weight)} of target" if weight is not None else "no weight set"
        # The engine counts a score up to 100% unless the component says otherwise.
        return f"{text}, score counted up to {_percent(most or Decimal(1))}"

    @property
    def key(self) -> str:
        """Stable between showing the form and posting it: the engine knows a component by its
        code, so a new revision of the component keeps the same key."""
        return f"w{self.window.pk}-{self.component.code}"


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}%"


def mbo_windows(*, period: Period, person_ids: Iterable[int] | None) -> list[MboWindow]:
    """Every MBO window to score for the people given (None: everyone) in `period`.

    A person is scored for a component in a window when, in a month of `period`, they are on a
    plan version using that component; the window is the component's month, quarter or year
    holding the month, so a quarterly component shows up in the quarter's months too. When the
    plan changes revision inside a window, the component of the window's latest month is the
    one shown. Six queries, however many people.
    """
    shares = AssignmentPeriod.objects.filter(
        period__kind=PeriodKind.MONTH, period__start_date__gte=period.start_date,
        period__end_date__lte=period.end_date)
    if person_ids is not None:
        shares = shares.filter(assignment__person_id__in=list(person_ids))
    assigned = set(shares.order_by().values_list("assignment__person_id", "period__start_date",
                                                 "version_id"))
    if not assigned:
        return []
    components_of: dict[int, list[Component]] = defaultdict(list)
    for link in (PlanVersionComponent.objects.select_related("component")
                 .filter(version_id__in={a[2] for a in assigned}, component__kind="mbo")):
        components_of[link.version_id].append(link.component)
    cadences = {c.period for components in components_of.values() for c in components}
    if not cadences:
        return []
    month_starts = {a[1] for a in assigned}
    window_of: dict[tuple[str, datetime.date], Period] = {}
    for window in Period.objects.filter(kind__in=cadences, start_date__lt=period.end_date,
                                        end_date__gt=period.start_date):
        for start in month_starts:
            if window.start_date <= start < window.end_date:
                window_of[(window.kind, start)] = window

    chosen: dict[tuple[int, str, int], tuple[tuple[datetime.date, int], Component, Period]] = {}
    for person_id, start, version_id in assigned:
        for component in components_of.get(version_id, ()):
            window = window_of.get((component.period, start))
            if window is None:  # the tenant has not generated that quarter or year
                continue
            key = (person_id, component.code, window.pk)
            rank = (start, component.revision)
            if key not in chosen or rank > chosen[key][0]:
                chosen[key] = (rank, component, window)
    if not chosen:
        return []

    people = Person.objects.in_bulk({k[0] for k in chosen})
    windows = {k[2] for k in chosen}
    scores = {(s.payee_id, s.component.code, s.period_id): s
              for s in MboScore.objects.select_related("component", "entered_by")
              .filter(payee_id__in={k[0] for k in chosen}, period_id__in=windows)}
    ends = {window.end_date for _, _, window in chosen.values()}
    locked_pay_months = set(Period.objects.filter(
        kind=PeriodKind.MONTH, status=PeriodStatus.LOCKED, end_date__in=ends,
    ).values_list("end_date", flat=True))
    rows = [
        MboWindow(person=people[person_id], component=component, window=window,
                  score=scores.get((person_id, code, window_id)),
                  locked=window.is_locked or window.end_date in locked_pay_months)
        for (person_id, code, window_id), (_, component, window) in chosen.items()
    ]
    rows.sort(key=lambda r: (r.person.name, r.person.pk, r.window.start_date,
                             r.window.end_date, r.component.code))
    return rows


def _stamp(obj: MboScore, actor: Any) -> MboScore:
    obj._history_user = acting_user(actor)
    return obj


@transaction.atomic
def mbo_score_set(*, payee: Person, component: Component, window: Period,
                  score_pct: Decimal | None, comment: str = "",
                  actor: Any = None) -> MboScore | None:
    """Enter or change `payee`'s score of `component` for `window`, or clear it (no score).

    A payee has one score per component code and window, so a score entered against an earlier
    revision of the component is the one changed. Nothing is written when nothing changes.
    Refused with a ValidationError naming the field (score_pct, period, component) when the
    score is out of range, the window is not one of the component's or it is locked.
    """
    existing = (MboScore.objects.select_for_update(of=("self",))
                .filter(payee=payee, period=window, component__code=component.code).first())
    if score_pct is None:
        if existing is not None:
            _stamp(existing, actor).delete()
        return None
    if existing is not None and (existing.component_id, existing.score_pct,
                                 existing.comment) == (component.pk, score_pct, comment):
        return existing
    score = existing or MboScore(payee=payee, period=window)
    score.component = component
    score.score_pct = score_pct
    score.comment = comment
    score.entered_by = acting_user(actor)
    score.full_clean()
    _stamp(score, actor).save()
    return score
