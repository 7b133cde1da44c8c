"""Cell rules for figures that go straight into pay, on top of the CRM import's cleaners.

The CRM import reads "1234,50" as 1234.50 and "1.234.567" as 1234567, which suits a preview a
person checks row by row; a target incentive or a simulated credit is money, so a number whose
decimal mark needs a guess is an error saying what to write instead. Dates of one file are read
together so a single day-first date settles the slash order of every date column.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd

from spm.crm.imports import cleaning
from spm.crm.imports.cleaning import Cleaned

MONEY_HINT = "write an amount such as 1234.50"
DECIMAL_COMMA = "has a decimal comma"
_DOT_AND_THREE_DIGITS = re.compile(r"-?\d{1,3}\.\d{3}")


def unambiguous_marks(result: Cleaned, *, whole: bool) -> None:
    """Refuse numbers the CRM import reads by guessing which mark is the decimal one: the
    decimal mark is a dot and a comma may only separate thousands."""
    accepted = result.problems.isna() & result.parsed.notna()
    raw = result.raw[accepted]
    # Only a comma not followed by a group of three digits, or a second dot, can be misread.
    candidates = raw.str.contains(r",(?!\d{3}(?:\D|$))", regex=True) | (raw.str.count(r"\.") > 1)
    if whole:
        candidates |= raw.str.contains(r"\.\d{3}", regex=True)
    if not candidates.any():
        return
    reasons = pd.Series(
        [_mark_reason(text, value, whole=whole)
         for text, value in zip(raw[candidates].tolist(),
                                result.parsed[candidates[candidates].index].tolist(),
                                strict=True)],
        index=candidates[candidates].index, dtype=object,
    ).reindex(result.raw.index)
    result.fail(reasons.notna(), reasons)


def _mark_reason(text: str, value: Decimal | int, *, whole: bool) -> str | None:
    canonical = cleaning.canonical_number(text)
    meant = str(value) if whole else f"{value:.2f}"
    if "," in text and "." in canonical and text.rfind(",") > text.rfind("."):
        return (f"'{text}' {DECIMAL_COMMA}: if it means {meant}, write {meant} (the "
                "decimal mark is a dot; a comma may only separate thousands, as in 1,234.50)")
    if "." in text and "." not in canonical:
        return (f"'{text}' separates thousands with dots: if it means {meant}, write {meant} "
                "(the decimal mark is a dot)")
    if whole and _DOT_AND_THREE_DIGITS.fullmatch(canonical):
        return (f"'{text}' could mean {meant} or {canonical.replace('.', '')}: write the whole "
                "number without a dot")
    return None


def money_exact(raw: pd.Series, *, required: bool = False, negative: bool = False) -> Cleaned:
    """Amounts as exact Decimals with two places at most, read by the CRM import's rules
    ("$1,234.50", "(12.00)") without guessing decimal marks."""
    result = cleaning.money(raw, required=required, negative=negative)
    hinted = result.problems.notna() & ~result.problems.isin(["is empty", "cannot be negative"])
    result.problems[hinted] = result.problems[hinted] + f" ({MONEY_HINT})"
    unambiguous_marks(result, whole=False)
    return result


def money_cents(raw: pd.Series, *, required: bool = False, negative: bool = False) -> Cleaned:
    """As money_exact, in integer cents (what the engine takes)."""
    result = money_exact(raw, required=required, negative=negative)
    ok = result.problems.isna() & result.parsed.notna()
    result.set(ok, [int(amount.scaleb(2)) for amount in result.parsed[ok].tolist()])
    return result


def days_together(columns: dict[str, pd.Series], *, label: str) -> dict[str, Cleaned]:
    """Every date column of one file read at once, so one day-first value settles the slash
    order of the whole file rather than of one column. Empty cells are left to the caller."""
    if not columns:
        return {}
    joined = pd.concat(columns.values(), ignore_index=True)
    together = cleaning.day(joined, label=label)
    out, start = {}, 0
    for column, raw in columns.items():
        part = slice(start, start + len(raw))
        start += len(raw)
        out[column] = Cleaned(
            raw=raw,
            parsed=pd.Series(together.parsed.iloc[part].to_numpy(), index=raw.index,
                             dtype=object),
            problems=pd.Series(together.problems.iloc[part].to_numpy(), index=raw.index,
                               dtype=object),
            notice=together.notice,
        )
    return out
