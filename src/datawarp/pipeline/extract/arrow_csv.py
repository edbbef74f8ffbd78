"""The CSV fast path: both passes of the engine on pyarrow record batches, never cell by cell.

``engine.open_table`` tries it for a CSV (plain or in a ZIP) whose detected layout is plain:
one header record on line 1, data from line 2, every header field a column, no blocks. It
streams the file with ``pyarrow.csv.open_csv`` (every field read as a string, a few MB at a
time, so memory stays bounded), profiles the columns with ``arrow_values`` (pass 1), and
later converts the batches into typed Arrow arrays (pass 2) that ``load_arrow`` COPYs.

The Python path (``table_rows`` + ``columns``) stays the reference: the results are the same
(the tests prove it on every sample file and on generated ones), and whatever this module
cannot reproduce exactly makes it give up with ``ArrowFallback`` so the Python path runs:

* a record whose field count differs from the header (ragged rows, notes lines, blank lines);
* a row with no value (blank) or a single value that reads as a note ('Notes:', '© ...');
* a value holding a line break or NUL (line numbers would shift), or bytes that are not the
  detected encoding (UTF-8 with stray Windows-1252 bytes);
* anything pyarrow refuses (an unterminated quote), or a file with no data rows.

``DATAWARP_NO_ARROW=1`` in the environment turns the fast path off (comparisons, debugging).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.core.errors import BadInputError
from datawarp.core.pgtypes import PG_TYPE_KEY
from datawarp.pipeline.extract.arrow_convert import ARROW_TYPES, ArrowConverter
from datawarp.pipeline.extract.arrow_stream import ArrowFallback, ArrowSource
from datawarp.pipeline.extract.arrow_values import (
    Analysis,
    BufferFacts,
    analyse,
    any_true,
    blank_count,
    count_true,
    plain_numbers,
    total_mask,
)
from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.table import TableLayout
from datawarp.pipeline.extract.table_rows import is_note_line, minority_marker_columns
from datawarp.pipeline.extract.values import (
    BOOL,
    DAY,
    DECIMAL,
    EMPTY,
    INT,
    MARKER,
    MOMENT,
    TEXT,
    WORDS,
)
from datawarp.pipeline.extract.workbook import Workbook

NO_ARROW_ENV = "DATAWARP_NO_ARROW"
_ZERO, _ONE = pa.scalar(0, pa.int32()), pa.scalar(1, pa.int32())
_FALSE = pa.scalar(False, pa.bool_())
# A % sign ending the value, before whatever str.rstrip() would strip (the Python path's rule).
_PERCENT_SIGN = r"%[\s\p{Z}\x{1c}-\x{1f}\x{85}]*$"


def arrow_enabled() -> bool:
    return os.environ.get(NO_ARROW_ENV, "").strip().lower() in ("", "0", "false", "no")


def plain_layout_problem(layout: TableLayout) -> str | None:
    """Why the fast path cannot read this layout, or None when it can."""
    if layout.header_rows != [1] or layout.first_data_row != 2:
        return "the header is not the first line, or data does not start on line 2"
    if len(layout.blocks) != 1 or layout.blocks[0].titles or layout.block_title_count:
        return "side-by-side blocks"
    if layout.header_width < 2:
        return "a one-column file"
    if layout.blocks[0].sheet_columns != tuple(range(layout.header_width)):
        return "some header fields are not columns"
    return None


# ---------------------------------------------------------------------------------------------
# Pass 1


class ArrowColumnStats:
    """``columns.ColumnStats`` for Arrow batches: same type, same NULL and marker counts.

    The type comes from a real ``ColumnProfile`` fed one representative of each kind seen
    (and the extreme integers), so the inference rules are the ones the Python path uses.
    """

    def __init__(self) -> None:
        self.profile = ColumnProfile()
        self.cells = 0
        self._counts = {EMPTY: 0, MARKER: 0}
        self._seen: set[int] = set()
        self._low: int | None = None
        self._high: int | None = None
        self._memo: dict[str, tuple[int, object]] = {}

    def observe(self, column: pa.Array, facts: BufferFacts) -> None:
        self.cells += len(column)
        if WORDS in self._seen:  # text from now on: only empty cells still count
            self._counts[EMPTY] += blank_count(column, facts)
            return
        ranged = not self._seen & _NOT_INTEGER
        plain = plain_numbers(column, facts, extremes=ranged)
        if plain is not None:  # every value a number (or empty): which carry a % sign?
            signed = pc.match_substring_regex(column, _PERCENT_SIGN)
            filled = pc.greater(pc.binary_length(column), 0)
            self.profile.note_numbers(percent=any_true(signed),
                                      plain=any_true(pc.and_(filled, pc.invert(signed))))  # fmt: skip
            for kind, flag in ((INT, plain.integral), (DECIMAL, plain.decimal)):
                if flag and kind not in self._seen:
                    self._seen.add(kind)
                    if kind == DECIMAL:
                        self.profile.observe(_REPRESENTATIVES[kind])
            if plain.integral and ranged and not plain.decimal:
                self._observe_extremes(0, plain.high)  # the bucket is all that matters
            return
        distinct = pc.unique(column)
        analysis = analyse(distinct, self._memo)
        present = analysis.present()
        if present & {INT, DECIMAL}:
            numeric = pc.or_(analysis.where(INT), analysis.where(DECIMAL))
            signed = pc.match_substring_regex(distinct, _PERCENT_SIGN)
            self.profile.note_numbers(percent=any_true(pc.and_(numeric, signed)),
                                      plain=any_true(pc.and_(numeric, pc.invert(signed))))  # fmt: skip
        for kind in present - self._seen:
            self._seen.add(kind)
            if kind != INT:  # integers are observed by their extremes
                self.profile.observe(_REPRESENTATIVES[kind])
        if INT in present:
            self._observe_range(analysis)
        for kind in (EMPTY, MARKER):
            if kind in present:
                values = pc.filter(distinct, analysis.where(kind))
                self._counts[kind] += count_true(pc.is_in(column, value_set=values))

    def _observe_range(self, analysis: Analysis) -> None:
        numbers = []
        if analysis.ints is not None:
            extremes = pc.min_max(analysis.ints).as_py()
            numbers += [extremes["min"], extremes["max"]]
        numbers += [value for value in analysis.parsed.values() if type(value) is int]
        numbers = [number for number in numbers if number is not None]
        if numbers:
            self._observe_extremes(min(numbers), max(numbers))

    def _observe_extremes(self, low: int, high: int) -> None:
        if self._low is None or low < self._low:
            self._low = low
            self.profile.observe(low)
        if self._high is None or high > self._high:
            self._high = high
            self.profile.observe(high)

    @property
    def pg_type(self) -> str:
        return self.profile.pg_type

    @property
    def suppressed_count(self) -> int:
        return 0 if self.pg_type == TEXT else self._counts[MARKER]

    @property
    def null_count(self) -> int:
        return self._counts[EMPTY] + self.suppressed_count

    @property
    def is_fully_suppressed(self) -> bool:
        markers, empty = self._counts[MARKER], self._counts[EMPTY]
        return markers > 0 and markers + empty == self.cells


_NOT_INTEGER = {DECIMAL, DAY, MOMENT, BOOL, WORDS}  # with these, integer ranges do not matter
_REPRESENTATIVES: dict[int, object] = {
    EMPTY: None,
    MARKER: "*",
    DECIMAL: Decimal("0.5"),
    DAY: dt.date(2000, 1, 1),
    MOMENT: dt.datetime(2000, 1, 1, 12),
    BOOL: True,
    WORDS: "words",
}


@dataclass
class ArrowProfile:
    """Pass 1's findings; it answers the questions ``engine`` asks a ``TableReader``."""

    source: ArrowSource
    first_line: int
    stats: list[ArrowColumnStats]
    row_count: int = 0
    label_columns: tuple[int, ...] = ()
    total_label_hits: dict[int, int] = field(default_factory=dict)
    _total_hits: list[tuple[int, pa.Array]] = field(default_factory=list, repr=False)
    end_row: None = None  # the table always runs to the end of the file here

    @property
    def last_data_row(self) -> int | None:
        return self.first_line + self.row_count - 1 if self.row_count else None

    def end_warnings(self) -> list[str]:
        return []

    def marker_columns(self) -> tuple[int, ...]:
        return minority_marker_columns(self.total_label_hits, self.row_count)

    def total_rows(self) -> list[int]:
        return self.total_row_numbers().to_pylist()

    def total_row_numbers(self) -> pa.Array:
        """Row numbers of the totals rows, ascending (int32): hits in the marker columns."""
        allowed = set(self.marker_columns())
        hits = [numbers for position, numbers in self._total_hits if position in allowed]
        if not hits:
            return pa.array([], pa.int32())
        numbers = pc.unique(pc.cast(pa.concat_arrays(hits), pa.int32()))
        return pc.array_take(numbers, pc.array_sort_indices(numbers))

    def typed_batches(
        self,
        names: list[str],
        pg_types: list[str],
        batch_size: int,
        display_name: str,
    ) -> Iterator[pa.RecordBatch]:
        """Pass 2 (see ``typed_batches``) with what pass 1 found."""
        return typed_batches(
            self.source, self.first_line, names, pg_types, self.total_row_numbers(),
            self.row_count, batch_size, display_name,
        )  # fmt: skip


