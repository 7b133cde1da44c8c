"""credits_build: a fiscal month's won deals, and the reversals of deals cancelled in it, into
Credit rows. Re-running replaces the month's credits in one transaction; the number of queries
does not grow with the number of deals."""

# Kept whole at a little over 500 lines: the reads and the crediting rule (owner or splits,
# rules, the manager roll-up, currency, reversals) are private steps of credits_build alone,
# and reading them beside it is reading the whole rule in one place.

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from compensation import bulk
from compensation.crediting import (
    WHOLE,
    convert_cents,
    direct_credits,
    manager_rollup,
    rate_units,
)
from compensation.models import (
    Credit,
    CreditBuild,
    CreditDateField,
    CreditKind,
    CreditRole,
    CreditRule,
    CreditTarget,
    DealCancellation,
    DealSplit,
    ExchangeRate,
    LineItem,
    PlanAssignment,
)
from spm.crm.models import Deal, DealStatus, Lead
from spm.org.models import Period, PeriodKind, Team, TeamMembership
from spm.tenancy.actors import acting_user
from spm.tenancy.context import require_active_tenant
from territories.models import Territory
from territories.selectors import account_territory_owner_bulk

from .assignments import assignment_periods_ensure

_CREDIT_COLUMNS = ["deal_id", "payee_id", "role", "share", "split_id", "rule_id",
                   "rolled_up_from", "amount_cents", "units", "margin_cents"]


@dataclass(frozen=True)
class CreditIssue:
    """A deal crediting could not (fully) credit, and why."""

    severity: str  # "error": a deal or a credit is missing; "warning": worth a look
    code: str
    deal_id: int
    message: str


def _cents(values: pd.Series) -> np.ndarray:
    return np.array([int(Decimal(v).scaleb(2)) for v in values], dtype=np.int64)


def _nullable_cents(values: pd.Series) -> pd.array:
    return pd.array([None if v is None or pd.isna(v) else int(Decimal(v).scaleb(2))
                     for v in values], dtype="Int64")


def _load_deals(start: datetime.date, end: datetime.date, deal_ids: Collection[int] | None
                ) -> tuple[pd.DataFrame, pd.DataFrame, QuerySet[Deal]]:
    """Won deals with a date in the month, deals cancelled in it, and a queryset of those
    deals for other reads to join on (two queries); only `deal_ids` when given."""
    cancellations = DealCancellation.objects.filter(cancel_date__gte=start, cancel_date__lt=end)
    if deal_ids is not None:
        cancellations = cancellations.filter(deal_id__in=sorted(deal_ids))
    cancelled = pd.DataFrame.from_records(
        cancellations.values_list("deal_id", "cancel_date", "kind"),
        columns=["deal_id", "cancel_date", "cancel_kind"])
    in_month = (Q(close_date__gte=start, close_date__lt=end)
                | Q(created_date__gte=start, created_date__lt=end))
    source = Deal.objects.filter((Q(status=DealStatus.WON) & in_month)
                                 | Q(pk__in=cancellations.values("deal_id")))
    if deal_ids is not None:
        source = source.filter(pk__in=sorted(deal_ids))
    deals = pd.DataFrame.from_records(
        source.order_by("pk")
        .values_list("pk", "external_id", "owner_id", "account_id", "amount", "currency",
                     "close_date", "created_date", "product_line", "units", "margin", "status"),
        columns=["deal_id", "external_id", "owner_id", "account_id", "amount", "currency",
                 "close_date", "created_date", "product_line", "units", "margin", "status"])
    return deals, cancelled, source


def _credit_dates(deals: pd.DataFrame) -> pd.Series:
    """Each deal's credit date: the deal date its owner's plan names (close date when the
    owner holds no plan on the close date). One query."""
    if deals.empty:
        return pd.Series(dtype="datetime64[ns]")
    close = pd.to_datetime(deals["close_date"])
    assignments = pd.DataFrame.from_records(
        PlanAssignment.objects.in_force_between(close.min().date(), close.max().date())
        .filter(person_id__in=deals["owner_id"].unique().tolist())
        .values_list("person_id", "valid_from", "valid_to", "plan__credit_date_field"),
        columns=["owner_id", "a_from", "a_to", "field"])
    frame = deals[["deal_id", "owner_id"]].assign(close=close.to_numpy())
    joined = frame.merge(assignments, on="owner_id", how="inner")
    inside = (pd.to_datetime(joined["a_from"]) <= joined["close"]) & (
        joined["a_to"].isna() | (joined["close"] < pd.to_datetime(joined["a_to"])))
    field = joined.loc[inside].drop_duplicates("deal_id").set_index("deal_id")["field"]
    uses_created = deals["deal_id"].map(field).eq(CreditDateField.CREATED_DATE).to_numpy()
    return pd.Series(np.where(uses_created, pd.to_datetime(deals["created_date"]), close),
                     index=deals.index)


