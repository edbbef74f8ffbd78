"""Tables to verified Parquet files and back, streamed in bounded memory.

Export: ``COPY (SELECT ...) TO STDOUT`` as CSV → pyarrow's streaming CSV reader, typed →
``ParquetWriter`` (zstd, row groups of ``row_group_rows``, 100,000 by default): memory holds a
few CSV blocks and one row group, whatever the table's size. Written as ``<name>.partial``,
renamed once verified.

Types kept: smallint/integer/bigint → int16/int32/int64; real/double precision →
float32/float64; boolean; date → date32; timestamp → timestamp[us]; timestamp with time zone →
timestamp[us, UTC]; numeric(p,s) → decimal128(p,s) when p ≤ 38. An unconstrained numeric
column (DataWarp's own) takes the precision and scale its values need, measured before the
export; a column needing more than decimal128's 38 digits, or holding NaN or ±Infinity, is
written as its exact text (string). Text and every other type (varchar, json, uuid, interval,
arrays...) are strings holding PostgreSQL's text form. Each field carries its PostgreSQL type in
the field metadata key ``datawarp.pg_type``, so a restore recreates the exact column types.

Metadata, JSON under ``datawarp.*`` keys, no sidecar files: the Arrow schema's metadata holds
the source (``datawarp.source``), its column metadata (``datawarp.columns``) and the load
history of the table or period (``datawarp.load_history``); the file's own key-value metadata,
written after the rows, adds ``datawarp.row_count`` and ``datawarp.content_checksum``.

Verification reads the file back with pyarrow and compares its row count and a digest of its
values, in order (``arrow_digest``), with those of the values the table's COPY produced: what
was exported is what the file holds, types included. The server's own content checksum of the
rows (``catalog.archives``), computed in the export's COPY, is recorded beside it; ``datawarp
archive verify`` (or ``verify = "database"`` in ``[datawarp.lifecycle]``) loads the file back
into a temporary table and compares that checksum too: the full round trip, at about twice the
time of the archive itself. The file's SHA-256 is that of the bytes as stored.
``archive_table_to`` archives a whole table (a source's or an orphan's) with it.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from datawarp.catalog import archives, loads
from datawarp.catalog.archives import Column, RowFilter
from datawarp.catalog.introspect import table_exists
from datawarp.core.errors import ConflictError, LoadAborted
from datawarp.core.pgtypes import PG_TYPE_KEY
from datawarp.ops.archive_store import ArchiveFailed, ArchiveStore, first_line
from datawarp.ops.arrow_digest import ValueDigest

if TYPE_CHECKING:
    import psycopg
    import pyarrow.fs as pafs

    from datawarp.core.naming import TableRef
    from datawarp.core.settings import Settings

CSV_BLOCK_BYTES = 1 << 20  # small blocks and batches: measured to halve peak memory, not speed
READ_BACK_ROWS = 16_384
CHECK_BATCH_ROWS = 65_536
_FIXED_TYPES = {
    "smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64(), "real": pa.float32(),
    "double precision": pa.float64(), "boolean": pa.bool_(), "date": pa.date32(),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
}  # fmt: skip
_NUMERIC = re.compile(r"numeric(?:\((\d+),(-?\d+)\))?")
_WRITE_CSV = pa_csv.WriteOptions(include_header=False)


def arrow_type(pg_type: str, extent: tuple[int | None, int | None, bool] | None) -> pa.DataType:
    """The Arrow type a PostgreSQL column is written as (see the module docstring)."""
    base = re.sub(r"^(timestamp)\(\d+\)", r"\1", pg_type)
    if base in _FIXED_TYPES:
        return _FIXED_TYPES[base]
    numeric = _NUMERIC.fullmatch(pg_type)
    if numeric is None:
        return pa.string()
    if numeric[1]:
        precision, scale, special = int(numeric[1]), int(numeric[2]), False
    else:
        digits, scale, special = extent or (None, None, False)
        scale = scale or 0
        precision = max((digits or 1) + scale, 1)
    if special or not 0 <= scale <= precision <= 38:
        return pa.string()
    return pa.decimal128(precision, scale)


def arrow_schema(
    conn: psycopg.Connection, ref: TableRef, columns: list[Column], rows: RowFilter
) -> pa.Schema:
    unconstrained = [c.name for c in columns if c.pg_type == "numeric"]
    extents = archives.numeric_extents(conn, ref, unconstrained, rows)
    return pa.schema(
        pa.field(c.name, arrow_type(c.pg_type, extents.get(c.name)), True, {PG_TYPE_KEY: c.pg_type})
        for c in columns
    )


def _metadata(values: dict[str, Any]) -> dict[str, str]:
    return {key: json.dumps(value, default=str) for key, value in values.items()}


class _CopyBlocks(io.RawIOBase):
    """COPY's lines as a readable file. libpq hands over one row at a time, which costs Python
    time per row: a thread joins rows into blocks while Arrow parses and encodes earlier ones
    (outside the GIL); a short queue bounds memory. ``close`` stops and joins the thread."""

    def __init__(self, lines: Iterator[memoryview]):
        self._queue: queue.Queue = queue.Queue(maxsize=3)
        self._stop, self._rest, self._done = threading.Event(), b"", False
        self._thread = threading.Thread(target=self._fill, args=(lines,), daemon=True)
        self._thread.start()

    def _fill(self, lines: Iterator[memoryview]) -> None:
        try:
            block, size = [], 0
            for line in lines:
                block.append(line)
                size += len(line)
                if size >= CSV_BLOCK_BYTES:
                    if not self._put(b"".join(block)):
                        return  # the reader stopped
                    block, size = [], 0
            if self._put(b"".join(block)):
                self._put(None)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._rest and not self._done:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:  # Arrow may read ahead after a failure: give it an end
                self._done = self._stop.is_set()
                continue
            if isinstance(item, BaseException):
                raise item
            self._rest, self._done = item or b"", item is None
        cut = len(self._rest) if size < 0 else size
        block, self._rest = self._rest[:cut], self._rest[cut:]
        return block

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        super().close()


def _csv_reader(blocks: io.RawIOBase, schema: pa.Schema) -> pa_csv.CSVStreamingReader:
    names = [f"c{i}" for i in range(len(schema))] + ["row_hash"]
    types = dict(zip(names, [*schema.types, pa.int64()], strict=True))
    return pa_csv.open_csv(
        blocks,
        read_options=pa_csv.ReadOptions(column_names=names, block_size=CSV_BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False,
            null_values=[""],  # COPY writes NULL as an empty unquoted field, "" as ""
            true_values=["t"], false_values=["f"]),
    )  # fmt: skip


class _RowGroups:
    """Batches gathered into row groups of a fixed size; on the way, the server's row hashes
    summed and the values digested."""

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema, size: int):
        self.writer, self.schema, self.size = writer, schema, size
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = self.rows = self.hash_sum = 0
        self.digest = ValueDigest(schema)

    def add(self, batch: pa.RecordBatch) -> None:
        self.digest.add(batch.columns)  # the row hash, last, is not one of the file's columns
        hashes = batch.column(batch.num_columns - 1).to_numpy()
        # Split so int64 sums cannot overflow: h = hi * 2^32 + lo.
        self.hash_sum += int((hashes >> 32).sum()) * 2**32 + int((hashes & 0xFFFFFFFF).sum())
        self.rows += batch.num_rows
        self.pending.append(pa.RecordBatch.from_arrays(batch.columns[:-1], schema=self.schema))
        self.pending_rows += batch.num_rows
        if self.pending_rows >= self.size:
            self.flush(final=False)

    def flush(self, *, final: bool) -> None:
        table = pa.Table.from_batches(self.pending, self.schema)
        keep = 0 if final else table.num_rows % self.size
        if table.num_rows - keep:
            self.writer.write_table(table.slice(0, table.num_rows - keep), self.size)
        self.pending = table.slice(table.num_rows - keep).to_batches()
        self.pending_rows = keep


@dataclass(frozen=True)
class _Written:
    """What an export saw of the table: to be found again in the file."""

    columns: list[Column]
    schema: pa.Schema
    rows: int
    checksum: str  # the server's content checksum of the rows (catalog.archives)
    digest: str  # the values as Arrow received them (arrow_digest)


def _write(
    conn: psycopg.Connection, ref: TableRef, rows: RowFilter, store: ArchiveStore, path: str,
    metadata: dict[str, Any], row_group_rows: int,
) -> _Written:  # fmt: skip
    """The rows into ``path``."""
    columns = archives.columns_of(conn, ref)
    schema = arrow_schema(conn, ref, columns, rows).with_metadata(_metadata(metadata))
    with (
        store.filesystem.open_output_stream(path) as sink,
        pq.ParquetWriter(sink, schema, compression="zstd") as writer,
        archives.copy_out(conn, ref, columns, rows) as lines,
    ):
        groups = _RowGroups(writer, schema, row_group_rows)
        first = next(lines, None)  # Arrow refuses an empty CSV; an empty table is no error
        if first is not None:
            with closing(_CopyBlocks(itertools.chain([first], lines))) as blocks:
                for batch in _csv_reader(blocks, schema):
                    groups.add(batch)
        groups.flush(final=True)
        checksum = f"{groups.hash_sum % archives.MODULUS:016x}"
        counts = {"datawarp.row_count": groups.rows, "datawarp.content_checksum": checksum}
        writer.add_key_value_metadata(_metadata(counts))
    return _Written(columns, schema, groups.rows, checksum, groups.digest.hexdigest())


def export_verified(
    conn: psycopg.Connection, ref: TableRef, rows: RowFilter, store: ArchiveStore, name: str,
    metadata: dict[str, Any], *, row_group_rows: int, written: list[str],
    in_database: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Write, read back and compare; the verified file is renamed to ``name``.

    The file is read back with pyarrow and its values compared with those exported
    (``verify_file``); ``in_database`` also loads it back into the server and compares the
    server's checksum (``verify_in_database``), at about twice the time.
    Runs in the caller's transaction, which must hold the table still (``lock_for_export``).
    Paths written are appended to ``written`` so a failure later on can remove them.
    """
    final = store.prepare(name)
    partial = final + ".partial"
    written.append(partial)
    try:
        done = _write(conn, ref, rows, store, partial, metadata, row_group_rows)
        sha256, size = file_digest(store.filesystem, partial)
        verify_file(store.filesystem, partial, done.schema, done.rows, done.digest)
        if in_database:
            verify_in_database(
                conn, store.filesystem, partial, done.columns, done.rows, done.checksum
            )
        store.filesystem.move(partial, final)
    except (OSError, pa.ArrowException) as exc:
        raise ArchiveFailed(
            f"Writing {store.shown(final)} failed: {first_line(exc)}; nothing was changed"
        ) from None
    written.append(final)
    return {"path": store.shown(final), "file_bytes": size, "row_count": done.rows,
            "file_sha256": sha256, "content_checksum": done.checksum}  # fmt: skip


