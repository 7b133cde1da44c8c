"""Column cleaners for imported tables: text in, typed values and a reason per bad cell out.

Pure pandas (no Django). Each cleaner takes a Series of stripped strings ("" = empty) and returns
a `Cleaned`. Columns with few distinct values (dates, stages, choices) are cleaned once per
distinct value; amounts go through one compiled-regex pass per cell. Either way a 100,000-row
file is checked in about a second.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

DATE_HELP = "use YYYY-MM-DD; MM/DD/YYYY, DD.MM.YYYY, 1-Mar-2025 and Excel date numbers also work"
TIME_HELP = "use YYYY-MM-DD HH:MM (ISO 8601, optionally with a UTC offset)"
# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in); 10,000 is 1927 and
# 100,000 is 2173, which brackets every date a CRM export holds and excludes plain amounts.
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
EXCEL_SERIAL_RANGE = (10_000, 100_000)
SHOWN_LENGTH = 40


@dataclass
class Cleaned:
    """Typed values (None where empty or bad) and, aligned with them, a reason per bad cell."""

    raw: pd.Series
    parsed: pd.Series
    problems: pd.Series
    notice: str = ""
    shown: pd.Series | None = None  # what the preview shows instead of the cell, if anything

    @classmethod
    def empty_like(cls, raw: pd.Series) -> Cleaned:
        return cls(
            raw=raw,
            parsed=pd.Series([None] * len(raw), index=raw.index, dtype=object),
            problems=pd.Series([None] * len(raw), index=raw.index, dtype=object),
        )

    def fail(self, mask: pd.Series, reason: str | pd.Series) -> None:
        """Mark cells bad; a cell keeps the first reason it was given.

        "{value}" in `reason` becomes the cell's text, quoted (and cut short if long); the
        message is built for the bad cells only. A Series gives each cell its own reason.
        """
        mask = mask & self.problems.isna()
        if not mask.any():
            return
        if isinstance(reason, pd.Series):
            self.problems[mask] = reason[mask[mask].index]
        elif "{value}" in reason:
            before, after = reason.split("{value}", 1)
            self.problems[mask] = before + quoted(self.raw[mask]) + after
        else:
            self.problems[mask] = reason
        self.parsed[mask] = None

    def set(self, mask: pd.Series, values: pd.Series | list) -> None:
        self.parsed[mask] = pd.Series(values, index=self.parsed[mask].index, dtype=object)


def quoted(raw: pd.Series) -> pd.Series:
    cut = raw.str.len() > SHOWN_LENGTH
    shown = raw.where(~cut, raw.str.slice(0, SHOWN_LENGTH - 3) + "...")
    return "'" + shown + "'"


def per_distinct_value(raw: pd.Series, clean: Callable[[pd.Series], Cleaned]) -> Cleaned:
    """Run `clean` on the distinct values only and spread the results over every row.

    Valid because every cleaner here judges a cell by its own text (and, for slash dates, by the
    set of values in the column, which the distinct values keep).
    """
    distinct = pd.unique(raw.to_numpy(dtype=object))
    if len(distinct) * 2 > len(raw):
        return clean(raw)
    small = clean(pd.Series(distinct, dtype=object))
    positions = pd.Index(distinct).get_indexer(raw.to_numpy(dtype=object))
    return Cleaned(
        raw=raw,
        parsed=pd.Series(small.parsed.to_numpy()[positions], index=raw.index, dtype=object),
        problems=pd.Series(small.problems.to_numpy()[positions], index=raw.index, dtype=object),
        notice=small.notice,
    )


# -- text and choices -----------------------------------------------------------------------------


def text(raw: pd.Series, *, max_length: int, required: bool = False) -> Cleaned:
    result = Cleaned.empty_like(raw)
    present = raw != ""
    result.set(present, raw[present].tolist())
    if required:
        result.fail(~present, "is empty")
    result.fail(raw.str.len() > max_length, f"is longer than {max_length} characters")
    return result


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email(raw: pd.Series, *, required: bool = False) -> Cleaned:
    result = text(raw, max_length=254, required=required)
    present = raw != ""
    result.fail(present & ~raw.str.match(EMAIL), "{value} is not an email address")
    return result


def normal_key(value: str) -> str:
    """How headers and choice labels are compared: case, spaces and punctuation ignored."""
    return re.sub(r"[^0-9a-z]", "", value.casefold())


def normal_keys(raw: pd.Series) -> pd.Series:
    return raw.str.casefold().str.replace(r"[^0-9a-z]", "", regex=True)


def choice(raw: pd.Series, *, mapping: Mapping[str, str], what: str, allowed: str) -> Cleaned:
    """Map labels to stored values; `mapping` is keyed by normal_key(label)."""

    def clean(values: pd.Series) -> Cleaned:
        result = Cleaned.empty_like(values)
        present = values != ""
        mapped = normal_keys(values).map(mapping)
        ok = present & mapped.notna()
        result.set(ok, mapped[ok].tolist())
        result.fail(present & mapped.isna(), f"{{value}} is not a known {what} (use {allowed})")
        return result

    return per_distinct_value(raw, clean)


def currency(raw: pd.Series) -> Cleaned:
    def clean(values: pd.Series) -> Cleaned:
        result = Cleaned.empty_like(values)
        present = values != ""
        upper = values.str.upper()
        ok = present & upper.str.fullmatch(r"[A-Z]{3}")
        result.set(ok, upper[ok].tolist())
        result.fail(present & ~ok, "{value} is not a three-letter currency code (e.g. USD)")
        return result

    return per_distinct_value(raw, clean)


# -- numbers --------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NUMBER_NOISE = re.compile(r"US\$|[$€£¥₹₩₽¤]|\b[A-Za-z]{3}\b|[\s\u00a0\u202f'\u2019]")
_COMMA_DECIMAL = re.compile(r"-?[\d.]*\d,\d{1,2}|-?\d{1,3}(?:\.\d{3})+,\d+")
_DOT_THOUSANDS = re.compile(r"-?\d{1,3}(?:\.\d{3}){2,}")
_COMMA_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_NUMBER_PARTS = re.compile(r"(-?)(\d+)(?:\.(\d*))?")
# What most exports hold ("12500", "1,234.50", "$1,234.50"), read in one step.
_USUAL_AMOUNT = re.compile(r"\$?(-?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")


def canonical_number(text: str) -> str:
    """'$1,234.50', '1.234,50 €', '(100)', 'USD 12' -> '1234.50', '1234.50', '-100', '12'.

    A lone comma followed by one or two digits is a decimal comma; followed by three it groups
    thousands. With both marks present, the later one is the decimal separator.
    """
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    t = text
    if t.startswith("(") and t.endswith(")"):
        t = "-" + t[1:-1]
    t = _NUMBER_NOISE.sub("", t).replace("\u2212", "-")  # also the typographic minus sign
    if t.startswith("(") and t.endswith(")"):  # "$ (1,234.50)": Excel's accounting format
        t = "-" + t[1:-1]
    if t.endswith("-") and t[:1].isdigit():
        t = "-" + t[:-1]
    if t.startswith("+"):
        t = t[1:]
    if _COMMA_DECIMAL.fullmatch(t):
        return t.replace(".", "").replace(",", ".")
    if _DOT_THOUSANDS.fullmatch(t):
        return t.replace(".", "")
    if _COMMA_THOUSANDS.fullmatch(t):
        return t.replace(",", "")
    return t


def _money_cell(
    text: str, *, negative: bool, whole_digits: int, decimal_places: int
) -> tuple[Decimal | None, str | None]:
    usual = _USUAL_AMOUNT.fullmatch(text)
    if usual is not None:
        sign, whole, fraction = usual.group(1), usual.group(2).replace(",", ""), usual.group(3)
    else:
        parts = _NUMBER_PARTS.fullmatch(canonical_number(text))
        if parts is None:
            return None, "{value} is not a number"
        sign, whole, fraction = parts.group(1), parts.group(2), parts.group(3)
    fraction = fraction or ""
    if len(fraction) > decimal_places:
        return None, f"{{value}} has more than {decimal_places} decimal places"
    if len(whole.lstrip("0")) > whole_digits:
        return None, (
            f"{{value}} is too large (at most {whole_digits} digits before the decimal point)"
        )
    amount = Decimal(f"{sign}{whole}.{fraction}" if fraction else sign + whole)
    if not amount:
        return amount.copy_abs(), None  # a typed "-0" is stored as 0, not a signed zero
    if amount < 0 and not negative:
        return None, "cannot be negative"
    return amount, None


def _per_cell(raw: pd.Series, cell: Callable[[str], tuple[object, str | None]]) -> Cleaned:
    result = Cleaned.empty_like(raw)
    present = raw != ""
    outcomes = [cell(text) for text in raw[present].tolist()]
    values = [value for value, _ in outcomes]
    reasons = pd.Series([reason for _, reason in outcomes], index=raw.index[present.to_numpy()],
                        dtype=object)
    result.set(present, values)
    for reason in reasons.dropna().unique():
        result.fail(present & (reasons.reindex(raw.index) == reason), reason)
    return result


def money(
    raw: pd.Series,
    *,
    required: bool = False,
    negative: bool = False,
    max_digits: int = 14,
    decimal_places: int = 2,
) -> Cleaned:
    """Exact Decimal amounts; never through a float, so 0.1 stays 0.1."""
    result = _per_cell(
        raw,
        lambda text: _money_cell(
            text, negative=negative, whole_digits=max_digits - decimal_places,
            decimal_places=decimal_places,
        ),
    )
    if required:
        result.fail(raw == "", "is empty")
    return result


def _count_cell(text: str) -> tuple[int | None, str | None]:
    parts = _NUMBER_PARTS.fullmatch(canonical_number(text))
    if parts is None or (parts.group(3) or "").strip("0"):
        return None, "{value} is not a whole number"
    whole = parts.group(2).lstrip("0")
    if len(whole) > 9:
        return None, "{value} is too large"
    if parts.group(1) and whole:
        return None, "cannot be negative"
    return int(whole or 0), None


def count(raw: pd.Series, *, required: bool = False) -> Cleaned:
    """Whole, non-negative numbers ('1,000' and '3.0' are fine; '2.5' is not)."""
    result = per_distinct_value(raw, lambda values: _per_cell(values, _count_cell))
    if required:
        result.fail(raw == "", "is empty")
    return result


# -- dates and times ------------------------------------------------------------------------------

_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_SLASH_DATE = r"\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})"
_NUMERIC_DATE_FORMATS = [
    (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"),
    (r"\d{1,2}\.\d{1,2}\.\d{4}", "%d.%m.%Y"),
    (r"\d{8}", "%Y%m%d"),
]
_NAMED_MONTH_FORMATS = ["%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d-%b-%y"]
_TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p", "%I:%M%p", "%H:%M:%S.%f"]


def _to_datetime(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values, format=fmt, errors="coerce")


def _is_day_first(parts: pd.DataFrame) -> bool:
    """Month-first (US) unless a first number above 12 shows the column is day-first."""
    first = pd.to_numeric(parts["a"], errors="coerce")
    second = pd.to_numeric(parts["b"], errors="coerce")
    return bool((first > 12).any()) and not bool((second > 12).any())


def _slash_order(parts: pd.DataFrame) -> tuple[str, str]:
    if _is_day_first(parts):
        return "%d/%m", "read as DD/MM/YYYY (day first), because some have a day above 12"
    return "%m/%d", "read as MM/DD/YYYY (month first)"


def _parse_days(raw: pd.Series, label: str) -> tuple[pd.Series, str]:
    """Timestamps at midnight (NaT where unreadable) and a notice about ambiguous formats."""
    raw = raw.astype(str)
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    notice = ""
    iso = raw.str.match(_ISO_DATE + r"(?:$|[T ])")
    if iso.any():
        parsed[iso] = _to_datetime(raw[iso].str.extract(f"^({_ISO_DATE})")[0], "%Y-%m-%d")
    slash = raw.str.match(_SLASH_DATE + "$")
    if slash.any():
        parts = raw[slash].str.extract(r"^(?P<a>\d+)/(?P<b>\d+)/(?P<y>\d+)$")
        order, how = _slash_order(parts)
        four_digit = parts["y"].str.len() == 4
        for mask, year in ((four_digit, "%Y"), (~four_digit, "%y")):
            if mask.any():
                index = parts.index[mask]
                parsed[index] = _to_datetime(raw[index], f"{order}/{year}")
        notice = f"{label}: dates like 03/04/2025 were {how}."
    for pattern, fmt in _NUMERIC_DATE_FORMATS:
        mask = parsed.isna() & raw.str.fullmatch(pattern)
        if mask.any():
            parsed[mask] = _to_datetime(raw[mask], fmt)
    serial = parsed.isna() & raw.str.fullmatch(r"\d{5}(?:\.\d+)?")
    if serial.any():
        days = pd.to_numeric(raw[serial], errors="coerce")
        days = days.where((days >= EXCEL_SERIAL_RANGE[0]) & (days < EXCEL_SERIAL_RANGE[1]))
        parsed[serial] = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    rest = parsed.isna() & raw.str.contains(r"[A-Za-z]", regex=True)
    for fmt in _NAMED_MONTH_FORMATS:
        mask = rest & parsed.isna()
        if not mask.any():
            break
        parsed[mask] = _to_datetime(raw[mask], fmt)
    return parsed, notice


_MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]
_MONTH_OF = {name[:3].casefold(): number for number, name in enumerate(_MONTH_NAMES, 1)}
_MONTH_WORD = r"(?P<month_name>[A-Za-z]{3,9})\.?"
# Where a date sits in a cell, as (pattern, order of its numbers); a time may follow.
_DAY_SHAPES = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ])"), "ymd"),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(?:$|[T ])"), "ymd"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:$|[T ])"), "slash"),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:$|[T ])"), "dmy"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})$"), "ymd"),
    (re.compile(r"(\d{1,2})[- ]" + _MONTH_WORD + r"[- ](\d{4}|\d{2})(?:$|[T ])"), "dMy"),
    (re.compile(_MONTH_WORD + r" (\d{1,2}),? (\d{4})(?:$|[T ])"), "Mdy"),
]


def _impossible_day(text: str, *, day_first: bool) -> str | None:
    """"February 30, 2026 does not exist" when `text` names a month and a day that it lacks.

    Only a real month with a day it does not have (29-31) counts; anything else (month 13, day
    0, words) is an unreadable format, which is a different mistake with a different fix.
    """
    for pattern, order in _DAY_SHAPES:
        found = pattern.match(text)
        if found is None:
            continue
        parts = list(found.groups())
        if order == "dMy":
            day_text, month_text, year_text = parts
            month = _MONTH_OF.get(month_text[:3].casefold(), 0)
        elif order == "Mdy":
            month_text, day_text, year_text = parts
            month = _MONTH_OF.get(month_text[:3].casefold(), 0)
        else:
            if order == "ymd":
                year_text, month_text, day_text = parts
            elif order == "dmy" or (order == "slash" and day_first):
                day_text, month_text, year_text = parts
            else:
                month_text, day_text, year_text = parts
            month = int(month_text)
        year, day_number = int(year_text), int(day_text)
        if len(year_text) == 2:
            year += 2000 if year < 69 else 1900  # strptime's %y rule, which the reader uses
        if not (1 <= month <= 12 and 1 <= year <= 9999) or not 29 <= day_number <= 31:
            return None
        if day_number > calendar.monthrange(year, month)[1]:
            return f"{_MONTH_NAMES[month - 1]} {day_number}, {year} does not exist"
        return None
    return None


def impossible_days(raw: pd.Series) -> pd.Series:
    """Per cell, why a well-formed date cannot be (a day the month lacks), else None."""
    slash = raw.str.extract(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/\d{2,4}(?:$|[T ])").dropna()
    day_first = _is_day_first(slash) if not slash.empty else False
    return pd.Series(
        [_impossible_day(text, day_first=day_first) for text in raw.tolist()],
        index=raw.index, dtype=object,
    )


def _fail_unreadable_days(result: Cleaned, values: pd.Series, bad: pd.Series, help: str) -> None:
    """A day the calendar lacks gets its own reason; other unreadable cells the format help."""
    if bad.any():
        impossible = impossible_days(values[bad]).reindex(values.index)
        named = bad & impossible.notna()
        if named.any():
            result.fail(named, quoted(values[named]) + " is not a real day: " + impossible[named])
    result.fail(bad, f"{{value}} is not a {help}")


# A time after a numeric date ("04/30/2026 00:00", "30.04.2026 17:00:00"), which a day ignores.
_TRAILING_TIME = (
    r"^(\d[^\sT]*)[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?"
    r"(?:\s*(?:Z|UTC|[+-]\d{2}:?\d{2}))?$"
)


def day(raw: pd.Series, *, label: str, required: bool = False) -> Cleaned:
    def clean(values: pd.Series) -> Cleaned:
        result = Cleaned.empty_like(values)
        present = values != ""
        dates = values.astype(str).str.replace(_TRAILING_TIME, r"\1", regex=True)
        parsed, result.notice = _parse_days(dates, label)
        if required:
            result.fail(~present, "is empty")
        _fail_unreadable_days(result, values, present & parsed.isna(), f"date ({DATE_HELP})")
        ok = present & parsed.notna() & result.problems.isna()
        result.set(ok, parsed[ok].dt.date.tolist())
        return result

    return per_distinct_value(raw, clean)


def moment(raw: pd.Series, *, label: str, timezone: str, required: bool = False) -> Cleaned:
    """Aware datetimes. Values without a UTC offset are read in the tenant's time zone."""

    def clean(values: pd.Series) -> Cleaned:
        return _moments(values.astype(str), label=label, timezone=timezone, required=required)

    return per_distinct_value(raw, clean)


