"""A source's end of life: deprecate → grace → archive to verified Parquet; verify, restore and
purge; and which sources look ready to be deprecated (retention: ``ops.retention``).

- ``deprecate`` stores the reason, ``deprecated_at`` and ``archive_after`` (today +
  ``deprecation_grace_days`` unless given; a past date is refused) and states them in the
  staging table's COMMENT, which ``undeprecate`` removes (DataWarp sets no other table comment).
  The table stays queryable.
- ``candidates``: active sources whose publication stopped (the ``stopped_after_intervals``-th
  edition after the last one, judged by the freshness dashboard's cadence, typical lag and
  grace, is overdue) or whose table nobody read for ``unused_days`` (``tbl_table_usage``
  samples cover the whole window and show no scan and no tuple read).
- ``archive_source``: one transaction holds the source's load lock and a SHARE lock on its
  table from the first read to the commit, so no row can change between the export and the
  move. Export, verification, the ``tbl_archives`` record, the move to
  ``archive.tbl_<code>_archived_YYYYMMDD``, the snapshot of its column metadata and the status
  all commit together or not at all; files of a failed run are deleted (a killed process can
  leave a ``.partial`` file, which the next run overwrites). Load history is kept.
- Files: ``<archive_path>/<code>/tbl_<code>_archived_YYYYMMDD.parquet``; retention
  ``<archive_path>/<code>/retention/tbl_<code>_<period>_<time>.parquet``; orphans
  ``<archive_path>/orphans/<table>_archived_YYYYMMDD.parquet``.
- ``restore`` copies the archive table, or loads the Parquet file when the table was purged,
  into a new table, and checks the rows against the archive's checksum; the source's status
  does not change.
- ``verify_archive``: the recorded file's bytes against its SHA-256, then its rows loaded back
  into a temporary table and compared with the server's checksum recorded at the export.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from datawarp.catalog import archives
from datawarp.catalog import monitoring as dashboards
from datawarp.catalog.introspect import table_exists
from datawarp.core.clock import SYSTEM_CLOCK, Clock, today
from datawarp.core.errors import BadInputError, ConflictError, NotFoundError
from datawarp.core.naming import ARCHIVE_SCHEMA, MAX_IDENTIFIER_BYTES, TableRef, archive_table
from datawarp.core.vocabulary import ArchiveKind, SourceStatus
from datawarp.ops import parquet_export as px
from datawarp.ops.archive_store import ArchiveFailed, ArchiveStore, first_line, removed_on_failure

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.settings import Settings

INTERVAL_DAYS = {"daily": 1, "weekly": 7, "monthly": 30, "quarterly": 91, "annual": 365}
Row = dict[str, Any]


@dataclass(frozen=True)
class Candidate:
    source_code: str
    owner: str
    reasons: list[str]


# --- deprecation ---------------------------------------------------------------------------


def deprecation_comment(row: Row) -> str:
    return (
        f"DEPRECATED on {row['deprecated_at']:%Y-%m-%d}: {row['deprecation_reason']}."
        f" To be archived on or after {row['archive_after']}."
    )


def deprecate(
    conn: psycopg.Connection,
    code: str,
    reason: str,
    settings: Settings,
    *,
    archive_date: date | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Row:
    """Mark an active source deprecated; its table says so to anyone who looks."""
    reason = reason.strip()
    if not reason:
        raise BadInputError("Invalid --reason '': say why the source is deprecated")
    day = today(clock)
    archive_after = archive_date or day + timedelta(days=settings.lifecycle.deprecation_grace_days)
    if archive_after < day:
        raise BadInputError(f"Invalid archive date {archive_after}: it is in the past")
    return _set_deprecation(conn, code, SourceStatus.ACTIVE, reason, archive_after)


def undeprecate(conn: psycopg.Connection, code: str) -> Row:
    """Back to active; the table's comment is removed."""
    return _set_deprecation(conn, code, SourceStatus.DEPRECATED)


def _set_deprecation(conn: psycopg.Connection, code: str, expected: str, *deprecation: Any) -> Row:
    with conn.transaction():
        status = archives.source_row(conn, code)["status"]
        if status != expected:
            raise ConflictError(f"Source {code} is {status}; only an {expected} source can be"
                                f" {'deprecated' if deprecation else 'undeprecated'}")  # fmt: skip
        if deprecation:
            row = archives.mark_deprecated(conn, code, *deprecation)
        else:
            row = archives.mark_active_again(conn, code)
        ref = TableRef.for_source(code)
        if table_exists(conn, ref.schema, ref.table):
            archives.comment_table(conn, ref, deprecation_comment(row) if deprecation else None)
    return row


