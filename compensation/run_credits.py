"""The credits a calculation run reads, in the engine's credit columns (one query, two when a
plan filters on deal attributes), decoded from the binary COPY that `compensation.bulk` reads."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import BigIntegerField, Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce, Round

from compensation.bulk import read_frame
from compensation.columns import DATE, INT, NULLABLE_INT
from compensation.crediting import RATE_SCALE, convert_cents
from compensation.models import Credit, CreditKind
from spm.crm.models import Deal


def _cents(expression: Any) -> Cast:
    return Cast(Round(expression * 100), BigIntegerField())


def read_credits(*, month_ids: Sequence[int], period_keys: Mapping[int, str],
                 needed: set[str], payee_ids: Collection[int] | None = None) -> pd.DataFrame:
    """Credits (not reversals) of the months, in the engine's credit columns.

    `needed` names the optional engine columns the plans read (engine.inputs.columns_needed);
    deal attributes are joined only when a plan filters on them. `payee_ids` keeps only those
    payees' credits (a recompute of the payees a change touched).
    """
    credits = Credit.objects.filter(period_id__in=list(month_ids), kind=CreditKind.CREDIT)
    if payee_ids is not None:
        credits = credits.filter(payee_id__in=sorted(payee_ids))
    kinds, annotations = _selected_columns(needed)
    labels = _deal_labels(credits, needed, kinds, annotations)
    raw = read_frame(credits.annotate(**annotations), kinds)
    return _engine_frame(raw, kinds, labels, period_keys)


def _selected_columns(needed: set[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The columns to read (name -> kind) and the expressions of the computed ones."""
    kinds: dict[str, str] = {"id": INT, "payee_id": INT, "deal_id": INT, "period_id": INT,
                             "credit_date": DATE, "amount_c": INT}
    annotations: dict[str, Any] = {"amount_c": _cents(F("amount"))}
    if "units" in needed:
        kinds["units"] = INT
    if "margin_cents" in needed:
        annotations["margin_c"] = _cents(F("margin"))
        kinds["margin_c"] = NULLABLE_INT
    if "deal_amount_cents" in needed:
        annotations["deal_c"] = _cents(F("deal__amount"))
        annotations["rate_u"] = Cast(Round(Coalesce(F("exchange_rate"), Value(Decimal(1)))
                                           * RATE_SCALE), BigIntegerField())
        kinds["deal_c"] = INT
        kinds["rate_u"] = INT
    if "close_date" in needed:
        annotations["close_d"] = F("deal__close_date")
        kinds["close_d"] = DATE
    return kinds, annotations


def _deal_labels(credits: QuerySet[Credit], needed: set[str], kinds: dict[str, str],
                 annotations: dict[str, Any]) -> dict[str, list[str]]:
    """The deal text attributes the plans filter on, read as codes into their labels."""
    labels: dict[str, list[str]] = {}
    for column, field_name in (("product_line", "product_line"), ("deal_type", "deal_type"),
                               ("is_new_logo", "deal_type")):
        if column in needed and field_name not in labels:
            values = sorted(set(Deal.objects.filter(
                pk__in=credits.values("deal_id")).values_list(field_name, flat=True)))
            labels[field_name] = values
            annotations[f"{field_name}_k"] = Case(
                *[When(**{f"deal__{field_name}": v}, then=Value(i))
                  for i, v in enumerate(values)],
                default=Value(-1), output_field=IntegerField())
            kinds[f"{field_name}_k"] = INT
    return labels


def _engine_frame(raw: pd.DataFrame, kinds: Mapping[str, str], labels: Mapping[str, list[str]],
                  period_keys: Mapping[int, str]) -> pd.DataFrame:
    """The read rows renamed and converted to the engine's credit columns."""
    frame = pd.DataFrame({
        "credit_id": raw["id"],
        "payee_id": raw["payee_id"],
        "deal_id": raw["deal_id"],
        "period": raw["period_id"].map(dict(period_keys)).astype(object),
        "credit_date": raw["credit_date"],
        "amount_cents": raw["amount_c"],
    })
    if "units" in kinds:
        frame["units"] = raw["units"]
    if "margin_c" in kinds:
        frame["margin_cents"] = raw["margin_c"]
    if "deal_c" in kinds:
        deal, rate = raw["deal_c"].to_numpy(), raw["rate_u"].to_numpy()
        converted = deal.copy()
        foreign = np.flatnonzero(rate != RATE_SCALE)
        if len(foreign):
            converted[foreign] = convert_cents(deal[foreign], rate[foreign])
        frame["deal_amount_cents"] = converted
    if "close_d" in kinds:
        frame["close_date"] = raw["close_d"]
    for field_name, values in labels.items():
        codes = raw[f"{field_name}_k"].to_numpy()
        text = np.array([*values, ""], dtype=object)[np.where(codes < 0, len(values), codes)]
        if field_name == "product_line":
            frame["product_line"] = text
        else:
            frame["deal_type"] = text
            frame["is_new_logo"] = text == "new"
    return frame
