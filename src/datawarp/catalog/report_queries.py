"""Reads for the report, the web pages and ``/metrics`` beyond the dashboard functions.

Like the dashboards, only loads into ``staging`` count (test loads are experiments), and a
load's validation verdict is its latest run of the gates (``datawarp validate`` may re-run
them). Every function returns plain rows (dicts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from datawarp.catalog.rows import fetch_dicts

Row = dict[str, Any]

# `latest`: the latest gate run of each load started in the window (one row per check).
_LATEST_IN_WINDOW = sql.SQL(
    "WITH latest AS ("
    "  SELECT v.*, e.load_status FROM datawarp.tbl_validation_results v"
    "    JOIN datawarp.tbl_load_events e ON e.load_id = v.load_id"
    "   WHERE e.started_at > %(as_of)s - make_interval(days => %(days)s)"
    "     AND e.started_at <= %(as_of)s AND e.target_schema = 'staging'"
    "     AND v.run_id IS NOT DISTINCT FROM (SELECT max(r.run_id)"
    "           FROM datawarp.tbl_validation_results r WHERE r.load_id = v.load_id)) "
)


def validation_summary(conn: psycopg.Connection, as_of: datetime, days: int) -> list[Row]:
    """Per gate check: how many loads of the window passed, warned and failed it."""
    return fetch_dicts(
        conn,
        _LATEST_IN_WINDOW
        + sql.SQL(
            "SELECT validation_type, check_name,"
            " count(*) FILTER (WHERE status = 'pass') AS pass,"
            " count(*) FILTER (WHERE status = 'warn') AS warn,"
            " count(*) FILTER (WHERE status = 'fail') AS fail"
            " FROM latest GROUP BY validation_type, check_name"
            " ORDER BY fail DESC, warn DESC, validation_type, check_name"
        ),
        {"as_of": as_of, "days": days},
    )


def validation_failures(
    conn: psycopg.Connection, as_of: datetime, days: int, limit: int = 20
) -> list[Row]:
    """The latest failed checks of the window, newest first."""
    return fetch_dicts(
        conn,
        _LATEST_IN_WINDOW
        + sql.SQL(
            "SELECT load_id, source_code, check_name, message, load_status, validated_at"
            " FROM latest WHERE status = 'fail'"
            " ORDER BY validated_at DESC, validation_id DESC LIMIT %(limit)s"
        ),
        {"as_of": as_of, "days": days, "limit": limit},
    )


def row_history(conn: psycopg.Connection, as_of: datetime, days: int) -> list[Row]:
    """Each source's table rows after each load of the window, and its last figure before it."""
    return fetch_dicts(
        conn,
        "WITH measured AS ("
        "  SELECT m.source_code, m.measured_at, m.row_count FROM datawarp.tbl_source_metrics m"
        "    JOIN datawarp.tbl_load_events e ON e.load_id = m.load_id"
        "   WHERE e.target_schema = 'staging' AND m.measured_at <= %(as_of)s"
        "     AND m.row_count IS NOT NULL)"
        " SELECT * FROM (SELECT DISTINCT ON (source_code) * FROM measured"
        "   WHERE measured_at <= %(as_of)s - make_interval(days => %(days)s)"
        "   ORDER BY source_code, measured_at DESC) before_window"
        " UNION ALL"
        " SELECT * FROM measured WHERE measured_at > %(as_of)s - make_interval(days => %(days)s)"
        " ORDER BY source_code, measured_at",
        {"as_of": as_of, "days": days},
    )


# --- one source ------------------------------------------------------------------------------


def source_loads(conn: psycopg.Connection, source_code: str, limit: int = 20) -> list[Row]:
    return fetch_dicts(
        conn,
        "SELECT load_id, load_status, target_schema, period, source_file, rows_loaded,"
        " columns_added, started_at, duration_seconds, error_message"
        " FROM datawarp.tbl_load_events WHERE source_code = %s"
        " ORDER BY started_at DESC, load_id DESC LIMIT %s",
        (source_code, limit),
    )


def source_validation(conn: psycopg.Connection, source_code: str, limit: int = 50) -> list[Row]:
    """The latest gate run of each of the source's loads, newest first."""
    return fetch_dicts(
        conn,
        "SELECT v.load_id, v.validation_type, v.check_name, v.status, v.message, v.validated_at"
        " FROM datawarp.tbl_validation_results v WHERE v.source_code = %s"
        " AND v.run_id IS NOT DISTINCT FROM (SELECT max(r.run_id)"
        "   FROM datawarp.tbl_validation_results r WHERE r.load_id = v.load_id)"
        " ORDER BY v.validation_id DESC LIMIT %s",
        (source_code, limit),
    )


