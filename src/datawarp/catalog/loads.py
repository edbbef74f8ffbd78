"""Load events and metrics, written on their own autocommit connection.

The data transaction may roll back; the record of what was attempted must not. So an event
is inserted ``in_progress`` and committed before any data moves, and finished afterwards.

Liveness: while a load runs, its recorder connection holds a *shared* advisory lock on the
source ("a loader of X is alive"). When a process dies, PostgreSQL ends its sessions and the
lock goes with them; ``reap_interrupted`` then finds ``in_progress`` events nobody holds a lock
for and marks them ``failed`` (interrupted). A shared lock lets the next loader of the source
take it while the previous one is still finishing its event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from datawarp.catalog.introspect import qualified_name, table_columns
from datawarp.core.vocabulary import FINAL_LOAD_STATUSES

LIVENESS_LOCK = "hashtextextended('datawarp.loading:' || %s, 0)"
SERIALISE_LOCK = "hashtextextended('datawarp.load:' || %s, 0)"


@dataclass(frozen=True)
class EventStart:
    source_code: str
    target_schema: str
    target_table: str
    source_file: str
    period: str | None
    period_kind: str | None
    sheet: str | None
    load_mode: str
    file_sha256: str | None = None
    file_bytes: int | None = None
    manifest_path: str | None = None
    manifest_entry: dict | None = None  # the source's manifest entry, with this file only
    period_source: str | None = None  # PeriodSource; None: no period was found


def connection_lost(exc: BaseException, conn: psycopg.Connection) -> bool:
    """Whether ``exc`` means the server went away, not a refused statement: the connection is
    broken, or the error is a connection exception (08xxx), an operator's shutdown (57P0x), or
    an operational error with no SQLSTATE at all (the socket closed under libpq)."""
    if conn.closed or conn.broken:
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate or ""
    if state.startswith(("08", "57P")):
        return True
    return isinstance(exc, psycopg.OperationalError) and not state


class LoadRecorder:
    """Owns the short autocommit connection that records one batch's events."""

    def __init__(self, conn: psycopg.Connection):
        if not conn.autocommit:
            raise ValueError("the recorder needs an autocommit connection")
        self.conn = conn

    def start(self, event: EventStart) -> int:
        self.conn.execute(f"SELECT pg_advisory_lock_shared({LIVENESS_LOCK})", (event.source_code,))
        row = self.conn.execute(
            "INSERT INTO datawarp.tbl_load_events (source_code, target_schema, target_table,"
            " source_file, period, period_kind, sheet, load_mode, file_sha256, file_bytes,"
            " manifest_path, manifest_entry, period_source)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING load_id",
            (
                event.source_code, event.target_schema, event.target_table, event.source_file,
                event.period, event.period_kind, event.sheet, event.load_mode,
                event.file_sha256, event.file_bytes, event.manifest_path,
                None if event.manifest_entry is None else Jsonb(event.manifest_entry),
                event.period_source,
            ),
        ).fetchone()  # fmt: skip
        return row[0]

    def release(self, source_code: str) -> None:
        self.conn.execute(f"SELECT pg_advisory_unlock_shared({LIVENESS_LOCK})", (source_code,))


def finish_event(
    conn: psycopg.Connection,
    load_id: int,
    status: str,
    *,
    rows_loaded: int = 0,
    columns_added: int = 0,
    error_message: str | None = None,
    sheet: str | None = None,
    column_stats: dict | None = None,
    validated: bool | None = None,
    repeat_of: int | None = None,
    error_detail: str | None = None,
    rows_replaced: int | None = None,
) -> None:
    """Move an event from in_progress to its final status (the database allows this once).

    ``validated`` (the gates ran) and ``repeat_of`` (the earlier completed load of the same
    file and period that this one loads again) are what the scorecard counts; ``rows_replaced``
    the rows it deleted first (REPLACE's period, or a forced reload's earlier copy).

    A completed load finishes its event inside the data transaction, so the rows and the
    'completed' record commit together: no window where one exists without the other.
    """
    if status not in FINAL_LOAD_STATUSES:
        raise ValueError(f"not a final status: {status}")
    conn.execute(
        "UPDATE datawarp.tbl_load_events SET load_status = %s, rows_loaded = %s,"
        " columns_added = %s, error_message = %s, completed_at = clock_timestamp(),"
        " duration_seconds = extract(epoch FROM clock_timestamp() - started_at),"
        " sheet = coalesce(%s, sheet), column_stats = %s, validated = %s, repeat_of = %s,"
        " error_detail = %s, rows_replaced = %s WHERE load_id = %s",
        (
            status,
            rows_loaded,
            columns_added,
            error_message,
            sheet,
            None if column_stats is None else Jsonb(column_stats),
            validated,
            repeat_of,
            error_detail,
            rows_replaced,
            load_id,
        ),
    )


def add_metrics(
    conn: psycopg.Connection,
    load_id: int,
    source_code: str,
    schema: str,
    table: str,
    row_count: int,
) -> None:
    """One row per completed load: table rows, data columns, size and how long the load took."""
    data_columns = len(table_columns(conn, schema, table) or {})
    conn.execute(
        "INSERT INTO datawarp.tbl_source_metrics (source_code, load_id, row_count,"
        " column_count, table_size_bytes, load_duration_seconds)"
        " SELECT %s, %s, %s, %s, pg_total_relation_size(%s::regclass), e.duration_seconds"
        " FROM datawarp.tbl_load_events e WHERE e.load_id = %s",
        (source_code, load_id, row_count, data_columns, qualified_name(schema, table), load_id),
    )


