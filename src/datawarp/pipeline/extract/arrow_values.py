"""The cell rules of ``values.py`` on whole Arrow arrays, for the CSV fast path (``arrow_csv``).

Every decision is the one ``values.parse_text`` makes for a string cell; the tests run both on
the same files and compare. The vectorised rules cover ASCII values (trimming, numbers with
separators, ``%`` and ``$``, markers, booleans, plain text); the values they cannot settle
exactly are handed to ``values.classify`` itself, once per distinct value: non-ASCII text
(Unicode whitespace and case rules, ``£``, ``€``, en dashes), anything shaped like a date
(month names, impossible days), and integers too long for int64.

Most work happens on *distinct* values (``pc.unique`` or ``dictionary_encode`` of a batch's
column), so a column of codes or periods costs one hash pass whatever its length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.pipeline.extract.columns import MEMO_SIZE
from datawarp.pipeline.extract.total_labels import (
    LABEL_STARTS,
    LONGEST_DECORATED_LABEL,
    TOTAL_LABELS,
    is_total_label,
)
from datawarp.pipeline.extract.values import (
    BOOL,
    DECIMAL,
    EMPTY,
    INT,
    MARKER,
    MISSING_MARKERS,
    WORDS,
    classify,
)

# Every character str.isspace() accepts (tests check the list): str.strip() removes these.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
ASCII_WHITESPACE = PY_WHITESPACE[:10]
_LINE_BREAK_BYTES = (b"\n", b"\r", b"\x00")  # a value holding these shifts line numbers
_WHITESPACE_SET = pa.array(list(PY_WHITESPACE), pa.string())

# Typed constants: pyarrow converts an untyped Python scalar slowly (it retries importing
# numpy each time), which would cost more than the kernels on small batches.
_K = {kind: pa.scalar(kind, pa.int8()) for kind in range(9)}
_I32 = {number: pa.scalar(number, pa.int32()) for number in (0, 1, 19, 18, LONGEST_DECORATED_LABEL)}
_ZERO_TEXT = pa.scalar("0", pa.string())
_ASCII_END = pa.scalar(0x80, pa.uint8())
_NULL_INT = pa.scalar(None, pa.int64())
_NULL_TEXT = pa.scalar(None, pa.string())
_SIGNS = pa.array(["", "-"], pa.string())
_MARKERS = pa.array(sorted(m for m in MISSING_MARKERS if m.isascii()), pa.string())
_BOOLEANS = pa.array(["true", "false", "yes", "no"], pa.string())
_TOTALS = pa.array(sorted(TOTAL_LABELS), pa.string())
_LONGEST_TOTAL = LONGEST_DECORATED_LABEL  # as total_labels.is_total_label
_LABEL_START = "^(?:" + "|".join(LABEL_STARTS) + ")"
_INT64_DIGITS = 18  # integer text this long always fits int64; longer goes to Python

# values._NUMBER, restricted to ASCII and to the matches _parse_number accepts: no leading
# zero in the whole part, and some digits before or after the point.
_WHOLE = r"(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|0|[1-9][0-9]*)"
_NUMBER = rf"^[+-]?\$?(?:{_WHOLE}(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{{1,3}})?%?$"
_INTEGRAL = rf"^[+-]?\$?(?:{_WHOLE}(?:\.0*)?|\.0+)$"  # numbers parse_text calls INT
# Everything values._parse_date might accept; values.classify decides (month names, 31/02).
_CLOCK = r"(?:[ t][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
_YEAR = r"(?:[0-9]{4}|[0-9]{2})"
_DATE_SHAPE = (
    rf"(?i)^(?:[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}{_CLOCK}"
    rf"|[0-9]{{1,2}}/[0-9]{{1,2}}/{_YEAR}{_CLOCK}|[0-9]{{1,2}}-[0-9]{{1,2}}-{_YEAR}{_CLOCK}"
    rf"|[0-9]{{1,2}}[- ][a-z]{{3,9}}[- ]{_YEAR}|[a-z]{{3,9}}[- ]{_YEAR}|[0-9]{{4}}-[a-z]{{3,9}})$"
)
# Everything censored.censored_number might accept (ASCII): values.classify decides.
_CENSORED_SHAPE = r"(?i)^(?:[<>~]|capped)|(?:[+*]|[(\[]capped[)\]])$"


@dataclass(frozen=True)
class BufferFacts:
    """What one scan of a column's bytes says: line breaks, ASCII, which whitespace occurs."""

    breaks: bool  # a value holds CR, LF or NUL
    ascii: bool
    data: bytes = field(repr=False)  # the values' bytes, end to end

    @classmethod
    def of(cls, column: pa.Array) -> BufferFacts:
        data = _value_bytes(column)
        breaks = any(mark in data for mark in _LINE_BREAK_BYTES)
        return cls(breaks=breaks, ascii=data.isascii(), data=data)

    @cached_property
    def whitespace(self) -> str:
        """The characters ``str.strip()`` could remove from these values: the ASCII ones that
        occur (one memchr each), or all of them for non-ASCII data (looking for 19 multi-byte
        characters would cost more than the trimming)."""
        if not self.ascii:
            return PY_WHITESPACE
        return "".join(char for char in ASCII_WHITESPACE if char.encode() in self.data)