def file_digest(filesystem: pafs.FileSystem, path: str) -> tuple[str, int]:
    """SHA-256 and size of the bytes as stored."""
    digest, size = hashlib.sha256(), 0
    with filesystem.open_input_stream(path) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# --- reading back --------------------------------------------------------------------------


def _batches(parquet: pq.ParquetFile, **options: Any) -> Iterator[pa.RecordBatch]:
    # An empty table's file has no row group, which pyarrow 18 refuses to iterate.
    return parquet.iter_batches(**options) if parquet.metadata.num_row_groups else iter(())


def _csv_chunks(parquet: pq.ParquetFile) -> Iterable[memoryview]:
    # One decoding thread leaves the cores to the server parsing the rows; zoned timestamps go
    # as UTC wall times (copy_in sets the session to UTC): Arrow formats those 8× faster.
    for batch in _batches(parquet, batch_size=READ_BACK_ROWS, use_threads=False):
        arrays = [a.cast(pa.timestamp(a.type.unit)) if pa.types.is_timestamp(a.type) and a.type.tz
                  else a for a in batch.columns]  # fmt: skip
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(pa.RecordBatch.from_arrays(arrays, names=batch.schema.names), sink,
                         _WRITE_CSV)  # fmt: skip
        yield memoryview(sink.getvalue())


