"""The record of maintenance runs, their lock, and the SQL their steps need.

Each step of a run is a row of ``datawarp.tbl_maintenance_runs`` (start, end, outcome,
details), written as it starts and finished as it ends, so a run killed half way shows where.
A session-level advisory lock per schedule lets cron fire twice safely: the second run finds
the lock held and records itself as skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from datawarp.core.naming import CATALOG_SCHEMA, DATA_SCHEMAS

Row = dict[str, Any]


def _lock_key(schedule: str) -> sql.Composable:
    return sql.SQL("hashtextextended({}, 0)").format(
        sql.Literal(f"datawarp.maintenance:{schedule}")
    )


def try_lock(conn: psycopg.Connection, schedule: str) -> bool:
    """Held by this session until ``unlock`` (or the session ends, if the process dies)."""
    query = sql.SQL("SELECT pg_try_advisory_lock({})").format(_lock_key(schedule))
    return bool(conn.execute(query).fetchone()[0])


def unlock(conn: psycopg.Connection, schedule: str) -> None:
    conn.execute(sql.SQL("SELECT pg_advisory_unlock({})").format(_lock_key(schedule)))


def new_run_id(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT nextval('datawarp.maintenance_run_seq')").fetchone()[0]


def start_step(
    conn: psycopg.Connection, run_id: int, schedule: str, step: str, *, dry_run: bool
) -> int:
    return conn.execute(
        "INSERT INTO datawarp.tbl_maintenance_runs (run_id, schedule, step, dry_run)"
        " VALUES (%s, %s, %s, %s) RETURNING run_step_id",
        (run_id, schedule, step, dry_run),
    ).fetchone()[0]


def finish_step(
    conn: psycopg.Connection, run_step_id: int, outcome: str, details: dict[str, Any]
) -> None:
    conn.execute(
        "UPDATE datawarp.tbl_maintenance_runs SET outcome = %s, details = %s,"
        " finished_at = clock_timestamp() WHERE run_step_id = %s",
        (outcome, Jsonb(details), run_step_id),
    )


def record_skipped(conn: psycopg.Connection, schedule: str, reason: str, *, dry_run: bool) -> int:
    run_id = new_run_id(conn)
    step_id = start_step(conn, run_id, schedule, "run", dry_run=dry_run)
    finish_step(conn, step_id, "skipped", {"reason": reason})
    return run_id


def recent_runs(conn: psycopg.Connection, limit: int = 50) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM datawarp.tbl_maintenance_runs ORDER BY run_step_id DESC LIMIT %s",
            (limit,),
        ).fetchall()


def tables_to_vacuum(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Every table of the data schemas and of the catalog."""
    return conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s) ORDER BY 1, 2",
        ([*DATA_SCHEMAS, CATALOG_SCHEMA],),
    ).fetchall()


def vacuum_analyze(conn: psycopg.Connection, schema: str, table: str) -> None:
    """VACUUM cannot run in a transaction: ``conn`` must be in autocommit mode."""
    conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, table)))


def size_history(conn: psycopg.Connection, since: datetime) -> list[Row]:
    """Table bytes and rows per source and domain, per completed load since ``since``."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT m.source_code, s.domain, m.measured_at, m.table_size_bytes, m.row_count"
            " FROM datawarp.tbl_source_metrics m"
            " JOIN datawarp.tbl_data_sources s USING (source_code)"
            " WHERE m.measured_at >= %s ORDER BY m.source_code, m.measured_at",
            (since,),
        ).fetchall()


def statement_hints(conn: psycopg.Connection, limit: int = 10) -> list[Row] | None:
    """The slowest statements by mean time, when pg_stat_statements is installed; else None."""
    installed = conn.execute("SELECT to_regclass('pg_stat_statements') IS NOT NULL").fetchone()[0]
    if not installed:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT left(query, 200) AS query, calls, round(mean_exec_time::numeric, 1)"
            " AS mean_ms FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT %s",
            (limit,),
        ).fetchall()


def missing_index_hints(conn: psycopg.Connection, min_rows: int = 100_000) -> list[Row]:
    """Large tables read mostly by sequential scans: candidates for an index."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT schemaname AS schema_name, relname AS table_name, seq_scan,"
            " coalesce(idx_scan, 0) AS idx_scan, n_live_tup AS rows"
            " FROM pg_stat_user_tables WHERE schemaname = ANY(%s) AND n_live_tup >= %s"
            " AND seq_scan > 10 * coalesce(idx_scan, 0) ORDER BY seq_tup_read DESC LIMIT 20",
            (list(DATA_SCHEMAS), min_rows),
        ).fetchall()


def stage_old_load_events(conn: psycopg.Connection, before: datetime) -> tuple[str, str, int]:
    """Copy the load events older than ``before`` into a temporary table (for their Parquet
    export; they also stay in the catalog, history is never deleted); its schema, name, rows."""
    conn.execute(
        "CREATE TEMPORARY TABLE old_load_events ON COMMIT DROP AS"
        " SELECT * FROM datawarp.tbl_load_events WHERE started_at < %s ORDER BY load_id",
        (before,),
    )
    count = conn.execute("SELECT count(*) FROM pg_temp.old_load_events").fetchone()[0]
    return "pg_temp", "old_load_events", count