def _value_bytes(column: pa.Array) -> bytes:
    """The column's values end to end (one copy: bytes methods run at memchr speed)."""
    _, offsets, data = column.buffers()
    if data is None or len(column) == 0:
        return b""
    start, end = (
        struct.unpack_from("<i", offsets, 4 * index)[0]
        for index in (column.offset, column.offset + len(column))
    )
    return memoryview(data)[start:end].tobytes()


def any_true(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def count_true(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def edge_whitespace(column: pa.Array, facts: BufferFacts) -> pa.Array | None:
    """Which values start or end with whitespace; None if none can.

    Each value's first and last byte are taken from the data buffer by the offsets: an ASCII
    byte settles it there (one kernel over bytes, not a string match per value and character).
    A value with a non-ASCII character at either end is looked at again by its characters,
    among all of Python's whitespace; few values have one.
    """
    chars = facts.whitespace
    if not chars:
        return None
    _, offsets, data = column.buffers()
    count = len(column)
    starts = pa.Array.from_buffers(pa.int32(), count, [None, offsets], offset=column.offset)
    ends = pa.Array.from_buffers(pa.int32(), count, [None, offsets], offset=column.offset + 1)
    filled = pc.greater(pc.subtract(ends, starts), _I32[0])
    if data is None or not any_true(filled):
        return None
    data_bytes = pa.Array.from_buffers(pa.uint8(), data.size, [None, data])
    ascii_spaces = pa.array([ord(char) for char in chars if char.isascii()], pa.uint8())
    edges, wide = [], []
    for position in (starts, pc.subtract(ends, _I32[1])):
        edge_byte = pc.take(data_bytes, pc.if_else(filled, position, _I32[0]))
        edges.append(pc.is_in(edge_byte, ascii_spaces))
        wide.append(pc.greater_equal(edge_byte, _ASCII_END))
    mask = pc.and_(filled, pc.or_(*edges))
    if facts.ascii:
        return mask
    widened = pc.and_(filled, pc.or_(*wide))
    if not any_true(widened):
        return mask
    values = pc.filter(column, widened)
    first = pc.is_in(pc.utf8_slice_codeunits(values, 0, 1), value_set=_WHITESPACE_SET)
    last = pc.is_in(pc.utf8_slice_codeunits(values, -1), value_set=_WHITESPACE_SET)
    return pc.replace_with_mask(mask, widened, pc.or_(first, last))


# ---------------------------------------------------------------------------------------------
# Classifying distinct values


@dataclass
class Analysis:
    """The kind of each value (``values.EMPTY`` ... ``WORDS``) and what it parses to."""

    values: pa.Array
    kinds: pa.Array  # int8, one per value
    trimmed: pa.Array  # ASCII-stripped values (exact for ASCII values)
    ints: pa.Array | None  # int64 of the INT values that went the vectorised way, else null
    parsed: dict[int, object]  # position -> parsed value, for values classify() decided

    def present(self) -> set[int]:
        return set(pc.unique(self.kinds).to_pylist())

    def where(self, kind: int) -> pa.Array:
        return pc.equal(self.kinds, _K[kind])


def analyse(values: pa.Array, memo: dict[str, tuple[int, object]] | None = None) -> Analysis:
    """Classify each (distinct) string exactly as ``values.classify`` would.

    ``memo`` remembers what ``classify`` said about values the vectorised rules hand over
    (dates mostly), so repeats in later batches are not parsed again.
    """
    trimmed = pc.utf8_trim(values, ASCII_WHITESPACE)
    length = pc.binary_length(trimmed)  # int32
    digits = pc.ascii_is_decimal(trimmed)
    lowered = pc.ascii_lower(trimmed)
    marker = pc.is_in(lowered, value_set=_MARKERS)
    boolean = pc.is_in(lowered, value_set=_BOOLEANS)
    empty = pc.equal(length, _I32[0])
    settled = pc.or_(pc.or_(empty, digits), pc.or_(marker, boolean))
    kinds = pa.repeat(_K[WORDS], len(values))
    pending = pc.invert(pc.string_is_ascii(values))
    if not pc.all(settled).as_py():
        number = pc.match_substring_regex(trimmed, _NUMBER)
        integral = pc.match_substring_regex(trimmed, _INTEGRAL)
        kinds = pc.if_else(number, pc.if_else(integral, _K[INT], _K[DECIMAL]), kinds)
        dated = pc.and_(pc.invert(number), pc.match_substring_regex(trimmed, _DATE_SHAPE))
        censored = pc.and_(pc.invert(marker), pc.match_substring_regex(trimmed, _CENSORED_SHAPE))
        pending = pc.or_(pending, pc.or_(dated, censored))
    kinds = pc.if_else(boolean, _K[BOOL], kinds)
    kinds = pc.if_else(marker, _K[MARKER], kinds)
    leading_zero = pc.and_(pc.starts_with(trimmed, "0"), pc.greater(length, _I32[1]))
    long_digits = pc.greater(length, _I32[19])
    whole = pc.if_else(leading_zero, _K[WORDS], pc.if_else(long_digits, _K[DECIMAL], _K[INT]))
    kinds = pc.if_else(digits, whole, kinds)
    kinds = pc.if_else(empty, _K[EMPTY], kinds)
    is_int = pc.equal(kinds, _K[INT])
    long_int = pc.and_(is_int, pc.greater(length, _I32[_INT64_DIGITS]))
    pending = pc.or_(pending, long_int)
    parsed: dict[int, object] = {}
    if any_true(pending):
        positions = pc.indices_nonzero(pending).to_pylist()
        python_kinds = []
        memo = {} if memo is None else memo
        for position, value in zip(positions, pc.filter(values, pending).to_pylist(), strict=True):
            known = memo.get(value)
            if known is None:
                known = classify(value)
                if len(memo) < MEMO_SIZE:
                    memo[value] = known
            kind, parsed[position] = known
            python_kinds.append(kind)
        kinds = pc.replace_with_mask(kinds, pending, _int8(python_kinds))
        is_int = pc.and_(pc.equal(kinds, _K[INT]), pc.invert(pending))
    ints = _integers(trimmed, is_int, digits) if any_true(is_int) else None
    return Analysis(values, kinds, trimmed, ints, parsed)


def _int8(kinds: list[int]) -> pa.Array:
    return pa.array(kinds, pa.int8())


def _integers(trimmed: pa.Array, is_int: pa.Array, digits: pa.Array) -> pa.Array:
    """int64 of the INT values (at most 18 characters each); null elsewhere."""
    text = pc.if_else(is_int, trimmed, _ZERO_TEXT)
    if not pc.all(pc.or_(digits, pc.invert(is_int))).as_py():
        text = pc.replace_substring_regex(text, r"[$,+]", "")
        text = pc.replace_substring_regex(text, r"\.0*$", "")
        text = pc.if_else(pc.is_in(text, value_set=_SIGNS), _ZERO_TEXT, text)
    return pc.if_else(is_int, pc.cast(text, pa.int64()), _NULL_INT)


@dataclass
class PlainNumbers:
    """A column of unsigned plain numbers only ('17', '0.736', '5.0'): kinds without regexes."""

    integral: bool  # some value is INT ('17', '5.0')
    decimal: bool  # some value has a non-zero fraction
    zero_fraction: pa.Array | None  # which values are INT written with a point ('5.0', '5.00')
    high: int | None = None  # stands for the largest INT: in the same integer type as it


# Integer text of each length whose type needs a closer look: 5 digits may or may not fit a
# smallint, 10 an integer. Shorter, longer and in-between lengths settle it by themselves.
_TYPE_EDGES = {5: "32767", 10: "2147483647"}


def plain_numbers(
    column: pa.Array, facts: BufferFacts, *, extremes: bool = False, trusted: bool = False
) -> PlainNumbers | None:
    """The exact kinds of a column of digits with at most one point each, or None.

    None (use ``analyse``) for anything else: signs, separators, blanks, markers, '.5', '5.',
    leading zeros, 19 or more digits. With ``extremes`` the largest integer is given as a
    number of the same PostgreSQL type (all are >= 0). ``trusted`` (pass 2, the type known
    from every value) skips the checks that pass 1 already made.
    """
    data = facts.data
    lengths = pc.binary_length(column)
    shortest, longest = pc.min_max(lengths).as_py().values()
    if not data or shortest == 0 or longest > _INT64_DIGITS:
        return None
    if data.isdigit():
        if not trusted and _leading_zero(column, lengths, longest):
            return None  # a code such as 01234
        result = PlainNumbers(integral=True, decimal=False, zero_fraction=None)
        if extremes:
            result.high = _largest(column, lengths, longest)
        return result
    if data.translate(None, b"0123456789."):
        return None
    point = pc.find_substring(column, ".")
    has_point = pc.greater_equal(point, _I32[0])
    if any_true(pc.equal(point, _I32[0])) or any_true(pc.ends_with(column, ".")):
        return None  # '.5' or '5.': rewritten by the general path
    if not trusted:
        if data.count(b".") != count_true(has_point):
            return None  # '1.2.3'
        if _leading_zero(column, lengths, longest, point):
            return None  # '01.5'
    zero_fraction = pc.and_(has_point, pc.ends_with(pc.utf8_rtrim(column, "0"), "."))
    decimal = pc.and_(has_point, pc.invert(zero_fraction))
    result = PlainNumbers(
        integral=not pc.all(decimal).as_py(),
        decimal=any_true(decimal),
        zero_fraction=zero_fraction if any_true(zero_fraction) else None,
    )
    if extremes and result.integral and not result.decimal:
        whole = column
        if result.zero_fraction is not None:
            whole = pc.replace_substring_regex(whole, r"\.0*$", "")
        result.high = pc.max(pc.cast(whole, pa.int64())).as_py()
    return result


def _leading_zero(
    column: pa.Array, lengths: pa.Array, longest: int, point: pa.Array | None = None
) -> bool:
    """Whether a whole part starts with 0 and has another digit (a code such as 01 or 01.5)."""
    if longest < 2:
        return False
    zero = pc.starts_with(column, "0")
    if not any_true(zero):
        return False
    whole = lengths if point is None else pc.if_else(pc.less(point, _I32[0]), lengths, point)
    return any_true(pc.and_(zero, pc.greater(whole, _I32[1])))


def _largest(column: pa.Array, lengths: pa.Array, longest: int) -> int:
    """A number in the same integer type as the column's largest digit string."""
    edge = _TYPE_EDGES.get(longest)
    if edge is None:
        return 10**longest - 1
    longest_values = pc.equal(lengths, pa.scalar(longest, pa.int32()))
    beyond = pc.and_(longest_values, pc.greater(column, pa.scalar(edge, pa.string())))
    return int(edge) + 1 if any_true(beyond) else int(edge)


# ---------------------------------------------------------------------------------------------
# Empty cells and totals labels


def total_mask(column: pa.Array) -> pa.Array | None:
    """Rows whose value is a totals label ('England', ' TOTAL ', 'ENGLAND*') as
    ``total_labels.is_total_label`` decides: plain ASCII labels here, decorated labels and
    non-ASCII values by that function itself. ``column`` may come dictionary-encoded (pass 1
    encodes a label column once for this rule and the levels): its dictionary is then the
    distinct values, and no value is hashed again."""
    encoded = isinstance(column, pa.DictionaryArray)
    distinct = column.dictionary if encoded else pc.unique(column)
    lowered = pc.ascii_lower(pc.utf8_trim(distinct, ASCII_WHITESPACE))
    short = pc.less_equal(pc.binary_length(distinct), _I32[_LONGEST_TOTAL])
    hits = pc.and_(short, pc.is_in(lowered, value_set=_TOTALS))
    decorated = pc.and_(pc.and_not(short, hits), pc.match_substring_regex(lowered, _LABEL_START))
    checked = pc.fill_null(pc.or_(pc.invert(pc.string_is_ascii(distinct)), decorated), False)
    if any_true(checked):
        labels = [is_total_label(value) for value in pc.filter(distinct, checked).to_pylist()]
        hits = pc.replace_with_mask(hits, checked, pa.array(labels, pa.bool_()))
    if not any_true(hits):
        return None
    if encoded:
        return pc.fill_null(pc.take(hits, column.indices), False)
    return pc.is_in(column, value_set=pc.filter(distinct, hits))
