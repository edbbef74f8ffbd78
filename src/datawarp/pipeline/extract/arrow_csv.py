"""The CSV fast path: both passes of the engine on pyarrow record batches, never cell by cell.

``engine.open_table`` tries it for a CSV (plain or in a ZIP) whose detected layout is plain:
one header record on line 1, data from line 2, every header field a column, no blocks; a file
with ``fill_down`` columns takes the Python path, which fills them (``fill_down``). It
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
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract import arrow_levels
from datawarp.pipeline.extract.arrow_convert import ArrowConverter
from datawarp.pipeline.extract.arrow_rows import typed_schema
from datawarp.pipeline.extract.arrow_stats import ArrowColumnStats
from datawarp.pipeline.extract.arrow_stream import ArrowFallback, ArrowSource
from datawarp.pipeline.extract.arrow_values import (
    BufferFacts,
    any_true,
    total_mask,
)
from datawarp.pipeline.extract.originals import ColumnPlan
from datawarp.pipeline.extract.row_levels import LevelDecision, LevelTracker, tracker_for
from datawarp.pipeline.extract.scales import names_a_percentage
from datawarp.pipeline.extract.table import TableLayout
from datawarp.pipeline.extract.table_rows import is_note_line, minority_marker_columns
from datawarp.pipeline.extract.workbook import Workbook

_ZERO, _ONE = pa.scalar(0, pa.int32()), pa.scalar(1, pa.int32())
_FALSE = pa.scalar(False, pa.bool_())
PROFILE_THREADS = max(1, min(4, os.cpu_count() or 1))  # pass 1 works on columns side by side


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
    levels: LevelTracker | None = field(default=None, repr=False)  # pass 1's row levels
    _decision: LevelDecision | None = field(default=None, repr=False)
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

    def level_decision(self) -> LevelDecision | None:
        if self._decision is None and self.levels is not None:
            self._decision = self.levels.decide(self.marker_columns())
        return self._decision

    def level_counts(self) -> dict[str, int]:
        decision = self.level_decision()
        return dict(decision.counts) if decision is not None else {}

    def total_row_numbers(self) -> pa.Array:
        """Row numbers of the totals rows, ascending (int32): hits in the marker columns, and
        the rows ``row_levels`` placed national."""
        allowed = set(self.marker_columns())
        hits = [numbers for position, numbers in self._total_hits if position in allowed]
        decision = self.level_decision()
        if decision is not None and decision.mixed and decision.national_rows:
            hits.append(pa.array(decision.national_rows, pa.uint64()))
        if not hits:
            return pa.array([], pa.int32())
        numbers = pc.unique(pc.cast(pa.concat_arrays(hits), pa.int32()))
        return pc.array_take(numbers, pc.array_sort_indices(numbers))

    def typed_batches(
        self,
        names: list[str],
        plans: list[ColumnPlan],
        batch_size: int,
        display_name: str,
    ) -> Iterator[pa.RecordBatch]:
        """Pass 2 (see ``typed_batches``) with what pass 1 found."""
        return typed_batches(
            self.source, self.first_line, names, plans, self.total_row_numbers(),
            self.row_count, batch_size, display_name, self.level_decision(),
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
    result = empty_profile(source, layout)
    with contextlib.closing(source.batches()) as batches, profile_pool() as pool:
        for batch in batches:
            profile_batch(result, batch, pool)
    if not result.row_count:
        raise ArrowFallback("no data rows")
    return result


def empty_profile(source: ArrowSource, layout: TableLayout) -> ArrowProfile:
    """Pass 1's findings before the first record (``ArrowFallback`` for a layout it cannot
    read)."""
    problem = plain_layout_problem(layout)
    if problem:
        raise ArrowFallback(problem)
    assert layout.first_data_row is not None
    return ArrowProfile(
        source=source,
        first_line=layout.first_data_row,
        stats=[
            ArrowColumnStats(percent_header=names_a_percentage(column.original_header))
            for column in layout.columns
        ],
        label_columns=tuple(layout.label_columns),
        total_label_hits=dict.fromkeys(layout.label_columns, 0),
        levels=tracker_for(layout),
    )


def profile_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(PROFILE_THREADS, thread_name_prefix="profile")


@dataclass
class BatchFindings:
    """What pass 1 worked out on one batch that converting it can use again: one scan of each
    column's bytes, each label column's totals rows, the rows' level classes."""

    facts: list[BufferFacts]
    totals: dict[int, pa.Array | None]  # by label column: its rows labelled as totals
    classes: tuple[pa.Array, list] | None  # arrow_levels.batch_classes, when levels are read