def _exchange_rates(deals: pd.DataFrame, currency: str,
                    issues: list[CreditIssue]) -> pd.Series:
    """Each deal's rate in 1e-8 units of the tenant currency (1e8 for the tenant's own); deals
    with no rate on or before their credit date are reported and get none. One query."""
    rates = pd.Series(10**8, index=deals.index, dtype=object)
    foreign = deals["currency"] != currency
    if not foreign.any():
        return rates
    wanted = deals.loc[foreign]
    known = pd.DataFrame.from_records(
        ExchangeRate.objects.filter(currency__in=wanted["currency"].unique().tolist(),
                                    valid_from__lte=wanted["credit_date"].max().date())
        .values_list("currency", "valid_from", "rate"),
        columns=["currency", "valid_from", "rate"])
    known["valid_from"] = pd.to_datetime(known["valid_from"])
    known["currency"] = known["currency"].astype(object)
    lookup = wanted[["currency", "credit_date"]].reset_index().sort_values("credit_date")
    lookup["currency"] = lookup["currency"].astype(object)
    matched = pd.merge_asof(lookup, known.sort_values("valid_from"), left_on="credit_date",
                            right_on="valid_from", by="currency", direction="backward")
    for index, rate in zip(matched["index"], matched["rate"], strict=True):
        if rate is None or (isinstance(rate, float) and np.isnan(rate)):
            row = deals.loc[index]
            rates[index] = None
            issues.append(CreditIssue(
                "error", "missing_rate", int(row.deal_id),
                f"Deal {row.external_id} is in {row.currency} and there is no {row.currency} "
                f"exchange rate on or before {row.credit_date.date()}: not credited until "
                "one is added."))
        else:
            rates[index] = rate_units(rate)
    return rates


def _splits(source: QuerySet[Deal], deals: pd.DataFrame,
            issues: list[CreditIssue]) -> tuple[pd.DataFrame, set[int]]:
    """Split rows of the deals (shares in hundredths of a percent) and the deals whose splits
    do not add up to 100%, which are reported and not credited. One query."""
    splits = pd.DataFrame.from_records(
        DealSplit.objects.filter(deal__in=source.values("pk"))
        .values_list("deal_id", "person_id", "percent", "pk"),
        columns=["deal_id", "person_id", "percent", "split_id"])
    splits = splits[splits["deal_id"].isin(deals["deal_id"])]
    splits["share"] = np.array([int(p * 100) for p in splits["percent"]], dtype=np.int64)
    totals = splits.groupby("deal_id")["share"].sum()
    bad = {int(d) for d in totals.index[totals != WHOLE]}
    names = deals.set_index("deal_id")["external_id"]
    for deal_id in sorted(bad):
        issues.append(CreditIssue(
            "error", "splits_not_100", deal_id,
            f"The splits of deal {names.get(deal_id, deal_id)} add up to "
            f"{Decimal(int(totals[deal_id])).scaleb(-2)}%, not 100%: not credited until "
            "they are fixed."))
    return splits[~splits["deal_id"].isin(bad)], bad


