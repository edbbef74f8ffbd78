"""Pass 1 and pass 2 of the CSV fast path in one read, on the first block's findings.

A plain CSV (``arrow_csv``) is otherwise read twice: pass 1 profiles every record to find
each column's type, the totals rows and the levels, pass 2 reads the file again to convert it.
What the first block of a file says (``BLOCK_BYTES`` of it, tens of thousands of rows) is
nearly always what the whole file says, so ``OnePass`` converts every batch as the first
block's types say, and flags its totals rows and levels by the first block's rules (which
columns the totals rule reads, whether the file mixes levels), while pass 1 profiles the same
batch: the COPY starts at once and the file is parsed once. What pass 1 then found in every
row decides whether the guess held (``one_pass.guess_held``: the same types, the same rules,
and the very rows flagged and levels counted); where it did not, the caller undoes the rows
sent and runs pass 2 as usual, with pass 1's complete findings. Where a batch cannot be
converted as guessed, or flags a row the COPY leaves to its default, the conversions stop
there but pass 1 goes on to the end of the file, so its findings are complete all the same.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.pipeline.extract import arrow_levels
from datawarp.pipeline.extract.ahead import in_thread
from datawarp.pipeline.extract.arrow_convert import ArrowConverter
from datawarp.pipeline.extract.arrow_csv import (
    ArrowProfile,
    BatchFindings,
    empty_profile,
    profile_batch,
    profile_pool,
    row_numbers,
)
from datawarp.pipeline.extract.arrow_rows import typed_schema
from datawarp.pipeline.extract.arrow_stream import READ_AHEAD, ArrowFallback, ArrowSource
from datawarp.pipeline.extract.level_rules import NATIONAL
from datawarp.pipeline.extract.originals import ColumnPlan
from datawarp.pipeline.extract.row_levels import LevelDecision
from datawarp.pipeline.extract.table import TableLayout

_FALSE = pa.scalar(False, pa.bool_())


@dataclass(frozen=True)
class RowRules:
    """How the first block flags rows: the columns the totals rule reads, the levels (None,
    or not mixed: every ``_level`` NULL), and whether the COPY sends the flags at all (it
    leaves them to their column defaults when the first block has neither)."""

    marker_columns: tuple[int, ...]
    levels: LevelDecision | None
    sent: bool


class GuessMissed(Exception):
    """A batch could not be made as the first block says (a value its type cannot hold, a
    totals row where the COPY leaves the flag to its default); pass 1 has still read the
    whole file (``OnePass.profile``)."""


class OnePass:
    """One read of a plain CSV: every batch profiled (pass 1) and converted as ``plans`` say."""

    def __init__(self, source: ArrowSource, layout: TableLayout) -> None:
        self.source = source
        self.profile: ArrowProfile = empty_profile(source, layout)
        self.missed: str | None = None  # why a batch could not be made as guessed
        self.finished = False  # every record was read
        self.flagged: list[int] = []  # the rows sent as totals rows
        self.level_counts: Counter[str] = Counter()  # the rows sent at each level

    def typed_batches(
        self,
        names: Sequence[str],
        plans: Sequence[ColumnPlan],
        rules: RowRules,
        batch_size: int,
    ) -> Iterator[pa.RecordBatch]:
        """``arrow_csv.typed_batches``'s batches, made as ``plans`` and ``rules`` say, while
        the profile fills. ``GuessMissed`` once the file is read if a batch could not be made;
        ``ArrowFallback`` (at once) for what the fast path cannot read."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        make = _Maker(self, plans, rules, typed_schema(names, [p.pg_type for p in plans]))
        result = self.profile

        def profiled(batch: pa.RecordBatch) -> tuple:  # on the reader's second thread
            first_row = result.first_line + result.row_count
            return batch, profile_batch(result, batch, pool), first_row

        def made() -> Iterator[pa.RecordBatch | None]:  # on a thread of its own
            with contextlib.closing(stage) as items:
                for batch, found, first_row in items:
                    yield make(batch, found, first_row)

        # Pass 1 and the conversions on threads of their own, a few batches apart: on one
        # thread each batch waited for both, and the COPY for that thread.
        with profile_pool() as pool, contextlib.closing(self.source.batches(profiled)) as stage:
            with contextlib.closing(
                in_thread(made, "datawarp-one-read", ahead=READ_AHEAD)
            ) as typed:
                for batch in typed:
                    if batch is not None:
                        for start in range(0, batch.num_rows, batch_size):
                            yield batch.slice(start, batch_size)
        if not result.row_count:
            raise ArrowFallback("no data rows")
        self.finished = True
        if self.missed is not None:
            raise GuessMissed(self.missed)

    def _row_columns(
        self, batch: pa.RecordBatch, rules: RowRules, first_row: int, found: BatchFindings
    ) -> list[pa.Array] | None:
        """``_row_number``, ``_is_total`` and ``_level``, the flagged rows and levels counted;
        None (missed) when a row is flagged that the COPY would leave to its default. What
        pass 1 found on the batch is used again: the totals rows of each label column (the
        columns the rule reads are among them) and the rows' level classes."""
        count, columns = batch.num_rows, batch.columns
        levels = arrow_levels.level_array(rules.levels, columns, count, found.classes)
        totals = None
        for position in rules.marker_columns:
            hits = found.totals[position]
            if hits is not None:
                totals = hits if totals is None else pc.or_(totals, hits)
        if rules.levels is not None and rules.levels.mixed:
            national = pc.fill_null(pc.equal(levels, pa.scalar(NATIONAL)), False)
            totals = national if totals is None else pc.or_(totals, national)
            found = pc.value_counts(levels)  # a row no rule places stays NULL, uncounted
            pairs = zip(found.field("values").to_pylist(), found.field("counts").to_pylist(),
                        strict=True)  # fmt: skip
            self.level_counts.update({level: n for level, n in pairs if level is not None})
        if totals is not None and pc.any(totals).as_py():
            if not rules.sent:
                self.missed = f"row {first_row} on: a totals row the first block had none of"
                return None
            self.flagged += pc.add(pc.indices_nonzero(totals), first_row).to_pylist()
        flags = pa.repeat(_FALSE, count) if totals is None else totals
        return [row_numbers(first_row, count), flags, levels]


class _Maker:
    """A profiled batch made as the guess says; None once a batch has missed it."""

    def __init__(
        self, one_pass: OnePass, plans: Sequence[ColumnPlan], rules: RowRules, schema: pa.Schema
    ) -> None:
        self.one_pass, self.plans, self.rules, self.schema = one_pass, plans, rules, schema
        self.converters = [ArrowConverter(plan.pg_type, plan) for plan in plans]

    def __call__(
        self, batch: pa.RecordBatch, found: BatchFindings, first_row: int
    ) -> pa.RecordBatch | None:
        one_pass = self.one_pass
        if one_pass.missed is not None:
            return None
        try:
            values = [
                converter(batch.column(plan.source), found.facts[plan.source])
                for converter, plan in zip(self.converters, self.plans, strict=True)
            ]
        except Exception as exc:  # noqa: BLE001 - any failure means the guess was wrong
            one_pass.missed = f"row {first_row} on: {exc}"
            return None
        per_row = one_pass._row_columns(batch, self.rules, first_row, found)
        if per_row is None:
            return None
        return pa.RecordBatch.from_arrays([*values, *per_row], schema=self.schema)
