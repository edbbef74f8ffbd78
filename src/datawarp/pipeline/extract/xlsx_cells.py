"""An xlsx cell's value from its XML, typed as python-calamine types it.

``xlsx_sparse`` reads sheets too large for calamine's dense grid; the rest of the pipeline
must not be able to tell which reader gave it a row, so every rule here is calamine's
(python-calamine 0.9): numbers are floats; a number whose cell style has a date format is a
``time`` below 1, a ``date`` when whole, else a ``datetime`` (Excel's 1900 leap-year bug and
the workbook's 1904 system included), or a ``timedelta`` for a duration format (``[h]:mm``);
a date beyond year 9999 stays a number; ``t="d"`` ISO text becomes a date, datetime or time;
Excel's ``_xHHHH_`` escapes are undone in text; errors are blank. Blank is ``None`` (where
calamine gives ``""``, which ``excel_reader`` turns into ``None``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from xml.etree import ElementTree

OTHER, DATETIME, DURATION = 0, 1, 2
_BUILTIN_KINDS = {str(n): DATETIME for n in (*range(14, 23), 45, 47)} | {"46": DURATION}
_DAY_MS = 86_400_000.0
_EPOCH = datetime(1899, 12, 30)
_DAYS_1904 = 1462
_I64_LIMIT = 2.0**63  # calamine's milliseconds are an i64, saturating
_FIRST_MS = -96_439_723 * 86_400_000  # calamine's first day, in 262143 BC, after its epoch
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# What calamine's float parser accepts: no spaces, underscores or hex, which float() allows.
NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIME = r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.([0-9]+))?"
_ISO_DATETIME = re.compile(rf"([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})T({_ISO_TIME})")
_ISO_CLOCK = re.compile(_ISO_TIME)
_TRUE, _FALSE = frozenset({"1", "true", "TRUE"}), frozenset({"0", "false", "FALSE"})


def local(tag: str) -> str:
    """An element's name without its namespace (strict OOXML files use another one)."""
    return tag.rpartition("}")[2]


def format_kind(code: str) -> int:
    """Whether a number format shows a date or time, a duration, or neither.

    Only the first section counts; quoted text, escaped and fill characters and bracketed
    colours or conditions are not date letters; ``[h]``/``[mm]``/``[ss]`` is a duration.
    """
    escaped = quoted = after_a = elapsed = False
    brackets, previous = 0, " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\*":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            return OTHER
        elif char == "[":
            brackets += 1
        elif char == "]":
            if brackets == 1 and elapsed:
                return DURATION
            brackets = max(0, brackets - 1)
        elif brackets == 0 and not after_a and char in "aA":
            after_a = True  # AM/PM or A/P
        elif brackets == 0 and after_a and char in "pmPM/":
            return DATETIME
        elif brackets == 0 and not after_a and char in "dmhysDMHYS":
            return DATETIME
        elif not (elapsed and char.lower() == previous.lower()):
            elapsed = previous == "[" and char in "hmsHMS"
        previous = char
    return OTHER


def style_kinds(styles_xml: bytes | None) -> list[int]:
    """The date kind of each cell style (``cellXfs``), by the style's number format."""
    if not styles_xml:
        return []
    root = ElementTree.fromstring(styles_xml)
    codes: dict[str, str] = {}
    kinds: list[int] = []
    for element in root.iter():
        name = local(element.tag)
        if name == "numFmt" and element.get("formatCode"):
            codes[element.get("numFmtId", "")] = element.get("formatCode", "")
        elif name == "cellXfs":
            for xf in element:
                if local(xf.tag) != "xf":
                    continue
                number_format = xf.get("numFmtId")
                if number_format is None:
                    kinds.append(OTHER)
                elif number_format in codes:
                    kinds.append(format_kind(codes[number_format]))
                else:
                    kinds.append(_BUILTIN_KINDS.get(number_format, OTHER))
    return kinds


def unescape(text: str) -> str:
    """Undo Excel's ``_xHHHH_`` escapes (``_x000D_`` is a carriage return); surrogates stay."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(_unescaped, text)


def _unescaped(match: re.Match[str]) -> str:
    code = int(match[1], 16)
    return match[0] if 0xD800 <= code <= 0xDFFF else chr(code)


def rich_text(element: ElementTree.Element, text_tag: str, run_tag: str) -> str:
    """A shared or inline string: its ``<t>`` and runs' ``<t>``, phonetic guides left out."""
    parts = []  # escapes are undone run by run, as calamine does: '_x00' '41_' is no 'A'
    for child in element:
        if child.tag == text_tag:
            parts.append(unescape(child.text or ""))
        elif child.tag == run_tag:
            parts.extend(unescape(text.text or "") for text in child.iter(text_tag))
    return "".join(parts)


def _half_away(value: float) -> int:
    """Round half away from zero, as Rust's ``f64::round`` (Python's round is to even)."""
    size = abs(value)
    whole = math.floor(size)
    if size - whole >= 0.5:
        whole += 1
    return int(math.copysign(whole, value))


def serial_date(value: float, date1904: bool) -> object:
    """An Excel serial in a date format: time, date or datetime; the number when out of range,
    and an error where calamine's arithmetic overflows (both readers then refuse the file)."""
    if math.isnan(value):
        return _EPOCH  # calamine's NaN becomes 0 milliseconds after its epoch
    shifted = value + _DAYS_1904 if date1904 else value
    if shifted < 60:
        shifted += 1  # serial 60 is the 29 February 1900 Excel believes in
    scaled = shifted * _DAY_MS
    if scaled <= -_I64_LIMIT:
        raise OverflowError(f"date serial {value!r} out of range")
    if scaled >= _I64_LIMIT:
        return value
    milliseconds = _half_away(scaled)
    if milliseconds < _FIRST_MS:
        return value
    if value < 1:
        return (datetime.min + timedelta(milliseconds=milliseconds % 86_400_000)).time()
    try:
        stamp = _EPOCH + timedelta(milliseconds=milliseconds)
    except OverflowError:
        return value
    return stamp.date() if value == math.floor(value) else stamp


def duration(value: float) -> timedelta:
    if math.isnan(value):
        return timedelta(0)
    return timedelta(milliseconds=_half_away(value * _DAY_MS))


def iso_value(text: str) -> object:
    """A ``t="d"`` cell: an ISO date, date and time, or time of day; other text as it is."""
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        found = _ISO_DATETIME.fullmatch(text)
        if found:
            return datetime.combine(date.fromisoformat(found[1]), _clock(found[2]))
        if _ISO_CLOCK.fullmatch(text):
            return _clock(text)
    except ValueError:  # a 30 February or a 25th hour: calamine keeps the text
        pass
    return text


def _clock(text: str) -> time:
    whole, _, fraction = text.partition(".")
    hours, minutes, seconds = (int(part) for part in whole.split(":"))
    return time(hours, minutes, seconds, int((fraction + "000000")[:6]))


def boolean(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"a boolean cell holds {text[:20]!r}")


def number(text: str, kind: int | None, date1904: bool, explicit: bool) -> float | str | object:
    """A ``<v>`` of a numeric cell; text that is not a number stays text when the cell has no
    type (calamine's fallback), and is an error when it says it is a number."""
    if not NUMBER.fullmatch(text):
        if explicit:
            raise ValueError(f"a number cell holds {text[:20]!r}")
        return text
    value = float(text)
    if kind == DATETIME:
        return serial_date(value, date1904)
    if kind == DURATION:
        return duration(value)
    return value