def workbook_source(path: Path, workbook: Workbook, layout: TableLayout) -> ArrowSource:
    return ArrowSource(
        path=path,
        member=workbook.member,
        encoding=workbook.encoding or "utf-8",
        delimiter=workbook.delimiter or ",",
        width=layout.header_width,
    )


def profile(source: ArrowSource, layout: TableLayout) -> ArrowProfile:
    """Pass 1: read every record once, infer each column's type and find the totals rows."""
    problem = plain_layout_problem(layout)
    if problem:
        raise ArrowFallback(problem)
    assert layout.first_data_row is not None
    result = ArrowProfile(
        source=source,
        first_line=layout.first_data_row,
        stats=[ArrowColumnStats() for _ in layout.columns],
        label_columns=tuple(layout.label_columns),
        total_label_hits=dict.fromkeys(layout.label_columns, 0),
    )
    with contextlib.closing(source.batches()) as batches:
        for batch in batches:
            _profile_batch(result, batch)
    if not result.row_count:
        raise ArrowFallback("no data rows")
    return result


def _profile_batch(result: ArrowProfile, batch: pa.RecordBatch) -> None:
    columns = batch.columns
    facts = [BufferFacts.of(column) for column in columns]
    if any(fact.breaks for fact in facts):
        raise ArrowFallback("a value holds a line break or NUL")
    _check_rows(columns)
    for stats, column, fact in zip(result.stats, columns, facts, strict=True):
        stats.observe(column, fact)
    start = pa.scalar(result.first_line + result.row_count, pa.uint64())
    for position in result.label_columns:
        mask = total_mask(columns[position])
        if mask is not None:
            hits = pc.indices_nonzero(mask)
            result.total_label_hits[position] += len(hits)
            result._total_hits.append((position, pc.add(hits, start)))
    result.row_count += batch.num_rows