def _columns_of(schema: pa.Schema) -> list[Column]:
    return [Column(f.name, (f.metadata or {}).get(PG_TYPE_KEY, b"?").decode()) for f in schema]


def file_columns(filesystem: pafs.FileSystem, path: str) -> list[Column]:
    """The PostgreSQL columns a file was exported from."""
    with filesystem.open_input_file(path) as handle:
        return _columns_of(pq.ParquetFile(handle).schema_arrow)


def load_parquet(
    conn: psycopg.Connection, filesystem: pafs.FileSystem, path: str, target: TableRef | None
) -> tuple[TableRef, list[Column]]:
    """The file's rows into a new table (``None``: a temporary one) of the file's column types."""
    with filesystem.open_input_file(path) as handle:
        parquet = pq.ParquetFile(handle)
        columns = _columns_of(parquet.schema_arrow)
        target = archives.create_table(conn, target, columns)
        archives.copy_in(conn, target, [c.name for c in columns], _csv_chunks(parquet))
    return target, columns


def verify_file(
    filesystem: pafs.FileSystem, path: str, schema: pa.Schema, count: int, digest: str
) -> None:
    """The file, read back, holds the values exported, in their order, with their types."""
    with filesystem.open_input_file(path) as handle:
        parquet = pq.ParquetFile(handle)
        if parquet.schema_arrow.types != schema.types:
            raise ArchiveFailed(f"Verification of {path} failed: its column types differ")
        found = ValueDigest(schema)
        for batch in _batches(parquet, batch_size=CHECK_BATCH_ROWS):
            found.add(batch.columns)
    if found.rows != count:
        raise ArchiveFailed(f"Verification of {path} failed: the table has {count} rows, the"
                            f" file {found.rows}; nothing was changed")  # fmt: skip
    if found.hexdigest() != digest:
        raise ArchiveFailed(f"Verification of {path} failed: its values differ from the"
                            " table's; nothing was changed")  # fmt: skip


