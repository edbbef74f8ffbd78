"""Cell values: suppression markers, numbers, dates, and PostgreSQL type inference.

Cells come from python-calamine (int, float, str, bool, date, datetime, time, timedelta; ''
for an empty cell) or from CSV (always str). ``ColumnProfile`` reads every cell of a column
(no sampling, O(1) memory) and names the narrowest PostgreSQL type that holds all of them;
``convert`` then turns each cell into a Python value ready for COPY into that type.

Decisions (the tests pin each one down):

* Suppression markers (``MISSING_MARKERS``) become NULL in a column that holds numbers or
  dates, whatever its type (a numeric column kept text by a word too); in a text column with
  no numbers they are real values ("X", "c" and "NA" can be codes).
  ``NA`` is a marker for that reason: context protects the code columns. Excel error strings
  (``#DIV/0!``, ``#N/A`` ...) are markers too, because a CSV saved from Excel carries them.
* A column of markers only (and empties) is ``numeric`` with ``is_fully_suppressed`` set: the
  publication withheld a statistic, and next month's numbers fit without a schema change.
  A column with nothing at all in it is ``text``: there is no evidence of anything else.
* Numbers: ``1,234`` (comma groups of three only), signs, ``12.0`` counts as an integer like
  Excel's 12.0, ``1e5`` is numeric. ``67.30%`` is the fraction 0.6730, exactly (the value
  Excel itself holds behind a percent-formatted cell); only values written with a ``%`` are
  rescaled. ``£1,200``/``$``/``€`` drop the symbol (the header carries the unit). Space or thin
  space grouping, European ``1,5`` and accounting ``(5)`` are text: NHS England does not use
  them, and a bracketed number is more often a footnote reference than a negative.
* Censored or flagged numbers (``52+``, ``<5``, ``>1000``, ``100%*``: ``censored``) are their
  own kind: NULL in a column that stays numeric, their text kept in a companion column.
* A digit string with a leading zero (``01234``, ``00L``) is a code and stays text.
* Floats NaN and +/-inf are treated as empty cells (NULL): no NHS statistic is infinite, they
  only arise from an upstream division by zero. The *strings* "nan"/"inf" are text.
* Booleans: Python bool and true/false/yes/no (any case). ``Y``/``N`` stay text: single-letter
  flags and categories are common and "N" may mean North.
* Dates are day-first (UK). ``2025-04`` is not a date (it reads as financial year 2025-04 just
  as well); two-digit years follow POSIX (00-68 -> 20xx, 69-99 -> 19xx). Plain numbers are
  never dates during inference; ``excel_serial_to_date`` is there for readers that see serials.
* ``time`` and ``timedelta`` cells are text (``13:45:00``, ``0:07:00``): PostgreSQL ``time``
  and ``interval`` are outside the type set the loader manages.
* Text values are stripped of surrounding whitespace ("NHS ENGLAND SOUTH WEST " would break
  joins); whitespace-only cells are empty.
"""

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal

from datawarp.core.errors import BadInputError
from datawarp.core.pgtypes import (  # noqa: F401 - the type names, re-exported
    BIGINT,
    BOOLEAN,
    DATE,
    INTEGER,
    NUMERIC,
    PG_TYPES,
    SMALLINT,
    TEXT,
    TIMESTAMP,
    widen,
)
from datawarp.pipeline.extract.censored import censored_number

INTEGER_RANGES = {
    SMALLINT: (-(2**15), 2**15 - 1),
    INTEGER: (-(2**31), 2**31 - 1),
    BIGINT: (-(2**63), 2**63 - 1),
}

MISSING_MARKERS: frozenset[str] = frozenset(
    {"*", "-", ":", "..", ".", "c", "x", "z", "[c]", "[x]", "[z]", "[u]", "[low]"}
    | {"n/a", "na", "\u2013", "\u2014"}  # en and em dash, as typeset in NHS tables
    | {"#div/0!", "#n/a", "#value!", "#ref!", "#num!", "#name?", "#null!"}
)
_LONGEST_MARKER = max(map(len, MISSING_MARKERS))
_BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False}


class ValueConversionError(BadInputError, ValueError):
    """A cell does not fit the column type it is being converted to (the loader quarantines)."""

    def __init__(self, value: object, pg_type: str):
        super().__init__(f"value {value!r} does not fit a {pg_type} column")
        self.value, self.pg_type = value, pg_type


def integer_type_for(low: int, high: int) -> str:
    """The narrowest integer type holding the range, or numeric beyond bigint."""
    for pg_type, (type_low, type_high) in INTEGER_RANGES.items():
        if type_low <= low and high <= type_high:
            return pg_type
    return NUMERIC


# ---------------------------------------------------------------------------------------------
# Parsing strings. One parser serves both inference and conversion, so they cannot disagree.

EMPTY, MARKER, INT, DECIMAL, DAY, MOMENT, BOOL, WORDS, CENSORED = range(9)  # kinds of cell