def _rule_credits(deals: pd.DataFrame, source: QuerySet[Deal], taken: pd.DataFrame,
                  issues: list[CreditIssue]) -> pd.DataFrame:
    """Overlay, specialist and sourcing credits of active rules, a person once per deal
    (`taken`: the deal_id / payee_id pairs credited already)."""
    rules = list(CreditRule.objects.filter(is_active=True).select_related("territory"))
    rows: list[pd.DataFrame] = []
    if not rules or deals.empty:
        return pd.DataFrame(columns=["deal_id", "payee_id", "role", "rule_id"])
    day = deals["credit_date"]
    place = deals[["account_id"]].assign(on=day)
    territory_path = pd.Series(pd.NA, index=deals.index, dtype=object)
    owners: dict[str, pd.Series] = {}
    if any(r.territory_id or r.target == CreditTarget.TERRITORY_OWNER for r in rules):
        located = account_territory_owner_bulk(place)
        paths = dict(Territory.objects.filter(
            pk__in=located["territory_id"].dropna().astype(int).unique().tolist())
            .values_list("pk", "path"))
        territory_path = located["territory_id"].map(
            lambda t: paths.get(int(t)) if pd.notna(t) else pd.NA)
        territory_path.index = deals.index
        for role in {r.owner_role for r in rules if r.target == CreditTarget.TERRITORY_OWNER}:
            found = account_territory_owner_bulk(place, role=role)["owner_id"]
            found.index = deals.index
            owners[role] = found
    lead_owner = pd.Series(pd.NA, index=deals.index, dtype=object)
    if any(r.target == CreditTarget.LEAD_OWNER for r in rules):
        sourced = dict(
            Lead.objects.filter(converted_deal__in=source.values("pk"),
                                owner__isnull=False)
            .order_by("converted_at", "pk").values_list("converted_deal_id", "owner_id"))
        lead_owner = deals["deal_id"].map(sourced)
    for rule in rules:
        match = (day >= pd.Timestamp(rule.valid_from)) & (
            day < pd.Timestamp(rule.valid_to) if rule.valid_to else True)
        if rule.product_line:
            match &= deals["product_line"] == rule.product_line
        if rule.territory_id is not None:
            match &= territory_path.map(
                lambda p, prefix=rule.territory.path: isinstance(p, str)
                and p.startswith(prefix)).astype(bool)
        if rule.target == CreditTarget.PERSON:
            payee = pd.Series(rule.person_id, index=deals.index, dtype=object)
        elif rule.target == CreditTarget.TERRITORY_OWNER:
            payee = owners[rule.owner_role]
            vacant = match & payee.isna() & territory_path.notna()
            for index in deals.index[vacant]:
                issues.append(CreditIssue(
                    "warning", "territory_without_owner", int(deals.loc[index, "deal_id"]),
                    f"Rule {rule.name!r} matches deal {deals.loc[index, 'external_id']}, but its "
                    f"territory had no {rule.get_owner_role_display().lower()} owner on "
                    f"{day[index].date()}: nobody got this credit."))
        else:
            payee = lead_owner
        role = CreditRole.SOURCE if rule.target == CreditTarget.LEAD_OWNER else CreditRole.OVERLAY
        chosen = (match & payee.notna()).to_numpy(dtype=bool)
        hits = pd.DataFrame({"deal_id": deals["deal_id"].to_numpy()[chosen].astype(np.int64),
                             "payee_id": payee.to_numpy()[chosen].astype(np.int64)})
        # A person is credited once per deal: drop pairs already credited, then remember these.
        hits = hits.merge(taken, on=["deal_id", "payee_id"], how="left", indicator=True)
        hits = hits.loc[hits["_merge"] == "left_only", ["deal_id", "payee_id"]]
        taken = pd.concat([taken, hits], ignore_index=True)
        rows.append(hits.assign(role=role, rule_id=rule.pk))
    columns = ["deal_id", "payee_id", "role", "rule_id"]
    found = [r for r in rows if len(r)]
    return pd.concat(found, ignore_index=True)[columns] if found else pd.DataFrame(
        columns=columns)