def verify_in_database(
    conn: psycopg.Connection, filesystem: pafs.FileSystem, path: str, columns: list[Column],
    count: int, checksum: str,
) -> None:  # fmt: skip
    check, read = load_parquet(conn, filesystem, path, None)
    if [c.pg_type for c in read] != [c.pg_type for c in columns]:
        raise ArchiveFailed(f"Verification of {path} failed: its column types differ")
    found = archives.content_checksum(conn, check, columns)
    archives.drop_table(conn, check)
    if found != (count, checksum):
        raise ArchiveFailed(
            f"Verification of {path} failed: the table has {count} rows (checksum {checksum}),"
            f" the file {found[0]} (checksum {found[1]}); nothing was changed"
        )


# --- a whole table to the archive schema ----------------------------------------------------


def lock_source(conn: psycopg.Connection, code: str, settings: Settings) -> None:
    if not loads.lock_source_for_load(conn, code, settings.lock_timeout_seconds):
        raise LoadAborted(f"Source {code} is being loaded; try again when the load has finished")


def archive_table_to(
    conn: psycopg.Connection, ref: TableRef, target: TableRef, store: ArchiveStore,
    settings: Settings, *, kind: str, code: str | None, metadata: dict[str, Any],
    written: list[str], drop: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Export ``ref`` verified, move it to ``target`` and record it (caller's transaction)."""
    archives.lock_for_export(conn, ref)
    if table_exists(conn, target.schema, target.table):
        raise ConflictError(f"Table {target} already exists; nothing was archived")
    # Table names come from users: no separator or dot reaches the file's path.
    name = f"{code or 'orphans'}/{re.sub(r'[^A-Za-z0-9_-]', '_', target.table)}.parquet"
    exported = export_verified(conn, ref, RowFilter(), store, name, metadata,
                               row_group_rows=settings.lifecycle.row_group_rows, written=written,
                               in_database=settings.lifecycle.verify == "database")  # fmt: skip
    archives.move_table(conn, ref, target)
    record = archives.record_archive(conn, kind=kind, source_code=code, source_table=str(ref),
                                     archive_table=str(target), **exported)  # fmt: skip
    if drop:
        archives.drop_table(conn, target)
        record["table_dropped_at"] = archives.mark_table_dropped(conn, record["archive_id"])
    return record
