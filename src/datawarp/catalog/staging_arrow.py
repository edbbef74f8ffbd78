"""COPY of typed Arrow record batches: ``load.copy_rows`` for the CSV fast path.

The batches come from ``ExtractedTable.iter_arrow_batches`` (data columns, then
``_row_number``, ``_is_total``, ``_level``). Each is given the provenance constants (unless
the table is new: ``staging.load_constants``), written as CSV by ``pyarrow.csv.write_csv``
(no header) and streamed to ``COPY ... FROM STDIN (FORMAT csv)``: no
Python object per cell. In that CSV a NULL is an empty unquoted field and every string is
quoted, so an empty string could never be mistaken for NULL, and commas, quotes and line
breaks inside text survive. A worker thread feeds the connection while the next batch is
converted, through a short queue so memory stays bounded (``copy_writer``).

Columns held back for schema review go to ``datawarp.tbl_quarantine`` exactly as
``load._quarantine`` writes them (one JSONB object per row of the non-NULL held values);
that path is rare and builds its JSON in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg.types.json import Jsonb

from datawarp.catalog.copy_writer import BoundedCopyWriter
from datawarp.catalog.staging import (
    PER_ROW,
    ROW_DEFAULTS,
    Provenance,
    copy_statement,
    load_constants,
    quarantine_json,
)
from datawarp.core.naming import TableRef
from datawarp.core.pgtypes import PG_TYPE_KEY

_WRITE_OPTIONS = pa_csv.WriteOptions(include_header=False, batch_size=4096)


def copy_arrow(
    conn: psycopg.Connection,
    target: TableRef,
    column_names: Sequence[str],
    batches: Iterable[pa.RecordBatch],
    provenance: Provenance,
    *,
    held_back: dict[int, list[str]] | None = None,
    on_rows: Callable[[int], None] | None = None,
    new_table: bool = False,
    defaulted: frozenset[str] = frozenset(),
) -> int:
    """COPY every row of ``batches``; returns the number of rows. Same contract as
    ``load.copy_rows``, with Arrow batches (data columns, ``_row_number``, ``_is_total``,
    ``_level``)."""
    held_back = held_back or {}
    held_names = {name for names in held_back.values() for name in names}
    kept = [name for name in column_names if name not in held_names]
    total = 0
    with (
        load_constants(conn, target, provenance, new_table=new_table) as constants,
        conn.cursor() as cur,
    ):
        copy_main = copy_statement(
            target, kept, constants, "csv", new_table=new_table, defaulted=defaulted
        )
        shape = _Shape(column_names, kept, constants, defaulted)
        if not held_back:  # the usual load: one COPY for the whole file
            with cur.copy(copy_main, writer=BoundedCopyWriter(cur)) as copy:
                for batch in batches:
                    copy.write(shape.csv_bytes(batch))
                    total += batch.num_rows
                    if on_rows:
                        on_rows(batch.num_rows)
            return total
        for batch in batches:  # quarantine rows go between two COPYs of the main table
            with cur.copy(copy_main) as copy:
                copy.write(shape.csv_bytes(batch))
            _quarantine(cur, batch, column_names, held_back, provenance.load_id)
            total += batch.num_rows
            if on_rows:
                on_rows(batch.num_rows)
    return total


_CONSTANT_TYPES = {"_load_id": pa.int64()}  # the others are text


class _Shape:
    """A batch as the COPY takes it: the kept columns, the provenance constants still sent,
    the per-row provenance not left to its default, as CSV."""

    def __init__(
        self,
        column_names: Sequence[str],
        kept: list[str],
        constants: dict[str, object],
        defaulted: frozenset[str],
    ):
        self.width = len(column_names)
        self.data = None if len(kept) == self.width else [column_names.index(n) for n in kept]
        self.constants = [(_CONSTANT_TYPES.get(n, pa.string()), v) for n, v in constants.items()]
        self.sent = [self.width + PER_ROW.index(n) for n in PER_ROW if n not in defaulted]
        self.defaulted = [(self.width + PER_ROW.index(n), n) for n in sorted(defaulted)]

    def csv_bytes(self, batch: pa.RecordBatch) -> memoryview:
        if batch.num_columns != self.width + len(PER_ROW):
            raise ValueError(
                f"expected {self.width} data columns plus _row_number, _is_total, _level"
            )
        self._check_defaults(batch)
        rows, columns = batch.num_rows, batch.columns
        data = columns[: self.width] if self.data is None else [columns[i] for i in self.data]
        repeated = [pa.repeat(pa.scalar(value, kind), rows) for kind, value in self.constants]
        arrays = [*data, *repeated, *(columns[i] for i in self.sent)]
        table = pa.RecordBatch.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, _WRITE_OPTIONS)
        return memoryview(sink.getvalue())

    def _check_defaults(self, batch: pa.RecordBatch) -> None:
        """Pass 1 said every row leaves these at their defaults (no totals, one level); a row
        that does not would lose its flag, so the load stops instead."""
        for position, name in self.defaulted:
            column = batch.column(position)
            if ROW_DEFAULTS[name] is None:  # NULL: every value must be
                departs = column.null_count != len(column)
            else:  # false: no value may be true
                departs = bool(pc.any(column).as_py())
            if departs:
                raise RuntimeError(f"a row's {name} differs from what the first pass found")


def _quarantine(
    cur: psycopg.Cursor,
    batch: pa.RecordBatch,
    column_names: Sequence[str],
    held_back: dict[int, list[str]],
    load_id: int,
) -> None:
    """Held-back values per row, as ``load._quarantine`` stores them (rare: Python is fine)."""
    numbers = batch.column(len(column_names)).to_pylist()
    with cur.copy(
        "COPY datawarp.tbl_quarantine (change_id, load_id, row_number, values) FROM STDIN"
    ) as copy:
        for change_id, names in held_back.items():
            columns = {name: _python_values(batch, column_names.index(name)) for name in names}
            for index, row_number in enumerate(numbers):
                values = {
                    name: column[index]
                    for name, column in columns.items()
                    if column[index] is not None
                }
                if values:
                    copy.write_row((change_id, load_id, row_number, Jsonb(values, quarantine_json)))


def _python_values(batch: pa.RecordBatch, index: int) -> list:
    """The values ``iter_batches`` would give: numeric text becomes its Decimal."""
    values = batch.column(index).to_pylist()
    metadata = batch.schema.field(index).metadata or {}
    if metadata.get(PG_TYPE_KEY) == b"numeric":
        return [None if value is None else Decimal(value) for value in values]
    return values