def _credits_of(deals: pd.DataFrame, source: QuerySet[Deal],
                issues: list[CreditIssue]) -> pd.DataFrame:
    """Every credit of `deals` (owner or splits, rules, manager roll-up), in tenant cents."""
    if deals.empty:
        return pd.DataFrame(columns=[*_CREDIT_COLUMNS, "credit_date"])
    splits, bad = _splits(source, deals, issues)
    deals = deals[~deals["deal_id"].isin(bad)]
    if deals.empty:
        return pd.DataFrame(columns=[*_CREDIT_COLUMNS, "credit_date"])
    direct = direct_credits(deals, splits)
    direct["rule_id"] = pd.NA
    direct["rolled_up_from"] = pd.NA
    taken = direct[["deal_id", "payee_id"]].astype(np.int64)
    by_rule = _rule_credits(deals.reset_index(drop=True), source, taken, issues)
    whole = deals.set_index("deal_id")[["amount_cents", "units", "margin_cents"]]
    by_rule = by_rule.join(whole, on="deal_id")
    by_rule["share"] = WHOLE
    by_rule["split_id"] = pd.NA
    by_rule["rolled_up_from"] = pd.NA
    credit_date = deals.set_index("deal_id")["credit_date"]
    direct["credit_date"] = direct["deal_id"].map(credit_date)
    memberships = pd.DataFrame.from_records(
        TeamMembership.objects.in_force_between(credit_date.min().date(),
                                                credit_date.max().date())
        .values_list("person_id", "team_id", "valid_from", "valid_to"),
        columns=["person_id", "team_id", "valid_from", "valid_to"])
    teams = pd.DataFrame.from_records(Team.objects.values_list("pk", "path", "manager_id"),
                                      columns=["team_id", "path", "manager_id"])
    direct = direct.reset_index(drop=True)
    rollup = manager_rollup(direct.assign(row=direct.index), memberships, teams)
    managers = direct.loc[rollup["row"].to_numpy()].reset_index(drop=True)
    managers["rolled_up_from"] = managers["payee_id"]
    managers["payee_id"] = rollup["manager_id"].to_numpy()
    managers["role"] = CreditRole.MANAGER
    managers["rule_id"] = pd.NA
    frames = [f for f in (direct, by_rule, managers) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else direct
    out["credit_date"] = out["deal_id"].map(credit_date)
    return out


@transaction.atomic
def credits_build(*, period: Period, actor: Any = None,
                  deal_ids: Collection[int] | None = None) -> CreditBuild:
    """Credit a fiscal month: replace its credits with those of its won deals (by each deal's
    credit date) and the reversals of deals cancelled in it.

    With `deal_ids`, only those deals' credits in the month are replaced (a deal is credited
    from its own row, splits, the rules and the team tree alone, so the result is the one a
    full build gives it); the month's latest build is updated in place and keeps every other
    deal's credits and issues. A month never built is built whole.

    Deals that cannot be credited (no exchange rate, splits not adding up to 100%) are left
    out and listed in the build's issues, never dropped silently.
    """
    tenant = require_active_tenant()
    period = _month_locked(period)
    current = None
    if deal_ids is not None:
        current = CreditBuild.objects.filter(period=period).order_by("-built_at", "-pk").first()
        if current is None:
            deal_ids = None
    # Periods of a new fiscal year come after the assignments that run into it.
    assignment_periods_ensure(month=period)
    start, end = period.start_date, period.end_date
    issues: list[CreditIssue] = []
    deals, cancelled, source = _load_deals(start, end, deal_ids)
    deals["credit_date"] = _credit_dates(deals)
    deals["amount_cents"] = _cents(deals["amount"])
    deals["margin_cents"] = _nullable_cents(deals["margin"])
    deals["units"] = deals["units"].astype(np.int64)

    month_start, month_end = pd.Timestamp(start), pd.Timestamp(end)
    in_month = ((deals["status"] == DealStatus.WON) & (deals["credit_date"] >= month_start)
                & (deals["credit_date"] < month_end))
    reversed_ids = set(cancelled["deal_id"])
    wanted = _in_tenant_currency(deals[in_month | deals["deal_id"].isin(reversed_ids)].copy(),
                                 tenant.currency, issues)

    earned = _credits_of(wanted[wanted["deal_id"].isin(
        deals.loc[in_month, "deal_id"])].reset_index(drop=True), source, issues)
    earned["kind"] = CreditKind.CREDIT
    earned["reverses_date"] = pd.NaT
    reversals = _reversals_of(wanted[wanted["deal_id"].isin(reversed_ids)].reset_index(drop=True),
                              cancelled, source, issues)
    credits = pd.concat([f for f in (earned, reversals) if len(f)] or [earned],
                        ignore_index=True)

    _stale_credits_delete(period, deal_ids)
    if current is not None and deal_ids is not None:
        _write(current, period, credits, wanted, tenant.currency)
        return _build_update(current, deal_ids, issues)
    build = CreditBuild.objects.create(
        period=period, built_at=timezone.now(),
        built_by=acting_user(actor),
        deal_count=int(credits["deal_id"].nunique()) if len(credits) else 0,
        credit_count=len(credits), issue_count=len(issues),
        issues=[asdict(i) for i in issues])
    _write(build, period, credits, wanted, tenant.currency)
    return build


def _month_locked(period: Period) -> Period:
    """The month to credit, locked for update; refuses a longer period or a locked one."""
    if period.kind != PeriodKind.MONTH:
        raise ValidationError({"period": "Credits are built per fiscal month; build each month "
                                         f"of {period} in turn."})
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.is_locked:
        raise ValidationError({"period": f"{period} is locked: the credits of a paid period "
                                         "never change."})
    return period


def _in_tenant_currency(wanted: pd.DataFrame, currency: str,
                        issues: list[CreditIssue]) -> pd.DataFrame:
    """The deals with a rate to `currency`, their amounts and margins converted to it."""
    rates = _exchange_rates(wanted, currency, issues)
    wanted["rate"] = rates
    wanted = wanted[wanted["rate"].notna()].copy()
    rate_values = wanted["rate"].astype(object).to_numpy()
    wanted["amount_cents"] = convert_cents(wanted["amount_cents"], rate_values)
    known = wanted["margin_cents"].notna().to_numpy()
    margin = convert_cents(wanted["margin_cents"].fillna(0).astype(np.int64), rate_values)
    wanted["margin_cents"] = pd.array(np.where(known, margin, 0), dtype="Int64")
    wanted.loc[~known, "margin_cents"] = pd.NA
    return wanted


def _reversals_of(reversal_deals: pd.DataFrame, cancelled: pd.DataFrame, source: QuerySet[Deal],
                  issues: list[CreditIssue]) -> pd.DataFrame:
    """The negated credits of deals cancelled in the month, dated on their cancel date."""
    cancel_date = pd.to_datetime(cancelled.set_index("deal_id")["cancel_date"])
    late = pd.Series(False, index=reversal_deals.index)
    if len(reversal_deals):
        late = reversal_deals["credit_date"] > pd.to_datetime(
            reversal_deals["deal_id"].map(cancel_date))
    for row in reversal_deals[late].itertuples():
        issues.append(CreditIssue(
            "warning", "cancelled_before_credit", int(row.deal_id),
            f"Deal {row.external_id} was cancelled before its credit date "
            f"{row.credit_date.date()}: nothing to reverse."))
    reversals = _credits_of(reversal_deals[~late].reset_index(drop=True), source, issues)
    if len(reversals):
        reversals["reverses_date"] = reversals["credit_date"]
        reversals["credit_date"] = reversals["deal_id"].map(cancel_date)
        for column in ("amount_cents", "units"):
            reversals[column] = -reversals[column].astype(np.int64)
        reversals["margin_cents"] = -reversals["margin_cents"].astype("Int64")
    reversals["kind"] = CreditKind.REVERSAL
    return reversals


def _stale_credits_delete(period: Period, deal_ids: Collection[int] | None) -> None:
    """Delete the month's credits being replaced (only `deal_ids`' when given)."""
    # Two statements whatever the number of credits (the delete collector would fetch them
    # all and delete in chunks); line items keep their deal when their credit goes.
    stale = Credit.objects.filter(period=period)
    if deal_ids is not None:
        stale = stale.filter(deal_id__in=sorted(deal_ids))
    LineItem.objects.filter(credit__in=stale.values("pk")).update(credit=None)
    stale._raw_delete(stale.db)


def _build_update(build: CreditBuild, deal_ids: Collection[int],
                  issues: list[CreditIssue]) -> CreditBuild:
    """The month's build after some deals were credited again: their issues replaced, the
    counts those of the month's credits now."""
    changed = set(deal_ids)
    kept = [i for i in build.issues if i.get("deal_id") not in changed]
    build.issues = kept + [asdict(i) for i in issues]
    build.issue_count = len(build.issues)
    counts = Credit.objects.filter(build=build).aggregate(
        credits=Count("pk"), deals=Count("deal_id", distinct=True))
    build.credit_count, build.deal_count = counts["credits"], counts["deals"]
    build.save(update_fields=["issues", "issue_count", "credit_count", "deal_count"])
    return build


_KINDS = tuple(CreditKind.values)
_ROLES = tuple(CreditRole.values)


def _references(credits: pd.DataFrame, rule_names: dict[int, str]) -> pd.Series:
    """Why each payee is credited, as the credit's rule reference."""
    role = credits["role"]
    ref = pd.Series("deal owner", index=credits.index, dtype=object)
    ref[role == CreditRole.MANAGER] = "manager roll-up"
    split = role == CreditRole.SPLIT
    if split.any():
        shares = credits.loc[split, "share"].astype(np.int64)
        ref[split] = shares.map({s: f"split {Decimal(int(s)).scaleb(-2)}%"
                                 for s in shares.unique()})
    by_rule = role.isin([CreditRole.OVERLAY, CreditRole.SOURCE])
    if by_rule.any():
        ref[by_rule] = credits.loc[by_rule, "rule_id"].map(
            lambda r: f"rule: {rule_names.get(int(r), r)}"[:200])
    return ref


def _write(build: CreditBuild, period: Period, credits: pd.DataFrame, deals: pd.DataFrame,
           currency: str) -> None:
    """Credits through one COPY (PostgreSQL) or bulk_create; reversals, few, through the ORM."""
    if credits.empty:
        return
    credits = credits.reset_index(drop=True)
    deal = deals.set_index("deal_id")
    rules = dict(CreditRule.objects.values_list("pk", "name")) \
        if credits["rule_id"].notna().any() else {}
    currencies = tuple(sorted(set(deal["currency"])))
    frame = pd.DataFrame({
        "payee_id": credits["payee_id"].astype(np.int64),
        "deal_id": credits["deal_id"].astype(np.int64),
        "kind": credits["kind"].map({k: i for i, k in enumerate(_KINDS)}).astype(np.int64),
        "role": credits["role"].map({r: i for i, r in enumerate(_ROLES)}).astype(np.int64),
        "amount": credits["amount_cents"].astype(np.int64),
        "units": credits["units"].astype(np.int64),
        "margin": credits["margin_cents"].astype("Int64"),
        "credit_date": pd.to_datetime(credits["credit_date"]),
        "split_percent": credits["share"].astype(np.int64),  # hundredths of a percent
        "currency": credits["deal_id"].map(deal["currency"]).map(
            {c: i for i, c in enumerate(currencies)}).astype(np.int64),
        "rule_id": credits["rule_id"].astype("Int64"),
        "rolled_up_from_id": credits["rolled_up_from"].astype("Int64"),
        "rule_ref": _references(credits, rules),
    })
    earned = (credits["kind"] == CreditKind.CREDIT).to_numpy()
    bulk.write_frame(Credit, frame[earned], [
        bulk.Column("payee_id", bulk.INT), bulk.Column("deal_id", bulk.INT),
        bulk.Column("kind", bulk.CODE, labels=_KINDS),
        bulk.Column("role", bulk.CODE, labels=_ROLES),
        bulk.Column("amount", bulk.CENTS), bulk.Column("units", bulk.INT),
        bulk.Column("margin", bulk.NULLABLE_CENTS), bulk.Column("credit_date", bulk.DATE),
        bulk.Column("split_percent", bulk.CENTS),
        bulk.Column("currency", bulk.CODE, labels=currencies),
        bulk.Column("rule_id", bulk.NULLABLE_INT),
        bulk.Column("rolled_up_from_id", bulk.NULLABLE_INT),
        bulk.Column("rule_ref", bulk.TEXT),
    ], constants={"tenant_id": build.tenant_id, "build_id": build.pk, "period_id": period.pk})
    # The rate of converted credits: one UPDATE per rate used, not per credit.
    rate_of_deal = deal.loc[deal["currency"] != currency, "rate"]
    for rate, deal_ids in rate_of_deal.groupby(rate_of_deal.astype(np.int64)).groups.items():
        Credit.objects.filter(build=build, deal_id__in=[int(d) for d in deal_ids]).update(
            exchange_rate=Decimal(int(rate)).scaleb(-8))

    reversals = frame[~earned]
    reversed_on = credits.loc[~earned, "reverses_date"]
    Credit.objects.bulk_create([
        Credit(build=build, period=period, payee_id=int(row.payee_id),
               deal_id=int(row.deal_id), kind=CreditKind.REVERSAL, role=_ROLES[row.role],
               amount=Decimal(int(row.amount)).scaleb(-2), units=int(row.units),
               margin=None if pd.isna(row.margin) else Decimal(int(row.margin)).scaleb(-2),
               credit_date=row.credit_date.date(),
               split_percent=Decimal(int(row.split_percent)).scaleb(-2),
               currency=currencies[row.currency],
               exchange_rate=None if currencies[row.currency] == currency
               else Decimal(int(deal.loc[row.deal_id, "rate"])).scaleb(-8),
               rule_id=None if pd.isna(row.rule_id) else int(row.rule_id),
               rolled_up_from_id=None if pd.isna(row.rolled_up_from_id)
               else int(row.rolled_up_from_id),
               reverses_date=pd.Timestamp(day).date(), rule_ref=row.rule_ref)
        for row, day in zip(reversals.itertuples(index=False), reversed_on, strict=True)
    ], batch_size=2000)