def table_rows_after_load(
    conn: psycopg.Connection,
    source_code: str,
    schema: str,
    table: str,
    *,
    loaded: int,
    removed: int,
    created: bool,
) -> int:
    """The table's row count after a load, without scanning the freshly loaded rows.

    Counting a just-COPYed million rows costs a second (no hint bits yet). Loads of a source
    are serialised, so the previous load's count plus this load's rows, minus those REPLACE
    removed, is exact; with no previous figure the table is counted once.
    """
    if created:
        return loaded
    previous = conn.execute(
        "SELECT m.row_count FROM datawarp.tbl_source_metrics m"
        " JOIN datawarp.tbl_load_events e ON e.load_id = m.load_id"
        " WHERE m.source_code = %s AND e.target_schema = %s ORDER BY m.metric_id DESC LIMIT 1",
        (source_code, schema),
    ).fetchone()
    if previous is None:
        return conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        ).fetchone()[0]
    return previous[0] + loaded - removed


def reap_interrupted(conn: psycopg.Connection) -> list[int]:
    """Mark ``in_progress`` events whose loader is gone as failed (interrupted).

    For each candidate, taking the liveness lock exclusively succeeds only when no live session
    holds it shared; the lock and the update share one transaction.
    """
    reaped = []
    rows = conn.execute(
        "SELECT load_id, source_code FROM datawarp.tbl_load_events"
        " WHERE load_status = 'in_progress' ORDER BY load_id"
    ).fetchall()
    for load_id, source_code in rows:
        with conn.transaction():
            free = conn.execute(
                f"SELECT pg_try_advisory_xact_lock({LIVENESS_LOCK})", (source_code,)
            ).fetchone()[0]
            if free:
                conn.execute(
                    "UPDATE datawarp.tbl_load_events SET load_status = 'failed',"
                    " interrupted = true, completed_at = clock_timestamp(),"
                    " error_message = 'interrupted: the loading process ended before the load"
                    " finished; its transaction was rolled back'"
                    " WHERE load_id = %s AND load_status = 'in_progress'",
                    (load_id,),
                )
                reaped.append(load_id)
    return reaped


def already_loaded(
    conn: psycopg.Connection, source_code: str, target_schema: str, period: str | None, sha256: str
) -> int | None:
    """The load_id of a completed load of these exact bytes for this source and period."""
    row = conn.execute(
        "SELECT load_id FROM datawarp.tbl_load_events WHERE source_code = %s"
        " AND target_schema = %s AND period IS NOT DISTINCT FROM %s AND file_sha256 = %s"
        " AND load_status = 'completed' ORDER BY load_id DESC LIMIT 1",
        (source_code, target_schema, period, sha256),
    ).fetchone()
    return row[0] if row else None


def inferred_period(
    conn: psycopg.Connection, source_code: str, target_schema: str, sha256: str, source_file: str
) -> tuple[int, str, str, str] | None:
    """The period an earlier completed load of these bytes from this place read from the file
    itself: (load_id, period, kind, period_source), so a re-run need not open the file to find
    it again."""
    row = conn.execute(
        "SELECT load_id, period, period_kind, period_source FROM datawarp.tbl_load_events"
        " WHERE source_code = %s AND target_schema = %s AND file_sha256 = %s"
        " AND source_file = %s AND load_status = 'completed'"
        " AND period_source IN ('title', 'file_name') ORDER BY load_id DESC LIMIT 1",
        (source_code, target_schema, sha256, source_file),
    ).fetchone()
    return None if row is None else tuple(row)


def earlier_loads_of_file(
    conn: psycopg.Connection,
    source_code: str,
    target_schema: str,
    period: str | None,
    *,
    sha256: str,
    source_file: str,
) -> list[int]:
    """Completed loads of the same file for this source and period: the same bytes, or the same
    path or URL (a corrected file published in place), oldest first."""
    rows = conn.execute(
        "SELECT load_id FROM datawarp.tbl_load_events WHERE source_code = %s"
        " AND target_schema = %s AND period IS NOT DISTINCT FROM %s AND load_status = 'completed'"
        " AND (file_sha256 = %s OR source_file = %s) ORDER BY load_id",
        (source_code, target_schema, period, sha256, source_file),
    ).fetchall()
    return [load_id for (load_id,) in rows]


def lock_source_for_load(
    conn: psycopg.Connection, source_code: str, timeout_seconds: float
) -> bool:
    """Take the source's load lock for this transaction: one load of a source at a time.

    Waits up to ``timeout_seconds`` (0: don't wait); False when another load still holds it.
    """
    timeout_ms = int(timeout_seconds * 1000)
    if timeout_ms == 0:  # lock_timeout 0 would mean "wait for ever"
        got = conn.execute(f"SELECT pg_try_advisory_xact_lock({SERIALISE_LOCK})", (source_code,))
        return bool(got.fetchone()[0])
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{timeout_ms}ms")))
    try:
        conn.execute(f"SELECT pg_advisory_xact_lock({SERIALISE_LOCK})", (source_code,))
    except psycopg.errors.LockNotAvailable:
        return False
    conn.execute("SET LOCAL lock_timeout = 0")
    return True


@dataclass(frozen=True)
class RunningLoad:
    load_id: int
    started_at: datetime
    loaded_by: str


def running_load(conn: psycopg.Connection, source_code: str) -> RunningLoad | None:
    """The newest load of the source still in progress, if any (who holds it, since when)."""
    row = conn.execute(
        "SELECT load_id, started_at, loaded_by FROM datawarp.tbl_load_events"
        " WHERE source_code = %s AND load_status = 'in_progress'"
        " ORDER BY load_id DESC LIMIT 1",
        (source_code,),
    ).fetchone()
    return RunningLoad(*row) if row else None
