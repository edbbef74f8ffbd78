"""The queries of incident response and hygiene: failed loads, duplicate rows, growth, test tables.

``ops.incidents`` decides what to do; this module only reads and writes. Duplicate rows are
found by hashing each row's data columns in SQL (``md5(row(...)::text)``), so no row leaves
the server; provenance columns (``_load_id``, ``_period``, ...) are left out of the hash, as
two loads of the same file differ only there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row, dict_row

from datawarp.catalog.introspect import identifier, qualified_name, table_exists
from datawarp.core.naming import STAGING_SCHEMA, TEST_SCHEMA, TableRef

EXAMPLE_ROWS = 10  # copies shown per example; a row repeated by 100 loads shows the first 10


@dataclass(frozen=True)
class LoadEvent:
    load_id: int
    source_code: str
    load_status: str
    started_at: datetime
    completed_at: datetime | None
    error_message: str | None
    period: str | None
    period_kind: str | None
    source_file: str | None
    target_schema: str
    target_table: str | None
    interrupted: bool
    manifest_path: str | None
    manifest_entry: dict | None
    # A later completed load of the same file and period: the incident is already resolved.
    reloaded_as: int | None
    error_detail: str | None = None  # the failure's traceback


_EVENTS = sql.SQL(
    "SELECT e.load_id, e.source_code, e.load_status, e.started_at, e.completed_at,"
    " e.error_message, e.period, e.period_kind, e.source_file, e.target_schema, e.target_table,"
    " e.interrupted, e.manifest_path, e.manifest_entry, later.load_id AS reloaded_as,"
    " e.error_detail"
    " FROM datawarp.tbl_load_events e"
    " LEFT JOIN LATERAL (SELECT l.load_id FROM datawarp.tbl_load_events l"
    "   WHERE l.source_code = e.source_code AND l.target_schema = e.target_schema"
    "     AND l.period IS NOT DISTINCT FROM e.period"
    "     AND l.source_file IS NOT DISTINCT FROM e.source_file"
    "     AND l.load_status = 'completed' AND l.load_id > e.load_id"
    "   ORDER BY l.load_id LIMIT 1) later ON true"
)


def failed_loads(
    conn: psycopg.Connection, since: datetime, until: datetime, source_code: str | None
) -> list[LoadEvent]:
    """Failed and rolled-back loads into ``staging`` started in (since, until], newest first.

    Test loads are experiments, left out as the dashboards leave them out.
    """
    query = _EVENTS + sql.SQL(
        " WHERE e.load_status IN ('failed', 'rolled_back') AND e.target_schema = 'staging'"
        " AND e.started_at > %(since)s AND e.started_at <= %(until)s"
        " AND (%(source)s::text IS NULL OR e.source_code = %(source)s)"
        " ORDER BY e.started_at DESC, e.load_id DESC"
    )
    with conn.cursor(row_factory=class_row(LoadEvent)) as cur:
        params = {"since": since, "until": until, "source": source_code}
        return cur.execute(query, params).fetchall()


def load_event(conn: psycopg.Connection, load_id: int) -> LoadEvent | None:
    with conn.cursor(row_factory=class_row(LoadEvent)) as cur:
        return cur.execute(_EVENTS + sql.SQL(" WHERE e.load_id = %s"), (load_id,)).fetchone()


def source_known(conn: psycopg.Connection, source_code: str) -> bool:
    """Registered, or loaded at least once (test loads of unregistered sources count)."""
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM datawarp.tbl_data_sources WHERE source_code = %(c)s)"
        " OR EXISTS (SELECT 1 FROM datawarp.tbl_load_events WHERE source_code = %(c)s)",
        {"c": source_code},
    ).fetchone()[0]


# --- duplicate rows -----------------------------------------------------------------------


def _hashed(target: TableRef, columns: Sequence[str], *extra: str) -> sql.Composable:
    """``SELECT md5(row(<data columns>)::text) AS h, <extra> FROM <table>``."""
    data = sql.SQL(", ").join(map(sql.Identifier, columns))
    picked = sql.SQL(", ").join(sql.SQL(name) for name in extra)
    return sql.SQL("SELECT md5(row({})::text) AS h, {} FROM {}").format(
        data, picked, identifier(target)
    )


def duplicate_summary(
    conn: psycopg.Connection, target: TableRef, columns: Sequence[str], examples: int
) -> dict[str, Any]:
    """Rows, groups of identical rows found in more than one load, the rows of later loads in
    them by load (what a fix removes; ``of_other_periods`` counts copies of a row kept under
    another period), and up to ``examples`` groups with their copies."""
    query = sql.SQL(
        "WITH hashed AS MATERIALIZED ({hashed}),"
        " groups AS MATERIALIZED (SELECT h, min(_load_id) AS first_load, count(*) AS copies,"
        "   (array_agg(_period ORDER BY _load_id, _row_number))[1] AS first_period"
        "   FROM hashed GROUP BY h HAVING count(DISTINCT _load_id) > 1),"
        " later AS (SELECT x._load_id, x._period, count(*) AS rows,"
        "   count(*) FILTER (WHERE x._period IS DISTINCT FROM g.first_period) AS other_period"
        "   FROM hashed x JOIN groups g USING (h) WHERE x._load_id > g.first_load GROUP BY 1, 2),"
        " shown AS (SELECT h, copies FROM groups ORDER BY copies DESC, first_load, h"
        "   LIMIT %(examples)s)"
        " SELECT (SELECT count(*) FROM hashed) AS total_rows,"
        "  (SELECT count(*) FROM groups) AS groups,"
        "  (SELECT coalesce(jsonb_agg(jsonb_build_object('load_id', _load_id, 'period', _period,"
        "     'rows', rows, 'of_other_periods', other_period) ORDER BY _load_id, _period), '[]')"
        "   FROM later) AS later_copies,"
        "  (SELECT coalesce(jsonb_agg(jsonb_build_object('copies', s.copies, 'rows',"
        "     (SELECT jsonb_agg(jsonb_build_object('load_id', c._load_id, 'period', c._period,"
        "        'row_number', c._row_number) ORDER BY c._load_id, c._row_number)"
        "       FROM (SELECT * FROM hashed x WHERE x.h = s.h"
        "             ORDER BY x._load_id, x._row_number LIMIT %(shown)s) c))"
        "     ORDER BY s.copies DESC, s.h), '[]') FROM shown s) AS examples"
    ).format(hashed=_hashed(target, columns, "_load_id", "_period", "_row_number"))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"examples": examples, "shown": EXAMPLE_ROWS}).fetchone()


def delete_later_copies(
    conn: psycopg.Connection, target: TableRef, columns: Sequence[str]
) -> list[dict[str, Any]]:
    """Delete every row identical to a row of an earlier load; rows deleted by load and period.

    The rows of the earliest load holding a row are kept, repeats inside it included: they
    are that file's own content, not a second load of it.
    """
    query = sql.SQL(
        "WITH hashed AS MATERIALIZED ({hashed}),"
        " firsts AS (SELECT h, min(_load_id) AS first_load FROM hashed GROUP BY h),"
        " deleted AS (DELETE FROM {table} WHERE ctid IN (SELECT x.row_id FROM hashed x"
        "   JOIN firsts f USING (h) WHERE x._load_id > f.first_load)"
        "   RETURNING _load_id, _period)"
        " SELECT _load_id AS load_id, _period AS period, count(*) AS rows FROM deleted"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    ).format(
        hashed=_hashed(target, columns, "ctid AS row_id", "_load_id"), table=identifier(target)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query).fetchall()


def record_rows_removed(
    conn: psycopg.Connection, source_code: str, target: TableRef, removed: int
) -> None:
    """A metrics row after rows were deleted outside a load.

    The next load counts the table as the latest metric plus its rows, so the latest metric
    must know about the deletion. The row carries the latest load's id (the metrics readers
    join on it) and no duration, as no load ran.
    """
    conn.execute(
        "INSERT INTO datawarp.tbl_source_metrics (source_code, load_id, row_count, column_count,"
        " table_size_bytes)"
        " SELECT m.source_code, m.load_id, m.row_count - %s, m.column_count,"
        "  pg_total_relation_size(%s::regclass)"
        " FROM datawarp.tbl_source_metrics m JOIN datawarp.tbl_load_events e USING (load_id)"
        " WHERE m.source_code = %s AND e.target_schema = %s AND m.row_count IS NOT NULL"
        " ORDER BY m.metric_id DESC LIMIT 1",
        (removed, qualified_name(target.schema, target.table), source_code, target.schema),
    )


# --- growth -------------------------------------------------------------------------------


def growing_sources(
    conn: psycopg.Connection, as_of: datetime, days: int, weekly_percent: float
) -> list[dict[str, Any]]:
    """Sources whose rows grew faster than ``weekly_percent`` a week (``row_growth``, 0007),
    with their retention, load mode and table size now."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT g.source_code, g.rows_now, g.rows_before, g.growth_percent,"
            " g.weekly_growth_percent, s.retention_days, s.load_mode,"
            " pg_total_relation_size(to_regclass(format('%%I.%%I', %(schema)s::text,"
            "   'tbl_' || g.source_code))) AS total_bytes"
            " FROM datawarp.row_growth(%(as_of)s, %(days)s) g"
            " JOIN datawarp.tbl_data_sources s USING (source_code)"
            " WHERE g.weekly_growth_percent > %(limit)s"
            " ORDER BY g.weekly_growth_percent DESC, g.source_code",
            {"schema": STAGING_SCHEMA, "as_of": as_of, "days": days, "limit": weekly_percent},
        ).fetchall()


