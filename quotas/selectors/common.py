"""Small helpers every quota read shares: the tenant's today, ratios and the sums."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

ZERO = Decimal("0")
MONEY_SUM: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=2)


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole to four decimals (0.8734 = 87.34%); None when there is nothing to divide by."""
    if not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _sum(expression: str = "amount", /, **lookups: object) -> Coalesce:
    return Coalesce(Sum(expression, filter=Q(**lookups) if lookups else None), Value(ZERO),
                    output_field=MONEY_SUM)



