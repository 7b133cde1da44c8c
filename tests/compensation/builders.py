"""Small builders for engine tests: money in plain units, tables from a few dicts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pandas as pd

from compensation.engine import Component, PlanVersion, RateTable, Tier, compute


def D(value: str | int) -> Decimal:
    return Decimal(str(value))


def pct(value: str | int) -> Decimal:
    return Decimal(str(value)) / 100


def tiers(*rows: tuple) -> tuple[Tier, ...]:
    """tiers((0, 100, "8"), (100, None, "12")) in percent of quota and percent rates."""
    return tuple(Tier(pct(lo), pct(hi) if hi is not None else None, rate=pct(rate))
                 for lo, hi, rate in rows)


def plan(*components: Component, code: str = "AE") -> dict[str, PlanVersion]:
    return {code: PlanVersion(code, 1, components=components)}


def table_component(code: str = "commission", **table: object) -> Component:
    options = {k: table.pop(k) for k in list(table) if k in (
        "measure", "period", "ytd_true_up", "filter", "gate", "caps", "clawback")}
    return Component(code, code.title(), RateTable(**table), **options)  # type: ignore[arg-type]


def credits(*rows: dict) -> pd.DataFrame:
    """Credits with defaults: payee "ann", period "2026-01", amounts given in money units."""
    out = []
    for number, row in enumerate(rows, start=1):
        row = dict(row)
        amount = row.pop("amount", 0)
        period = row.pop("period", "2026-01")
        day = row.pop("date", None)
        if day is None:
            year, month = map(int, period.split("-"))
            day = datetime.date(year, month, min(number, 28))
        out.append({
            "credit_id": row.pop("credit_id", number),
            "payee_id": row.pop("payee", "ann"),
            "deal_id": row.pop("deal", f"D{number}"),
            "period": period,
            "credit_date": pd.Timestamp(day),
            "amount_cents": int(D(amount) * 100),
            "units": row.pop("units", 0),
            "margin_cents": int(D(row.pop("margin", 0)) * 100),
            "product_line": row.pop("product_line", "cloud"),
            "deal_type": row.pop("deal_type", "new"),
            "is_new_logo": row.pop("new_logo", False),
            "deal_amount_cents": int(D(row.pop("deal_amount", amount)) * 100),
            "close_date": pd.Timestamp(row.pop("close_date", day)),
        })
        assert not row, f"unknown credit fields {row}"
    return pd.DataFrame(out, columns=CREDIT_COLUMNS).astype(
        {"credit_id": "int64", "amount_cents": "int64", "units": "int64",
         "margin_cents": "int64", "deal_amount_cents": "int64", "is_new_logo": "bool",
         "credit_date": "datetime64[ns]", "close_date": "datetime64[ns]"})


CREDIT_COLUMNS = ["credit_id", "payee_id", "deal_id", "period", "credit_date", "amount_cents",
                  "units", "margin_cents", "product_line", "deal_type", "is_new_logo",
                  "deal_amount_cents", "close_date"]


def quotas(amounts: dict[tuple[str, str], str | int]) -> pd.DataFrame:
    return pd.DataFrame([{"payee_id": payee, "period": period,
                          "quota_cents": int(D(amount) * 100)}
                         for (payee, period), amount in amounts.items()],
                        columns=["payee_id", "period", "quota_cents"]).astype(
        {"quota_cents": "int64"})


def assignments(rows: list[tuple], plan_key: str = "AE") -> pd.DataFrame:
    """(payee, period[, target incentive in money[, proration]]) tuples."""
    out = []
    for row in rows:
        payee, period, *rest = row
        target = rest[0] if rest else 0
        out.append({"payee_id": payee, "period": period, "plan": plan_key,
                    "target_incentive_cents": int(D(target) * 100),
                    "proration": rest[1] if len(rest) > 1 else "1"})
    return pd.DataFrame(out)


def monthly(payee: str = "ann", months: int = 1, target: str | int = 0,
            start: int = 1) -> list[tuple]:
    return [(payee, f"2026-{m:02d}", target) for m in range(start, start + months)]


def run(plans: dict[str, PlanVersion], credit_rows: pd.DataFrame,
        quota_rows: pd.DataFrame | None = None, assignment_rows: pd.DataFrame | None = None,
        **kwargs: object):
    if quota_rows is None:
        quota_rows = quotas({})
    if assignment_rows is None:
        assignment_rows = assignments(monthly(months=12))
    return compute(plans=plans, credits=credit_rows, quotas=quota_rows,
                   assignments=assignment_rows, **kwargs)


def cents(result_lines: pd.DataFrame) -> list[int]:
    return [int(v) for v in result_lines["amount_cents"]]


def texts(result_lines: pd.DataFrame) -> list[str]:
    return list(result_lines["explanation"])