def oldest_load_started(conn: psycopg.Connection, target: TableRef) -> datetime | None:
    """When the oldest load still holding rows in the table started (None: no rows, no table).

    Read through the ``_load_id`` index: load ids grow with time, so the smallest is the oldest.
    """
    if not table_exists(conn, target.schema, target.table):
        return None
    query = sql.SQL(
        "SELECT e.started_at FROM datawarp.tbl_load_events e"
        " WHERE e.load_id = (SELECT min(_load_id) FROM {})"
    ).format(identifier(target))
    row = conn.execute(query).fetchone()
    return row[0] if row else None


# --- test tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class StagingTestTable:
    table: str
    total_bytes: int
    created_at: datetime | None  # the latest CREATE in the DDL log
    last_load_at: datetime | None  # the newest load event targeting it


def staging_test_tables(conn: psycopg.Connection) -> list[StagingTestTable]:
    """Every table in ``staging_test`` with what dates it; nothing in ``staging`` is read."""
    with conn.cursor(row_factory=class_row(StagingTestTable)) as cur:
        return cur.execute(
            "SELECT c.relname::text AS table, pg_total_relation_size(c.oid) AS total_bytes,"
            " (SELECT max(d.occurred_at) FROM datawarp.tbl_ddl_events d"
            "   WHERE d.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')"
            "     AND d.object_identity = format('%%I.%%I', n.nspname, c.relname)) AS created_at,"
            " (SELECT max(e.started_at) FROM datawarp.tbl_load_events e"
            "   WHERE e.target_schema = n.nspname AND e.target_table = c.relname) AS last_load_at"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " ORDER BY c.relname",
            (TEST_SCHEMA,),
        ).fetchall()


def newest_loaded_at(conn: psycopg.Connection, table: str) -> datetime | None:
    query = sql.SQL("SELECT max(_loaded_at) FROM {}").format(sql.Identifier(TEST_SCHEMA, table))
    return conn.execute(query).fetchone()[0]


def drop_test_table(
    conn: psycopg.Connection, table: str, lock_timeout_seconds: float
) -> str | None:
    """Drop ``staging_test.<table>`` in a transaction of its own; None when dropped, else why not.

    The schema is fixed here, not a parameter: nothing a caller passes can reach ``staging``.
    A table in use is waited for briefly, never for ever; dependent objects keep it.
    """
    timeout = sql.Literal(f"{max(1, int(lock_timeout_seconds * 1000))}ms")
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(timeout))
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(TEST_SCHEMA, table)))
            # inside a caller's transaction SET LOCAL would outlive this savepoint
            conn.execute("SET LOCAL lock_timeout TO DEFAULT")
    except psycopg.errors.LockNotAvailable:
        return "in use by another session"
    except psycopg.errors.DependentObjectsStillExist as exc:
        return f"other objects depend on it ({exc.diag.message_detail or exc.diag.message_primary})"
    except psycopg.errors.UndefinedTable:
        return "already gone"
    return None