# --- candidates ----------------------------------------------------------------------------


def sample_usage(conn: psycopg.Connection, clock: Clock = SYSTEM_CLOCK) -> int:
    """Record the read counters of the data schemas' tables (the weekly maintenance calls it)."""
    with conn.transaction():
        return archives.sample_usage(conn, clock.now())


def _stopped(row: Row, day: date, intervals: int) -> str | None:
    step = INTERVAL_DAYS.get(row["cadence"] or "")
    if step is None or row["next_expected_by"] is None:
        return None
    due = row["next_expected_by"] + timedelta(days=step * (intervals - 1))
    if day <= due:
        return None
    return (
        f"publication stopped: no period after {row['last_period']} ({row['cadence']});"
        f" {intervals} editions missed, the last due by {due}"
    )


def _unused(reads: Row | None, days: int) -> str | None:
    if reads is None or not reads["covered"] or reads["scans"] or reads["tuples_read"]:
        return None
    return f"unused: no reads of its table in {days} days"


def candidates(
    conn: psycopg.Connection, settings: Settings, clock: Clock = SYSTEM_CLOCK
) -> list[Candidate]:
    now, lifecycle, monitoring = clock.now(), settings.lifecycle, settings.monitoring
    fresh = dashboards.freshness(
        conn, now, monitoring.stale_after_days, monitoring.overdue_grace_days
    )
    reads = archives.table_reads(conn, now, lifecycle.unused_days)
    found = []
    for row in sorted(fresh, key=lambda r: r["source_code"]):
        if row["status"] != SourceStatus.ACTIVE:
            continue
        reasons = [
            _stopped(row, now.date(), lifecycle.stopped_after_intervals),
            _unused(reads.get(f"tbl_{row['source_code']}"), lifecycle.unused_days),
        ]
        if any(reasons):
            found.append(Candidate(row["source_code"], row["owner"], [r for r in reasons if r]))
    return found


# --- archive, purge, restore ---------------------------------------------------------------


def metadata_table(code: str, day: date) -> str:
    """archive.tbl_metadata_<code>_archived_YYYYMMDD; a long code is cut and given a hash so
    the name fits PostgreSQL's 63 bytes and stays unique."""
    name = f"tbl_metadata_{code}_archived_{day:%Y%m%d}"
    if len(name) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha256(code.encode()).hexdigest()[:6]
    keep = MAX_IDENTIFIER_BYTES - len(f"tbl_metadata__{digest}_archived_YYYYMMDD")
    return f"tbl_metadata_{code[:keep]}_{digest}_archived_{day:%Y%m%d}"


def source_metadata(conn: psycopg.Connection, code: str, ref: TableRef, period: Any = ...) -> Row:
    """What a Parquet file keeps of its source: registry row, column metadata, load history
    (of every period, or of one: None for the rows without a period)."""
    return {
        "datawarp.source": archives.source_row(conn, code),
        "datawarp.table": str(ref),
        "datawarp.columns": archives.column_metadata(conn, code),
        "datawarp.load_history": archives.load_history(conn, code, ref.table, period),
    }


def _check_archivable(row: Row, day: date, force: bool) -> None:
    code, status = row["source_code"], row["status"]
    if status == SourceStatus.ARCHIVED:
        raise ConflictError(f"Source {code} is already archived (on {row['archived_at']:%Y-%m-%d})")
    if status != SourceStatus.DEPRECATED:
        raise ConflictError(
            f"Source {code} is {status}; only a deprecated source can be archived"
            f" (datawarp deprecate {code} --reason ...)"
        )
    if not force and row["archive_after"] and day < row["archive_after"]:
        raise ConflictError(
            f"Source {code} may be archived from {row['archive_after']} (its grace period);"
            " --force archives it now"
        )


