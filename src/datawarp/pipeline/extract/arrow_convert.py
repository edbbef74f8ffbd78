"""Pass 2 of the CSV fast path: a batch's string columns become typed Arrow arrays.

The values are the ones ``values.convert`` (through ``columns.ColumnConverter``) gives the
Python path, as Arrow types: smallint/integer/bigint as int16/int32/int64, numeric as the
text of the very ``Decimal`` Python would make (any precision; '67.30%' is '0.6730' and '12.0'
is '12', as ``Decimal(12)``), date as date32, timestamp as timestamp[us], boolean as bool,
text stripped with empty text as NULL. Markers, censored values and empty cells are NULL; a
companion column (``originals``) holds the censored values' text, and a text column holding
numbers has its markers NULL too (``ColumnPlan``).

Plain number columns are converted straight away; anything else goes through the column's
distinct values (``dictionary_encode``), converted once each and spread back with ``take``.
Dates, timestamps and booleans are converted by ``values.converter_for`` itself, once per
distinct value and remembered across batches.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.arrow_rules import (
    PERCENT_SIGN,
    originals_text,
    percent_texts,
    without_markers,
)
from datawarp.pipeline.extract.arrow_values import (
    _I32,
    _NULL_TEXT,
    Analysis,
    BufferFacts,
    _int8,
    analyse,
    any_true,
    edge_whitespace,
    plain_numbers,
)
from datawarp.pipeline.extract.columns import MEMO_SIZE
from datawarp.pipeline.extract.originals import ColumnPlan
from datawarp.pipeline.extract.values import (
    BIGINT,
    BOOLEAN,
    CENSORED,
    DATE,
    DECIMAL,
    EMPTY,
    INT,
    INTEGER,
    MARKER,
    NUMERIC,
    SMALLINT,
    TEXT,
    TIMESTAMP,
    ValueConversionError,
    converter_for,
)

ARROW_TYPES = {
    SMALLINT: pa.int16(),
    INTEGER: pa.int32(),
    BIGINT: pa.int64(),
    NUMERIC: pa.string(),  # the Decimal's text: any precision, the scale as written
    DATE: pa.date32(),
    TIMESTAMP: pa.timestamp("us"),
    BOOLEAN: pa.bool_(),
    TEXT: pa.string(),
}
_INTEGERS = (SMALLINT, INTEGER, BIGINT)
_BY_PYTHON = (DATE, TIMESTAMP, BOOLEAN)


class ArrowConverter:
    """Converts one column, batch after batch (a memo keeps Python's conversions)."""

    def __init__(self, pg_type: str, plan: ColumnPlan | None = None):
        if pg_type not in ARROW_TYPES:
            raise ValueError(f"unknown PostgreSQL type {pg_type!r}")
        self.pg_type = pg_type
        self.plan = plan or ColumnPlan(pg_type, 0)
        self._memo: dict[str, object] = {}
        self._classified: dict[str, tuple[int, object]] = {}

    def __call__(self, column: pa.Array, facts: BufferFacts) -> pa.Array:
        pg_type, plan = self.pg_type, self.plan
        if plan.originals:
            if plain_numbers(column, facts, trusted=True) is not None:
                return pa.nulls(len(column), pa.string())  # only numbers: nothing censored
            encoded = pc.dictionary_encode(column)
            originals = originals_text(analyse(encoded.dictionary, self._classified))
            return pc.take(originals, encoded.indices)
        if pg_type == TEXT:
            text = text_column(column, facts)
            return without_markers(text) if plan.markers_null else text
        if pg_type in _INTEGERS or pg_type == NUMERIC:
            plain = plain_numbers(column, facts, trusted=True)
            if plain is not None and pg_type == NUMERIC:
                return _plain_numeric(column, plain.zero_fraction)
            if plain is not None and not plain.decimal and plain.zero_fraction is None:
                return _narrow(pc.cast(column, pa.int64()), pg_type)
        encoded = pc.dictionary_encode(column)
        return pc.take(self.convert_values(encoded.dictionary), encoded.indices)

    def convert_values(self, values: pa.Array) -> pa.Array:
        """Distinct strings converted (what ``values.convert`` gives, as Arrow)."""
        if self.pg_type in _BY_PYTHON:
            return self._by_python(values)
        analysis = analyse(values, self._classified)
        allowed = {EMPTY, MARKER, CENSORED, INT} | ({DECIMAL} if self.pg_type == NUMERIC else set())
        wrong = analysis.present() - allowed
        if wrong:
            bad = pc.filter(values, pc.is_in(analysis.kinds, value_set=_int8(sorted(wrong))))
            raise _changed(ValueConversionError(bad[0].as_py(), self.pg_type))
        if self.pg_type == NUMERIC:
            return _numeric_text(analysis)
        return _narrow(_integers(analysis, self.pg_type), self.pg_type)

    def _by_python(self, values: pa.Array) -> pa.Array:
        convert, memo = converter_for(self.pg_type), self._memo
        converted = []
        try:
            for value in values.to_pylist():
                if value in memo:
                    converted.append(memo[value])
                    continue
                result = convert(value)
                if len(memo) < MEMO_SIZE:
                    memo[value] = result
                converted.append(result)
        except ValueConversionError as exc:
            raise _changed(exc) from exc
        return pa.array(converted, ARROW_TYPES[self.pg_type])


def text_column(column: pa.Array, facts: BufferFacts) -> pa.Array:
    """``render_text`` on each value: stripped, and NULL when nothing is left."""
    edges = edge_whitespace(column, facts)
    if edges is not None and any_true(edges):
        column = pc.utf8_trim(column, facts.whitespace)
    empty = pc.equal(pc.binary_length(column), _I32[0])
    if any_true(empty):
        column = pc.if_else(empty, _NULL_TEXT, column)
    return column


def _plain_numeric(column: pa.Array, zero_fraction: pa.Array | None) -> pa.Array:
    """Plain numbers are their own Decimal text, except whole ones written with a point."""
    if zero_fraction is None:
        return column
    whole = pc.replace_substring_regex(pc.filter(column, zero_fraction), r"\.0*$", "")
    return pc.replace_with_mask(column, zero_fraction, whole)


def _integers(analysis: Analysis, pg_type: str) -> pa.Array:
    size = len(analysis.values)
    numbers = analysis.ints if analysis.ints is not None else pa.nulls(size, pa.int64())
    if not analysis.parsed:
        return numbers
    extra = [value if type(value) is int else None for _, value in sorted(analysis.parsed.items())]
    try:
        extra_array = pa.array(extra, pa.int64())
    except (OverflowError, pa.ArrowInvalid) as exc:
        biggest = max((v for v in extra if v is not None), key=abs)
        raise _changed(ValueConversionError(biggest, pg_type)) from exc
    return pc.replace_with_mask(numbers, _positions_mask(size, analysis.parsed), extra_array)


def _narrow(numbers: pa.Array, pg_type: str) -> pa.Array:
    try:
        return pc.cast(numbers, ARROW_TYPES[pg_type])
    except pa.ArrowInvalid as exc:
        raise BadInputError(f"a value is out of range for a {pg_type} column ({exc})") from exc


def _numeric_text(analysis: Analysis) -> pa.Array:
    """values._parse_number's Decimal as text: sign, digits, point, fraction, exponent."""
    shown = pc.replace_substring_regex(analysis.trimmed, r"[$,%]", "")
    shown = pc.replace_substring_regex(shown, r"\.([eE]|$)", r"\1")  # '5.' and '5.e3'
    shown = pc.replace_substring_regex(shown, r"^([+-]?)\.", r"\1" "0.")  # RE2: group 1, '0.'
    shown = pc.replace_substring(shown, "E", "e")
    text = pc.if_else(analysis.where(DECIMAL), shown, _NULL_TEXT)
    if analysis.ints is not None:
        text = pc.if_else(analysis.where(INT), pc.cast(analysis.ints, pa.string()), text)
    if analysis.parsed:
        extra = [
            None if value is None or type(value) is str else str(Decimal(value))
            for _, value in sorted(analysis.parsed.items())
        ]
        mask = _positions_mask(len(analysis.values), analysis.parsed)
        text = pc.replace_with_mask(text, mask, pa.array(extra, pa.string()))
    signed = pc.match_substring_regex(analysis.values, PERCENT_SIGN)
    return percent_texts(analysis, signed, text) if any_true(signed) else text


def _positions_mask(length: int, parsed: dict[int, object]) -> pa.Array:
    flags = [False] * length
    for position in parsed:
        flags[position] = True
    return pa.array(flags, pa.bool_())


def _changed(exc: ValueConversionError) -> BadInputError:
    return BadInputError(f"{exc}; did the file change while it was being read?")
