"""Input tables checked and turned into integer arrays: credits, quotas, assignments, MBO scores.

Every problem found is collected and raised at once as EngineInputError. Credits are put in
accumulation order (payee, base period, credit date, credit id) and matched to the one plan
assignment that covers them; a credit no assignment covers is reported, never dropped quietly.
"""

# Over 500 lines on purpose: every input table is checked here so that prepare() reports all
# problems at once, and the table checks share the column readers (_missing, _integers, _days)
# that clawbacks and draws import from here too.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from .calendar import Calendar
from .exact import SAFE_BOUND, exact_fraction, half_up_div, to_int64
from .plans import Component, PlanVersion

CREDIT_COLUMNS = ("credit_id", "payee_id", "deal_id", "period", "credit_date", "amount_cents")
QUOTA_COLUMNS = ("payee_id", "period", "quota_cents")
QUOTA_COLUMN_OF = {"amount": "quota_cents", "units": "quota_units",
                   "margin": "quota_margin_cents"}
ASSIGNMENT_COLUMNS = ("payee_id", "period", "plan")
MBO_COLUMNS = ("payee_id", "component", "window", "score_pct")
MEASURE_COLUMN = {"amount": "amount_cents", "units": "units", "margin": "margin_cents"}


class EngineInputError(ValueError):
    """The input tables cannot be computed; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("The calculation inputs have errors:\n"
                         + "\n".join(f"  {e}" for e in self.errors))


def issue_rows(
    severity: str,
    code: str,
    message: str | np.ndarray,
    *,
    payee: np.ndarray,
    period: np.ndarray,
    plan: int | np.ndarray = -1,
    component: str = "",
    credit_row: np.ndarray | None = None,
) -> dict[str, object]:
    """A batch of issues as columns; `severity` "error" means money may be missing."""
    n = len(payee)
    return {
        "severity": severity,
        "code": code,
        "message": message,
        "payee": np.asarray(payee, dtype=np.int64),
        "period": np.asarray(period, dtype=np.int64),
        "plan": np.broadcast_to(np.asarray(plan, dtype=np.int64), (n,)),
        "component": component,
        "credit_row": (np.full(n, -1, dtype=np.int64) if credit_row is None
                       else np.asarray(credit_row, dtype=np.int64)),
    }


@dataclass
class Proration:
    """One plan's assignment rows: where each falls in the (payee, period) table, and its share."""

    flat: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray


@dataclass
class Prepared:
    calendar: Calendar
    plan_keys: tuple[str, ...]
    plans: tuple[PlanVersion, ...]
    payee_ids: np.ndarray  # payee code -> the caller's id
    # credits, in accumulation order
    credit_id: np.ndarray
    deal_id: np.ndarray
    payee: np.ndarray
    period: np.ndarray
    day: np.ndarray
    plan: np.ndarray  # plan index, -1 when no single assignment covers the credit
    columns: dict[str, np.ndarray]  # measure and attribute columns, in the same order
    # dense (payee, base period) tables
    quota: dict[str, tuple[np.ndarray, np.ndarray]]  # measure -> (quota, present)
    assigned: list[np.ndarray]  # per plan
    target_cents: list[np.ndarray]  # per plan, prorated and rounded per assignment row
    proration: list[Proration]  # per plan
    mbo: dict[tuple[int, str, str], Fraction]
    issues: list[dict[str, object]] = field(default_factory=list)

    @property
    def n_payees(self) -> int:
        return len(self.payee_ids)

    @property
    def n_periods(self) -> int:
        return len(self.calendar.periods)


def _missing(frame: pd.DataFrame, columns: tuple[str, ...] | list[str], table: str,
             errors: list[str]) -> bool:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        errors.append(f"{table}: missing column(s) {', '.join(absent)}")
    return bool(absent)


def _integers(frame: pd.DataFrame, column: str, table: str, errors: list[str]) -> np.ndarray:
    """An integer column as int64; floats are refused because money must be exact."""
    series = frame[column]
    if series.isna().any():
        errors.append(f"{table}.{column}: {int(series.isna().sum())} row(s) are empty")
        return np.zeros(len(series), dtype=np.int64)
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_integer_dtype(series):
        if series.dtype == object and all(isinstance(v, int | np.integer)
                                          and not isinstance(v, bool) for v in series):
            return series.astype(np.int64).to_numpy()
        errors.append(f"{table}.{column}: must hold whole numbers (integer cents or units), "
                      f"not {series.dtype}")
        return np.zeros(len(series), dtype=np.int64)
    return series.to_numpy(dtype=np.int64)


