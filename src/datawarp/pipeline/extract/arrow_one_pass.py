"""Pass 1 and pass 2 of the CSV fast path in one read, on the first block's types.

A plain CSV (``arrow_csv``) is otherwise read twice: pass 1 profiles every record to find
each column's type, pass 2 reads the file again to convert it. The types the first block of
a file gives (``BLOCK_BYTES`` of it, tens of thousands of rows) are nearly always the ones
the whole file gives, so ``OnePass`` converts every batch as they say while pass 1 profiles
the same batch: the COPY starts at once and the file is parsed once. What pass 1 then found
in every row decides whether the guess held (``one_pass.guess_held``); where it did not (a
wider number late in the file, a totals row, censored values), the caller undoes the rows
sent and runs pass 2 as usual, with pass 1's complete findings. Where a batch cannot be
converted as guessed, the conversions stop there but pass 1 goes on to the end of the file,
so its findings are complete all the same.

The batches carry ``_is_total`` false and ``_level`` NULL: a guess holds only for a file
with no totals rows and one level, where that is what pass 2 gives every row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import pyarrow as pa

from datawarp.pipeline.extract.arrow_convert import ArrowConverter
from datawarp.pipeline.extract.arrow_csv import (
    ArrowProfile,
    empty_profile,
    profile_batch,
    profile_pool,
    row_numbers,
)
from datawarp.pipeline.extract.arrow_rows import typed_schema
from datawarp.pipeline.extract.arrow_stream import ArrowFallback, ArrowSource
from datawarp.pipeline.extract.originals import ColumnPlan
from datawarp.pipeline.extract.table import TableLayout

_FALSE = pa.scalar(False, pa.bool_())


class GuessMissed(Exception):
    """A batch could not be converted as the first block's types say; pass 1 has still read
    the whole file (``OnePass.profile``)."""


class OnePass:
    """One read of a plain CSV: every batch profiled (pass 1) and converted as ``plans`` say."""

    def __init__(self, source: ArrowSource, layout: TableLayout) -> None:
        self.source = source
        self.profile: ArrowProfile = empty_profile(source, layout)
        self.missed: str | None = None  # why a batch could not be converted as guessed
        self.finished = False  # every record was read

    def typed_batches(
        self, names: Sequence[str], plans: Sequence[ColumnPlan], batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """``arrow_csv.typed_batches``'s batches, made as ``plans`` say, while the profile
        fills. ``GuessMissed`` once the file is read if a batch could not be converted;
        ``ArrowFallback`` (at once) for what the fast path cannot read."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        schema = typed_schema(names, [plan.pg_type for plan in plans])
        converters = [ArrowConverter(plan.pg_type, plan) for plan in plans]
        result = self.profile

        def both(batch: pa.RecordBatch) -> pa.RecordBatch | None:
            first_row = result.first_line + result.row_count
            facts = profile_batch(result, batch, pool)
            if self.missed is not None:
                return None
            try:
                values = [
                    converter(batch.column(plan.source), facts[plan.source])
                    for converter, plan in zip(converters, plans, strict=True)
                ]
            except Exception as exc:  # noqa: BLE001 - any failure means the guess was wrong
                self.missed = f"row {first_row} on: {exc}"
                return None
            count = batch.num_rows
            per_row = [row_numbers(first_row, count), pa.repeat(_FALSE, count),
                       pa.nulls(count, pa.string())]  # fmt: skip
            return pa.RecordBatch.from_arrays([*values, *per_row], schema=schema)

        with profile_pool() as pool, contextlib.closing(self.source.batches(both)) as typed:
            for batch in typed:
                if batch is not None:
                    for start in range(0, batch.num_rows, batch_size):
                        yield batch.slice(start, batch_size)
        if not result.row_count:
            raise ArrowFallback("no data rows")
        self.finished = True
        if self.missed is not None:
            raise GuessMissed(self.missed)