def source_schema_changes(conn: psycopg.Connection, source_code: str, limit: int = 50) -> list[Row]:
    return fetch_dicts(
        conn,
        "SELECT change_id, kind, status, target_schema || '.' || target_table AS target_table,"
        " (SELECT string_agg(c->>'name', ', ') FROM jsonb_array_elements(columns) c) AS columns,"
        " requested_at, decided_at, decided_by"
        " FROM datawarp.tbl_schema_changes WHERE source_code = %s"
        " ORDER BY change_id DESC LIMIT %s",
        (source_code, limit),
    )


def source_columns(conn: psycopg.Connection, source_code: str) -> list[Row]:
    return fetch_dicts(
        conn,
        "SELECT column_name, data_type, original_header, description,"
        " array_to_string(search_terms, ', ') AS search_terms"
        " FROM datawarp.tbl_column_metadata WHERE source_code = %s"
        " ORDER BY first_load_id NULLS LAST, column_name",
        (source_code,),
    )


# --- /metrics: whole-history counters kept as loads finish (migration 0013) -------------------


def loads_by_status(conn: psycopg.Connection) -> dict[str, int]:
    rows = fetch_dicts(conn, "SELECT load_status, loads FROM datawarp.tbl_load_totals")
    return {r["load_status"]: r["loads"] for r in rows}


def load_duration_histogram(conn: psycopg.Connection) -> tuple[list[tuple[float, int]], int, float]:
    """Completed loads: (upper bound, cumulative count) per finite bucket, count, sum."""
    rows = fetch_dicts(conn, "SELECT le, loads FROM datawarp.tbl_load_duration_buckets ORDER BY le")
    total = fetch_dicts(
        conn,
        "SELECT coalesce(sum(loads), 0) AS count,"
        " coalesce(sum(duration_seconds_sum), 0)::float8 AS sum"
        " FROM datawarp.tbl_load_totals WHERE load_status = 'completed'",
    )[0]
    cumulative, buckets = 0, []
    for row in rows:
        cumulative += row["loads"]
        if row["le"] != float("inf"):
            buckets.append((row["le"], cumulative))
    return buckets, total["count"], total["sum"]


def last_successful_loads(conn: psycopg.Connection) -> dict[str, datetime]:
    """One index probe per registered source (its latest completed load into staging)."""
    rows = fetch_dicts(
        conn,
        "SELECT s.source_code, last.completed_at AS at FROM datawarp.tbl_data_sources s"
        " JOIN LATERAL (SELECT e.completed_at FROM datawarp.tbl_load_events e"
        "   WHERE e.source_code = s.source_code AND e.load_status = 'completed'"
        "     AND e.target_schema = 'staging' ORDER BY e.completed_at DESC LIMIT 1) last ON true"
        " ORDER BY 1",
    )
    return {r["source_code"]: r["at"] for r in rows}


def source_rows(conn: psycopg.Connection) -> dict[str, int]:
    """Each source's table rows after its latest completed load (one probe per source)."""
    rows = fetch_dicts(
        conn,
        "SELECT s.source_code, m.row_count FROM datawarp.tbl_data_sources s"
        " JOIN LATERAL (SELECT m.row_count FROM datawarp.tbl_source_metrics m"
        "   JOIN datawarp.tbl_load_events e ON e.load_id = m.load_id"
        "   WHERE m.source_code = s.source_code AND e.target_schema = 'staging'"
        "     AND m.row_count IS NOT NULL"
        "   ORDER BY m.measured_at DESC, m.metric_id DESC LIMIT 1) m ON true ORDER BY 1",
    )
    return {r["source_code"]: r["row_count"] for r in rows}


def open_alerts_by_severity(conn: psycopg.Connection) -> dict[str, int]:
    rows = fetch_dicts(
        conn,
        "SELECT severity, count(*) AS alerts FROM datawarp.tbl_alerts"
        " WHERE status <> 'resolved' GROUP BY 1",
    )
    return {r["severity"]: r["alerts"] for r in rows}


def table_bytes(conn: psycopg.Connection) -> list[Row]:
    """Every table in the data schemas (staging, staging_test, archive) with its size."""
    return fetch_dicts(
        conn,
        "SELECT schema_name, table_name, total_bytes FROM datawarp.table_sizes() ORDER BY 1, 2",
    )