def _days(frame: pd.DataFrame, column: str, table: str, errors: list[str]) -> np.ndarray:
    try:
        values = pd.to_datetime(frame[column])
    except (ValueError, TypeError) as exc:
        errors.append(f"{table}.{column}: not a date ({exc})")
        return np.zeros(len(frame), dtype=np.int64)
    if values.isna().any():
        errors.append(f"{table}.{column}: {int(values.isna().sum())} row(s) are empty")
        return np.zeros(len(frame), dtype=np.int64)
    return values.to_numpy().astype("datetime64[D]").astype(np.int64)


def _fractions(values: pd.Series, table: str, column: str,
               errors: list[str]) -> list[Fraction]:
    out = []
    bad = 0
    for value in values:
        try:
            out.append(exact_fraction(value))
        except (TypeError, ValueError, ArithmeticError):
            bad += 1
            out.append(Fraction(0))
    if bad:
        errors.append(f"{table}.{column}: {bad} value(s) are not exact numbers (use int, "
                      f"Decimal, Fraction or text such as '15/31'; floats are refused)")
    return out


def columns_needed(plans: Mapping[str, PlanVersion]) -> set[str]:
    """Credit columns beyond the always-required ones that these plans read."""
    needed: set[str] = set()
    for plan in plans.values():
        for c in plan.components:
            if c.kind in ("mbo", "draw"):
                continue
            needed.add(MEASURE_COLUMN.get(c.measure, "amount_cents"))
            if c.kind == "spiff" and c.formula.per_unit is not None:  # type: ignore[union-attr]
                needed.add("units")
            needed |= _filter_columns(c)
    return needed


def _filter_columns(c: Component) -> set[str]:
    needed = set()
    f = c.filter
    if f is not None:
        if f.product_lines:
            needed.add("product_line")
        if f.deal_types:
            needed.add("deal_type")
        if f.new_logo is not None:
            needed.add("is_new_logo")
        if f.deal_amount_at_least is not None or f.deal_amount_below is not None:
            needed.add("deal_amount_cents")
        if f.closed_on_or_after is not None or f.closed_before is not None:
            needed.add("close_date")
    if c.gate is not None and c.gate.min_deal_amount is not None:
        needed.add("deal_amount_cents")
    return needed


def _columns_checked(plans: Mapping[str, PlanVersion], credits: pd.DataFrame,
                     quotas: pd.DataFrame, assignments: pd.DataFrame,
                     mbo_scores: pd.DataFrame | None) -> set[str]:
    """The optional credit columns the plans read; raises when a frame lacks a column."""
    errors: list[str] = []
    _missing(credits, CREDIT_COLUMNS, "credits", errors)
    _missing(quotas, QUOTA_COLUMNS, "quotas", errors)
    _missing(assignments, ASSIGNMENT_COLUMNS, "assignments", errors)
    if mbo_scores is not None:
        _missing(mbo_scores, MBO_COLUMNS, "mbo_scores", errors)
    needed = columns_needed(plans)
    _missing(credits, sorted(needed - set(CREDIT_COLUMNS)), "credits", errors)
    for measure in {c.measure for p in plans.values() for c in p.components if c.needs_quota()}:
        _missing(quotas, (QUOTA_COLUMN_OF[measure],), "quotas", errors)
    if errors:
        raise EngineInputError(errors)
    return needed


def _calendar_covering(credits: pd.DataFrame, quotas: pd.DataFrame,
                       assignments: pd.DataFrame) -> Calendar:
    """The calendar of every period the frames name, when the caller gives none."""
    keys = {str(k) for frame in (credits, quotas, assignments)
            for k in pd.unique(frame["period"].to_numpy())}
    try:
        return Calendar.covering(keys)
    except ValueError as exc:
        raise EngineInputError([str(exc)]) from exc