def _moments(raw: pd.Series, *, label: str, timezone: str, required: bool) -> Cleaned:
    result = Cleaned.empty_like(raw)
    present = raw != ""
    stamps = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    zone = zoneinfo.ZoneInfo(timezone)
    offset = raw.str.match(_ISO_DATE + r"[T ].*(?:Z|[+-]\d{2}:?\d{2})$")
    if offset.any():
        stamps[offset] = pd.to_datetime(raw[offset], format="ISO8601", utc=True, errors="coerce")
    iso = ~offset & raw.str.match(_ISO_DATE + r"(?:$|[T ]\d)")
    naive = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    if iso.any():
        naive[iso] = pd.to_datetime(raw[iso], format="ISO8601", errors="coerce")
    others = present & ~offset & ~iso
    if others.any():
        split = raw[others].str.extract(r"^(?P<date>\S+)(?:[ T]+(?P<time>.+))?$")
        days, result.notice = _parse_days(split["date"].fillna(""), label)
        timed = split["time"].notna()
        times = pd.Series(pd.NaT, index=split.index, dtype="datetime64[us]")
        for fmt in _TIME_FORMATS:
            mask = timed & times.isna()
            if not mask.any():
                break
            times[mask] = _to_datetime(split["time"][mask].str.upper(), fmt)
        since_midnight = (times - times.dt.normalize()).fillna(pd.Timedelta(0))
        combined = (days + since_midnight).where(~(timed & times.isna()))
        # Month names ("Mar 1, 2025 10:00") do not split at the first space; read them whole.
        whole_days, _ = _parse_days(raw[others], label)
        naive[others] = combined.where(combined.notna(), whole_days)
    localised = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    stamps = stamps.where(stamps.notna(), localised.dt.tz_convert("UTC"))
    if required:
        result.fail(~present, "is empty")
    _fail_unreadable_days(
        result, raw, present & naive.isna() & stamps.isna(), f"date and time ({TIME_HELP})"
    )
    result.fail(
        present & stamps.isna(),
        f"{{value}} does not exist or is ambiguous in {timezone} (a clock change); add a UTC "
        "offset",
    )
    ok = present & stamps.notna()
    result.set(ok, stamps[ok].dt.to_pydatetime().tolist())
    return result


def timestamps_before(first: pd.Series, second: pd.Series) -> pd.Series:
    """Rows where `second` is set and earlier than `first` (both of python values)."""
    both = first.notna() & second.notna()
    out = pd.Series(False, index=first.index)
    if both.any():
        out[both] = np.array(
            [b < a for a, b in zip(first[both], second[both], strict=True)], dtype=bool
        )
    return out