def archive_source(
    conn: psycopg.Connection,
    code: str,
    store: ArchiveStore,
    settings: Settings,
    *,
    force: bool = False,
    drop_after_export: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> Row:
    """The tbl_archives row of the verified export, and the metadata snapshot's name."""
    day = today(clock)
    with (
        archives.database_errors(f"Archiving {code}"),
        removed_on_failure(store) as written,
        conn.transaction(),
    ):
        row = archives.source_row(conn, code)
        _check_archivable(row, day, force)
        ref = TableRef.for_source(code)
        if not table_exists(conn, ref.schema, ref.table):
            raise ConflictError(f"Source {code} has no table {ref}; nothing to archive")
        px.lock_source(conn, code, settings)
        target = TableRef(ARCHIVE_SCHEMA, archive_table(code, day))
        record = px.archive_table_to(
            conn, ref, target, store, settings, kind=ArchiveKind.ARCHIVE, code=code,
            metadata=source_metadata(conn, code, ref), written=written, drop=drop_after_export,
        )  # fmt: skip
        snapshot = TableRef(ARCHIVE_SCHEMA, metadata_table(code, day))
        archives.snapshot_column_metadata(conn, code, snapshot)
        archives.mark_archived(conn, code)
    return {**record, "metadata_table": str(snapshot)}


def _latest_archive(conn: psycopg.Connection, code: str) -> Row:
    archives.source_row(conn, code)  # an unknown code says so
    found = archives.archives_of(conn, code, ArchiveKind.ARCHIVE)
    if not found:
        raise NotFoundError(f"Source {code} has no archive")
    return found[0]


def _archive_ref(record: Row) -> TableRef:
    schema, table = record["archive_table"].split(".", 1)
    return TableRef(schema, table)


def purge(conn: psycopg.Connection, code: str) -> Row:
    """Drop the archive table once its Parquet file is checked to be the one recorded."""
    with archives.database_errors(f"Purging {code}"), conn.transaction():
        record = _latest_archive(conn, code)
        if record["table_dropped_at"] is not None:
            dropped = f"{record['table_dropped_at']:%Y-%m-%d}"
            raise ConflictError(f"The archive table of {code} was already dropped on {dropped}")
        _checked_file(record, "; the table was kept")
        archives.drop_table(conn, _archive_ref(record))
        record["table_dropped_at"] = archives.mark_table_dropped(conn, record["archive_id"])
    return record


def _checked_file(record: Row, consequence: str = "") -> tuple[Any, str]:
    """The recorded archive file, its bytes checked against the SHA-256 and size recorded."""
    filesystem, path = open_recorded(record["path"])
    try:
        sha256, size = px.file_digest(filesystem, path)
    except OSError as exc:
        raise ArchiveFailed(
            f"Cannot read {record['path']} ({first_line(exc)}){consequence}"
        ) from None
    if (sha256, size) != (record["file_sha256"], record["file_bytes"]):
        raise ArchiveFailed(
            f"{record['path']} differs from its record (SHA-256 or size){consequence}"
        )
    return filesystem, path


def parse_target(into: str) -> TableRef:
    schema, _, table = into.partition(".")
    if not schema or not table:
        raise BadInputError(f"Invalid --into {into!r}: give SCHEMA.TABLE, e.g. staging.ae_2019")
    if schema == "datawarp" or schema.startswith("pg_") or schema == "information_schema":
        raise BadInputError(f"Invalid --into {into!r}: restore into a data schema, not {schema}")
    return TableRef(schema, table)


def restore(conn: psycopg.Connection, code: str, into: str) -> Row:
    """The archived rows into a new table; the archive table, else the Parquet file."""
    target = parse_target(into)
    with archives.database_errors(f"Restoring {code}"), conn.transaction():
        record = _latest_archive(conn, code)
        if table_exists(conn, target.schema, target.table):
            raise ConflictError(f"Table {target} already exists; restore into a new table")
        source = _archive_ref(record)
        if record["table_dropped_at"] is None and table_exists(conn, source.schema, source.table):
            archives.copy_table(conn, source, target)
            origin = str(source)
        else:
            filesystem, path = open_recorded(record["path"])
            px.load_parquet(conn, filesystem, path, target)
            origin = record["path"]
        found = archives.content_checksum(conn, target, archives.columns_of(conn, target))
        if found != (record["row_count"], record["content_checksum"]):
            raise ArchiveFailed(f"Rows restored from {origin} differ from the archive record")
    return {"source_code": code, "table": str(target), "from": origin, "rows": found[0]}


def open_recorded(path: str) -> tuple[Any, str]:
    """The filesystem and path of a file as tbl_archives records it (a local path or a URI)."""
    store = ArchiveStore.at(path)
    return store.filesystem, store.root


def verify_archive(conn: psycopg.Connection, code: str) -> Row:
    """The full round trip of a source's latest archive file; nothing is written."""
    with archives.database_errors(f"Verifying the archive of {code}"), conn.transaction():
        record = _latest_archive(conn, code)
        filesystem, path = _checked_file(record)
        columns = px.file_columns(filesystem, path)
        px.verify_in_database(conn, filesystem, path, columns, record["row_count"],
                              record["content_checksum"])  # fmt: skip
    return {"source_code": code, "path": record["path"], "rows": record["row_count"],
            "file_sha256": record["file_sha256"],
            "content_checksum": record["content_checksum"]}  # fmt: skip