def _payees(credits: pd.DataFrame, assignments: pd.DataFrame,
            errors: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each credit's payee code, and the payee ids the codes index."""
    # Everyone credited or assigned, in sorted order so output order is stable.
    try:
        everyone = pd.concat([credits["payee_id"], assignments["payee_id"]], ignore_index=True)
        payee_codes, payee_ids = pd.factorize(everyone, sort=True)
    except TypeError as exc:
        raise EngineInputError([f"payee_id: ids must be all numbers or all text ({exc})"]) \
            from exc
    if (payee_codes < 0).any():
        errors.append("payee_id: some rows have no payee")
    credit_payee = payee_codes[: len(credits)].astype(np.int64)
    payee_ids = np.asarray(payee_ids)
    return credit_payee, payee_ids


def _credit_columns(credits: pd.DataFrame, needed: set[str],
                    errors: list[str]) -> dict[str, np.ndarray]:
    """The credit columns the plans read, as arrays in the credits' order; bad ids to `errors`."""
    columns: dict[str, np.ndarray] = {"amount_cents": _integers(credits, "amount_cents",
                                                                "credits", errors)}
    for name in ("units", "margin_cents", "deal_amount_cents"):
        if name in credits.columns and (name in needed or not credits[name].isna().any()):
            columns[name] = _integers(credits, name, "credits", errors)
    if "close_date" in credits.columns and "close_date" in needed:
        columns["close_day"] = _days(credits, "close_date", "credits", errors)
    for name in ("product_line", "deal_type"):
        if name in credits.columns:
            columns[name] = credits[name].to_numpy(dtype=object)
    if "is_new_logo" in credits.columns:
        flags = credits["is_new_logo"]
        if flags.isna().any() or not pd.api.types.is_bool_dtype(flags):
            if "is_new_logo" in needed:
                errors.append("credits.is_new_logo: must be true or false on every row")
        else:
            columns["is_new_logo"] = flags.to_numpy(dtype=bool)
    if credits["credit_id"].duplicated().any():
        dupes = credits.loc[credits["credit_id"].duplicated(), "credit_id"].head(5).tolist()
        errors.append(f"credits.credit_id: ids repeat ({', '.join(map(str, dupes))})")
    if credits["credit_id"].isna().any():
        errors.append("credits.credit_id: some rows have no id")
    return columns


def prepare(
    *,
    plans: Mapping[str, PlanVersion],
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    assignments: pd.DataFrame,
    mbo_scores: pd.DataFrame | None,
    calendar: Calendar | None,
) -> Prepared:
    needed = _columns_checked(plans, credits, quotas, assignments, mbo_scores)

    if calendar is None:
        calendar = _calendar_covering(credits, quotas, assignments)

    errors: list[str] = []
    plan_keys = tuple(plans)
    unknown_plans = sorted(set(assignments["plan"].astype(str)) - set(plan_keys))
    if unknown_plans:
        errors.append(f"assignments.plan: no plan given for {', '.join(unknown_plans[:5])}")
    credit_payee, payee_ids = _payees(credits, assignments, errors)

    credit_period = calendar.index_of(credits["period"])
    _unknown_periods(credits, credit_period, "credits", errors)
    plan_of_row, assignment_payee, assignment_period, target, share_num, share_den = \
        assignment_columns(assignments, calendar, plan_keys, pd.Index(payee_ids), errors)

    credit_day = _days(credits, "credit_date", "credits", errors)
    columns = _credit_columns(credits, needed, errors)

    quota = _quota_tables(quotas, calendar, payee_ids, errors)
    mbo = _mbo_scores(mbo_scores, payee_ids, errors)
    if errors:
        raise EngineInputError(errors)

    assigned, targets, proration = plan_tables(
        plan_of_row, assignment_payee, assignment_period, target, share_num, share_den,
        n_plans=len(plan_keys), n_payees=len(payee_ids), n_periods=len(calendar.periods))

    order = _accumulation_order(credits["credit_id"], credit_day, credit_period, credit_payee,
                                len(calendar.periods))
    issues: list[dict[str, object]] = []
    plan_of_credit = _match_assignments(
        credit_payee[order], credit_period[order], credit_day[order], assignments,
        assignment_payee, assignment_period, plan_of_row, len(calendar.periods), issues,
    )
    return Prepared(
        calendar=calendar,
        plan_keys=plan_keys,
        plans=tuple(plans.values()),
        payee_ids=payee_ids,
        credit_id=credits["credit_id"].to_numpy()[order],
        deal_id=credits["deal_id"].to_numpy()[order],
        payee=credit_payee[order],
        period=credit_period[order],
        day=credit_day[order],
        plan=plan_of_credit,
        columns={name: values[order] for name, values in columns.items()},
        quota=quota,
        assigned=assigned,
        target_cents=targets,
        proration=proration,
        mbo=mbo,
        issues=issues,
    )


def plan_tables(
    plan_of_row: np.ndarray, payee: np.ndarray, period: np.ndarray, target: np.ndarray,
    share_num: np.ndarray, share_den: np.ndarray, *, n_plans: int, n_payees: int,
    n_periods: int,
) -> tuple[list[np.ndarray], list[np.ndarray], list[Proration]]:
    """Per plan: who holds it when, the prorated target per base period, and the shares."""
    assigned, targets, proration = [], [], []
    for index in range(n_plans):
        rows = np.flatnonzero(plan_of_row == index)
        flat = payee[rows] * n_periods + period[rows]
        is_assigned = np.zeros(n_payees * n_periods, dtype=bool)
        is_assigned[flat] = True
        # Each assignment row's prorated target is rounded half-up to the cent on its own.
        num = target[rows].astype(object) * share_num[rows]
        prorated = to_int64(half_up_div(num, share_den[rows].astype(object)))
        target_table = np.zeros(n_payees * n_periods, dtype=np.int64)
        np.add.at(target_table, flat, prorated)
        assigned.append(is_assigned.reshape(n_payees, n_periods))
        targets.append(target_table.reshape(n_payees, n_periods))
        proration.append(Proration(flat, share_num[rows], share_den[rows]))
    return assigned, targets, proration


def assignment_columns(
    assignments: pd.DataFrame, calendar: Calendar, plan_keys: tuple[str, ...],
    payee_index: pd.Index, errors: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """plan index, payee code, period index, target cents and proration of each row."""
    if _missing(assignments, ASSIGNMENT_COLUMNS, "assignments", errors):
        raise EngineInputError(errors)
    plan_of_row = pd.Index(plan_keys).get_indexer(assignments["plan"].astype(str)).astype(
        np.int64)
    payee = payee_index.get_indexer(assignments["payee_id"]).astype(np.int64)
    period = calendar.index_of(assignments["period"].to_numpy())
    _unknown_periods(assignments, period, "assignments", errors)
    target = (_integers(assignments, "target_incentive_cents", "assignments", errors)
              if "target_incentive_cents" in assignments.columns
              else np.zeros(len(assignments), dtype=np.int64))
    if (target < 0).any():
        errors.append("assignments.target_incentive_cents: must be ≥ 0")
    share_num, share_den = _shares(assignments, errors)
    return plan_of_row, payee, period, target, share_num, share_den


def _shares(assignments: pd.DataFrame, errors: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each assignment row's proration as numerator and denominator (1/1 when not given)."""
    n = len(assignments)
    if "proration" not in assignments.columns:
        return np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    column = assignments["proration"]
    if pd.api.types.is_integer_dtype(column) and not column.isna().any():
        num, den = column.to_numpy(dtype=np.int64), np.ones(n, dtype=np.int64)
    else:
        values = _fractions(column, "assignments", "proration", errors)
        num = np.array([v.numerator for v in values], dtype=object)
        den = np.array([v.denominator for v in values], dtype=object)
        if max((abs(v) for v in [*num, *den]), default=0) >= SAFE_BOUND:
            errors.append("assignments.proration: fractions this fine cannot be exact here")
            return np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
        num, den = num.astype(np.int64), den.astype(np.int64)
    if ((num < 0) | (num > den)).any():
        errors.append("assignments.proration: must be between 0 and 1")
    return num, den


def _accumulation_order(ids: pd.Series, day: np.ndarray, period: np.ndarray,
                        payee: np.ndarray, n_periods: int) -> np.ndarray:
    """Credits sorted by payee, base period, credit date, then credit id."""
    if pd.api.types.is_integer_dtype(ids) and not pd.api.types.is_bool_dtype(ids):
        rank = ids.to_numpy(dtype=np.int64)
    else:
        try:
            rank = pd.factorize(ids, sort=True)[0].astype(np.int64)
        except TypeError:
            rank = pd.factorize(ids.astype(str), sort=True)[0].astype(np.int64)
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64)
    # One int64 key for all four when it fits: a single sort instead of a four-key lexsort.
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1
    first_rank = int(rank.min())
    ranks = int(rank.max()) - first_rank + 1
    if (int(payee.max(initial=0)) + 1) * max(n_periods, 1) * span * ranks < 2**62:
        key = ((payee * n_periods + period) * span + (day - first_day)) * ranks + (
            rank - first_rank)
        return np.argsort(key)  # keys are unique (credit ids are), so no tie to keep stable
    return np.lexsort((rank, day, period, payee))


def _unknown_periods(frame: pd.DataFrame, index: np.ndarray, table: str,
                     errors: list[str]) -> None:
    if (index < 0).any():
        unknown = sorted({str(k) for k in frame["period"].to_numpy()[index < 0]})
        errors.append(f"{table}.period: not in the calendar: {', '.join(unknown[:5])}")


def _quota_tables(quotas: pd.DataFrame, calendar: Calendar, payee_ids: np.ndarray,
                  errors: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    n_payees, n_periods = len(payee_ids), len(calendar.periods)
    period = calendar.index_of(quotas["period"].to_numpy())
    _unknown_periods(quotas, period, "quotas", errors)
    payee = pd.Index(payee_ids).get_indexer(quotas["payee_id"]) if n_payees else \
        np.full(len(quotas), -1)
    # Quotas of people nobody credits or assigns cannot change any figure.
    keep = (payee >= 0) & (period >= 0)
    flat = payee[keep].astype(np.int64) * n_periods + period[keep]
    if len(np.unique(flat)) != len(flat):
        errors.append("quotas: a payee has two quota rows for the same period")
    tables = {}
    for measure, column in QUOTA_COLUMN_OF.items():
        if column not in quotas.columns:
            continue
        values = _integers(quotas, column, "quotas", errors)
        if (values < 0).any():
            errors.append(f"quotas.{column}: must be ≥ 0")
        table = np.zeros(n_payees * n_periods, dtype=np.int64)
        present = np.zeros(n_payees * n_periods, dtype=bool)
        table[flat] = values[keep]
        present[flat] = True
        tables[measure] = (table.reshape(n_payees, n_periods),
                           present.reshape(n_payees, n_periods))
    return tables


def _mbo_scores(scores: pd.DataFrame | None, payee_ids: np.ndarray,
                errors: list[str]) -> dict[tuple[int, str, str], Fraction]:
    if scores is None or scores.empty:
        return {}
    payee = pd.Index(payee_ids).get_indexer(scores["payee_id"])
    values = _fractions(scores["score_pct"], "mbo_scores", "score_pct", errors)
    out: dict[tuple[int, str, str], Fraction] = {}
    for p, component, window, value in zip(payee, scores["component"], scores["window"],
                                           values, strict=True):
        if value < 0:
            errors.append(f"mbo_scores.score_pct: {value} is below 0")
        if p < 0:  # a score for someone nobody assigns cannot pay anything
            continue
        key = (int(p), str(component), str(window))
        if key in out:
            errors.append(f"mbo_scores: two scores for {component} in {window}")
        out[key] = value / 100
    return out


def _match_assignments(
    payee: np.ndarray, period: np.ndarray, day: np.ndarray, assignments: pd.DataFrame,
    assignment_payee: np.ndarray, assignment_period: np.ndarray, plan_of_row: np.ndarray,
    n_periods: int, issues: list[dict[str, object]],
) -> np.ndarray:
    """The plan index of each credit: the one assignment covering its payee, period and date."""
    n = len(payee)
    dated = [c for c in ("valid_from", "valid_to") if c in assignments.columns
             and assignments[c].notna().any()]
    key = payee * n_periods + period
    row_key = assignment_payee * n_periods + assignment_period
    by_key = np.argsort(row_key, kind="stable")
    sorted_keys = row_key[by_key]
    left = np.searchsorted(sorted_keys, key, side="left")
    right = np.searchsorted(sorted_keys, key, side="right")
    matches = right - left
    repeat = np.repeat(np.arange(n), matches)
    offsets = np.arange(len(repeat)) - np.repeat(np.cumsum(matches) - matches, matches)
    candidate = by_key[np.repeat(left, matches) + offsets]
    covers = np.ones(len(candidate), dtype=bool)
    for column in dated:
        bound = pd.to_datetime(assignments[column])
        bound_day = bound.to_numpy().astype("datetime64[D]").astype(np.int64)
        has = bound.notna().to_numpy()[candidate]
        if column == "valid_from":
            covers &= ~has | (day[repeat] >= bound_day[candidate])
        else:
            covers &= ~has | (day[repeat] < bound_day[candidate])
    repeat, candidate = repeat[covers], candidate[covers]
    plan = np.full(n, -1, dtype=np.int64)
    lowest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    highest = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lowest, repeat, plan_of_row[candidate])
    np.maximum.at(highest, repeat, plan_of_row[candidate])
    single = (highest >= 0) & (lowest == highest)
    plan[single] = highest[single]
    unassigned = np.flatnonzero(highest < 0)
    if len(unassigned):
        issues.append(issue_rows(
            "error", "unassigned_credit",
            "no plan assignment covers this credit's payee, period and date, so it earns "
            "nothing until one does", payee=payee[unassigned], period=period[unassigned],
            credit_row=unassigned))
    ambiguous = np.flatnonzero((highest >= 0) & ~single)
    if len(ambiguous):
        issues.append(issue_rows(
            "error", "ambiguous_assignment",
            "two plan assignments cover this credit, so it earns nothing until one is ended",
            payee=payee[ambiguous], period=period[ambiguous], credit_row=ambiguous))
    return plan