def _check_rows(columns: list[pa.Array]) -> None:
    """Blank rows, and one-value rows that are notes, end or split the table: not here."""
    empties = [pc.equal(pc.binary_length(column), _ZERO) for column in columns]
    if not (pc.any(empties[0]).as_py() or pc.any(empties[1]).as_py()):
        return  # every row has its first two values, like table_rows._two_values_each
    filled = None
    for empty in empties:
        value = pc.cast(pc.invert(empty), pa.int32())
        filled = value if filled is None else pc.add(filled, value)
    if pc.any(pc.equal(filled, _ZERO)).as_py():
        raise ArrowFallback("a blank row")
    for row in pc.indices_nonzero(pc.equal(filled, _ONE)).to_pylist():
        text = next(value for column in columns if (value := column[row].as_py()))
        if is_note_line(text.strip()):
            raise ArrowFallback("a notes line")


# ---------------------------------------------------------------------------------------------
# Pass 2


def typed_batches(
    source: ArrowSource,
    first_line: int,
    names: list[str],
    pg_types: list[str],
    total_rows: pa.Array,
    expected_rows: int,
    batch_size: int,
    display_name: str,
) -> Iterator[pa.RecordBatch]:
    """Typed record batches of at most ``batch_size`` rows: the columns, then
    ``_row_number`` (int32) and ``_is_total`` (bool)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    schema = pa.schema(
        [
            pa.field(name, ARROW_TYPES[pg_type], metadata={PG_TYPE_KEY: pg_type.encode()})
            for name, pg_type in zip(names, pg_types, strict=True)
        ]
        + [pa.field("_row_number", pa.int32()), pa.field("_is_total", pa.bool_())]
    )
    converters = [ArrowConverter(pg_type) for pg_type in pg_types]

    def convert(batch: pa.RecordBatch) -> tuple[list[pa.Array], int]:
        columns = batch.columns
        return [
            converter(column, BufferFacts.of(column))
            for converter, column in zip(converters, columns, strict=True)
        ], batch.num_rows

    rows = 0
    try:
        with contextlib.closing(source.batches(convert)) as converted:
            for arrays, count in converted:
                numbers = _row_numbers(first_line + rows, count)
                totals = _totals(numbers, total_rows, first_line + rows, count)
                typed = pa.RecordBatch.from_arrays([*arrays, numbers, totals], schema=schema)
                rows += count
                for start in range(0, count, batch_size):
                    yield typed.slice(start, batch_size)
    except ArrowFallback as exc:
        raise BadInputError(f"{display_name} could not be read again ({exc})") from exc
    if rows != expected_rows:
        raise BadInputError(
            f"{display_name} changed while it was being read "
            f"({expected_rows} rows, then {rows}); load it again"
        )


_COUNTING: list[pa.Array] = [pa.array([], pa.int32())]


def _row_numbers(first: int, count: int) -> pa.Array:
    base = _COUNTING[0]
    if len(base) < count:
        base = _COUNTING[0] = pa.array(range(max(count, 2 * len(base))), pa.int32())
    return pc.add(base.slice(0, count), pa.scalar(first, pa.int32()))


def _totals(numbers: pa.Array, total_rows: pa.Array, first: int, count: int) -> pa.Array:
    """The ``_is_total`` flags of a batch, from the totals rows pass 1 found."""
    if len(total_rows):
        low, high = pa.scalar(first, pa.int32()), pa.scalar(first + count - 1, pa.int32())
        inside = pc.and_(pc.greater_equal(total_rows, low), pc.less_equal(total_rows, high))
        if any_true(inside):
            return pc.is_in(numbers, value_set=pc.filter(total_rows, inside))
    return pa.repeat(_FALSE, count)