_NUMBER = re.compile(
    r"(?P<sign>[+-]?)[£$€]?(?P<whole>\d{1,3}(?:,\d{3})+|\d*)"
    r"(?:\.(?P<fraction>\d*))?(?:[eE](?P<exponent>[+-]?\d{1,3}))?(?P<percent>%?)",
    re.ASCII,
)
# Patterns see lower-cased text, hence "t" between date and time and lower-case month names.
_CLOCK = (
    r"(?:[ t](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<micro>\d{1,6}))?)?)?"
)
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})" + _CLOCK, re.ASCII)
_UK_DATE = re.compile(
    r"(?P<day>\d{1,2})([/-])(?P<month>\d{1,2})\2(?P<year>\d{4}|\d{2})" + _CLOCK, re.ASCII
)
_DAY_MONTH_NAME = re.compile(
    r"(?P<day>\d{1,2})[- ](?P<name>[a-z]{3,9})[- ](?P<year>\d{4}|\d{2})", re.ASCII
)
_MONTH_NAME_YEAR = re.compile(r"(?P<name>[a-z]{3,9})[- ](?P<year>\d{4}|\d{2})", re.ASCII)
_YEAR_MONTH_NAME = re.compile(r"(?P<year>\d{4})-(?P<name>[a-z]{3,9})", re.ASCII)
_MONTHS = {
    name: number
    for number, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december"),
        start=1,
    )
    for name in names.split()
}  # fmt: skip


def parse_text(raw: str) -> tuple[int, object]:
    """Classify a string cell: (kind, parsed value). Text and markers come back stripped."""
    text = raw.strip()
    if not text:
        return EMPTY, None
    if text.isdigit() and text.isascii():  # the common case: a plain count
        if text[0] == "0" and len(text) > 1:
            return WORDS, text
        return (INT, int(text)) if len(text) <= 19 else (DECIMAL, Decimal(text))
    lowered = text.lower()
    if len(text) <= _LONGEST_MARKER:
        if lowered in MISSING_MARKERS:
            return MARKER, text
        if lowered in _BOOLEAN_WORDS:
            return BOOL, _BOOLEAN_WORDS[lowered]
    first = text[0]
    if first.isdigit() or first in "+-.£$€":
        parsed = _parse_number(text)
        if parsed is not None:
            return parsed
    if first.isascii() and first.isalnum():
        parsed = _parse_date(lowered)
        if parsed is not None:
            return parsed
    inner = censored_number(text)
    if inner is not None and _parse_number(inner) is not None:
        return CENSORED, text
    return WORDS, text


def _parse_number(text: str) -> tuple[int, object] | None:
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction, exponent, percent = match.group(
        "sign", "whole", "fraction", "exponent", "percent"
    )
    digits = whole.replace(",", "")
    if not digits and not fraction:
        return None
    if len(digits) > 1 and digits[0] == "0":
        return None  # a code such as 01234, not a number
    if not exponent and not percent and not (fraction or "").strip("0") and len(digits) <= 19:
        return INT, int(sign + (digits or "0"))
    shown = sign + (digits or "0") + (f".{fraction}" if fraction else "")
    number = Decimal(shown + (f"e{exponent}" if exponent else ""))
    if percent:  # 69.10% is 0.6910: the exponent moves, no arithmetic, no rounding
        sign_bit, number_digits, number_exponent = number.as_tuple()
        number = Decimal((sign_bit, number_digits, number_exponent - 2))
    return DECIMAL, number


def _parse_date(lowered: str) -> tuple[int, object] | None:
    for pattern in (_ISO_DATE, _UK_DATE):
        match = pattern.fullmatch(lowered)
        if match:
            return _date_or_moment(match, int(match["month"]), int(match["day"]))
    for pattern in (_MONTH_NAME_YEAR, _YEAR_MONTH_NAME, _DAY_MONTH_NAME):
        match = pattern.fullmatch(lowered)
        if match and match["name"] in _MONTHS:
            day = int(match["day"]) if "day" in pattern.groupindex else 1
            return _date_or_moment(match, _MONTHS[match["name"]], day)
    return None


def _date_or_moment(match: re.Match, month: int, day: int) -> tuple[int, object] | None:
    year_text = match["year"]
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year <= 68 else 1900
    clock = match.groupdict()
    try:
        if clock.get("hour") is None:
            return DAY, dt.date(year, month, day)
        micro = (clock["micro"] or "0").ljust(6, "0")
        moment = dt.datetime(
            year, month, day, int(clock["hour"]), int(clock["minute"]),
            int(clock["second"] or 0), int(micro),
        )  # fmt: skip
    except ValueError:
        return None  # 31/02/2025 and friends are text
    return _classify_datetime(moment)


def _classify_datetime(moment: dt.datetime) -> tuple[int, object]:
    if moment.time() == dt.time(0) and moment.tzinfo is None:
        return DAY, moment.date()  # Excel stores plain dates as midnight datetimes
    return MOMENT, moment