def profile_batch(result: ArrowProfile, batch: pa.RecordBatch, pool: Executor) -> BatchFindings:
    """One batch into pass 1's findings (``BatchFindings``: what it found on the way)."""
    columns = batch.columns
    facts = [BufferFacts.of(column) for column in columns]
    if any(fact.breaks for fact in facts):
        raise ArrowFallback("a value holds a line break or NUL")
    _check_rows(columns)
    first_row = result.first_line + result.row_count
    # Each column's statistics are its own: they are worked out side by side (pyarrow's
    # kernels release the GIL), the totals and levels meanwhile on this thread.
    observed = [
        pool.submit(stats.observe, column, fact, first_row)
        for stats, column, fact in zip(result.stats, columns, facts, strict=True)
    ]
    totals, classes = _observe_rows(result, columns, first_row)
    for future in observed:
        future.result()
    result.row_count += batch.num_rows
    return BatchFindings(facts, totals, classes)


def _observe_rows(
    result: ArrowProfile, columns: list[pa.Array], first_row: int
) -> tuple[dict[int, pa.Array | None], tuple | None]:
    """The rows labelled as totals, and the batch's levels (both also returned)."""
    start = pa.scalar(first_row, pa.uint64())
    # A column both rules read is hashed once: the totals rule takes its dictionary, the
    # levels its indices.
    shared = set(result.label_columns)
    shared &= set(result.levels.plan.positions) if result.levels is not None else set()
    encoded = {position: arrow_levels.encode(columns[position]) for position in shared}
    totals = {}
    for position in result.label_columns:
        mask = totals[position] = total_mask(encoded.get(position, columns[position]))
        if mask is not None:
            hits = pc.indices_nonzero(mask)
            result.total_label_hits[position] += len(hits)
            result._total_hits.append((position, pc.add(hits, start)))
    if result.levels is None:
        return totals, None
    return totals, arrow_levels.observe(result.levels, columns, first_row, encoded)


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
    plans: list[ColumnPlan],
    total_rows: pa.Array,
    expected_rows: int,
    batch_size: int,
    display_name: str,
    levels: LevelDecision | None = None,
) -> Iterator[pa.RecordBatch]:
    """Typed record batches of at most ``batch_size`` rows: the columns, then
    ``_row_number`` (int32), ``_is_total`` (bool) and ``_level`` (string, ``row_levels``)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    schema = typed_schema(names, [plan.pg_type for plan in plans])
    converters = [ArrowConverter(plan.pg_type, plan) for plan in plans]

    def convert(batch: pa.RecordBatch) -> tuple[list[pa.Array], int]:
        columns = batch.columns
        facts = [BufferFacts.of(column) for column in columns]
        return [
            *(converter(columns[plan.source], facts[plan.source])
              for converter, plan in zip(converters, plans, strict=True)),
            arrow_levels.level_array(levels, columns, batch.num_rows),
        ], batch.num_rows  # fmt: skip

    rows = 0
    try:
        with contextlib.closing(source.batches(convert)) as converted:
            for arrays, count in converted:
                numbers = row_numbers(first_line + rows, count)
                totals = _totals(numbers, total_rows, first_line + rows, count)
                *values, level = arrays
                typed = pa.RecordBatch.from_arrays([*values, numbers, totals, level], schema=schema)
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


def row_numbers(first: int, count: int) -> pa.Array:
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
