"""Field conventions of the compensation tables and the engine's vocabulary they store."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator

MONEY = {"max_digits": 14, "decimal_places": 2}
# Rates, bounds, multipliers and shares: exact decimals with room for 8.3333% and 1,000,000.00.
EXACT = {"max_digits": 20, "decimal_places": 10}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
PERIOD_KEY = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "Use a month such as 2026-03.")
CODE = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      "Use letters, digits, '-', '_' or '.', starting with a letter or digit.")


# The engine's vocabulary (compensation.engine.plans); tests keep the two lists equal. Kept
# here as plain values so the schema does not depend on the engine's code.
KINDS = ("rate_table", "payout_curve", "milestone_bonus", "mbo", "spiff", "draw")
MEASURES = ("amount", "units", "margin")
CADENCES = ("month", "quarter", "year")
METHODS = ("graduated", "retroactive", "base_plus_overage")
EVALUATIONS = ("cumulative", "per_transaction")
TIER_BASES = ("amount", "attainment")
CAP_SPANS = ("period", "year")
CLAWBACK_METHODS = ("full", "prorated")


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]