def classify(value: object) -> tuple[int, object]:
    """Classify any cell (calamine or CSV) as (kind, parsed value)."""
    value_type = type(value)
    if value_type is str:
        return parse_text(value)
    if value_type is int:
        return INT, value
    if value_type is float:
        if value.is_integer() and -(2**63) <= value < 2**63:
            return INT, int(value)
        return (DECIMAL, value) if math.isfinite(value) else (EMPTY, None)
    if value is None:
        return EMPTY, None
    if value_type is bool:
        return BOOL, value
    if value_type is dt.datetime:
        return _classify_datetime(value)
    if value_type is dt.date:
        return DAY, value
    if value_type is Decimal:
        return (DECIMAL, value) if value.is_finite() else (EMPTY, None)
    return WORDS, render_text(value)


def excel_serial_to_date(serial: float) -> dt.date:
    """Date of an Excel 1900-system serial (time of day dropped).

    Excel counts 29 Feb 1900, a day that never existed (Lotus 1-2-3's bug), so serials from 61
    on are one day ahead of a plain count from 1899-12-31, and serial 60 has no real date.
    """
    return excel_serial_to_datetime(serial).date()


def excel_serial_to_datetime(serial: float) -> dt.datetime:
    """Datetime of an Excel 1900-system serial; the fraction is the time of day."""
    if not math.isfinite(serial) or serial < 1 or 60 <= serial < 61:
        raise ValueError(f"{serial!r} is not an Excel 1900-system date serial")
    epoch = dt.datetime(1899, 12, 31) if serial < 60 else dt.datetime(1899, 12, 30)
    try:
        return epoch + dt.timedelta(days=serial)
    except OverflowError:
        raise ValueError(f"{serial!r} is beyond the last date Python can hold") from None


# ---------------------------------------------------------------------------------------------
# Conversion


def render_text(value: object) -> str | None:
    """A cell as text the way a reader of the sheet would write it (5.0 -> "5", dates ISO)."""
    value_type = type(value)
    if value_type is str:
        return value.strip() or None
    if value is None:
        return None
    if value_type is float:
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if value_type is int:
        return str(value) if abs(value) < 10**18 else str(Decimal(value))  # no str() digit cap
    if value_type is bool:
        return "true" if value else "false"
    if value_type is dt.datetime:
        kind, parsed = _classify_datetime(value)
        return parsed.isoformat() if kind == DAY else value.isoformat(sep=" ")
    if value_type is dt.timedelta:
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value_type is Decimal and not value.is_finite():
        return None  # like NaN floats: an empty cell
    return str(value)


def _converter(pg_type: str, accepted: dict[int, Callable[[object], object]]):
    """A converter that maps each accepted kind of cell through its function; others raise."""

    def convert_cell(value: object) -> object:
        kind, parsed = classify(value)
        if kind == EMPTY or kind == MARKER or kind == CENSORED:
            return None
        transform = accepted.get(kind)
        if transform is None:
            raise ValueConversionError(value, pg_type)
        return transform(parsed)

    return convert_cell


def _integer_converter(pg_type: str) -> Callable[[object], int | None]:
    low, high = INTEGER_RANGES[pg_type]

    def in_range(number: int) -> int:
        if low <= number <= high:
            return number
        raise ValueConversionError(number, pg_type)

    convert_other = _converter(pg_type, {INT: in_range})

    def convert_integer(value: object) -> int | None:
        if type(value) is int and low <= value <= high:  # most cells of an integer column
            return value
        return convert_other(value)

    return convert_integer


def _exact_decimal(number: object) -> Decimal:
    return number if type(number) is Decimal else Decimal(repr(number))  # 0.1, not 0.1000...


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _same(parsed: object) -> object:
    return parsed


_CONVERTERS: dict[str, Callable[[object], object]] = {
    **{pg_type: _integer_converter(pg_type) for pg_type in INTEGER_RANGES},
    NUMERIC: _converter(NUMERIC, {INT: Decimal, DECIMAL: _exact_decimal}),
    DATE: _converter(DATE, {DAY: _same}),
    TIMESTAMP: _converter(TIMESTAMP, {MOMENT: _same, DAY: _midnight}),
    BOOLEAN: _converter(BOOLEAN, {BOOL: _same}),
    TEXT: render_text,
}


def converter_for(pg_type: str) -> Callable[[object], object]:
    """The function ``convert`` uses for one type; fetch it once per column in a hot loop."""
    try:
        return _CONVERTERS[pg_type]
    except KeyError:
        raise ValueError(f"unknown PostgreSQL type {pg_type!r}") from None


def convert(value: object, pg_type: str) -> object:
    """A cell as a Python value ready for COPY into a ``pg_type`` column (None for NULL).

    Integer types give int, numeric gives Decimal, date gives date, timestamp gives datetime,
    boolean gives bool, text gives str. Markers and censored values are NULL except in text
    (``text_converter`` makes markers NULL in a text column holding numbers). A cell that
    does not fit raises ``ValueConversionError``.
    """
    return converter_for(pg_type)(value)
