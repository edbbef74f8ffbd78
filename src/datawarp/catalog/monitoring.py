"""Reads of the dashboard functions of migration 0007: every surface asks here.

Each function returns plain rows (dicts) so the CLI, the HTML report, the web pages and the
JSON API show the same numbers an analyst gets from the ``datawarp.v_*`` views.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from datawarp.catalog.rows import fetch_dicts

Row = dict[str, Any]


def _function(name: str, arguments: int, *, limited: bool = False) -> sql.Composable:
    """``SELECT * FROM datawarp.<name>(%s, ...)``, with ``LIMIT %s`` when asked."""
    query = sql.SQL("SELECT * FROM {}({})").format(
        sql.Identifier("datawarp", name), sql.SQL(", ").join([sql.Placeholder()] * arguments)
    )
    return query + sql.SQL(" LIMIT %s") if limited else query


def load_health_daily(conn: psycopg.Connection, as_of: datetime, days: int) -> list[Row]:
    return fetch_dicts(conn, _function("load_health_daily", 2), (as_of, days))


def load_health_by_source(conn: psycopg.Connection, as_of: datetime, days: int) -> list[Row]:
    return fetch_dicts(conn, _function("load_health_by_source", 2), (as_of, days))


def failed_loads(
    conn: psycopg.Connection, as_of: datetime, days: int, limit: int = 100
) -> list[Row]:
    return fetch_dicts(conn, _function("failed_loads", 2, limited=True), (as_of, days, limit))


def freshness(
    conn: psycopg.Connection, as_of: datetime, stale_after_days: int, grace_days: int
) -> list[Row]:
    return fetch_dicts(conn, _function("freshness", 3), (as_of, stale_after_days, grace_days))


def table_sizes(conn: psycopg.Connection, limit: int = 20) -> list[Row]:
    return fetch_dicts(conn, _function("table_sizes", 0, limited=True), (limit,))


def storage_totals(conn: psycopg.Connection) -> dict[str, list[Row]]:
    """Bytes by domain and by schema (staging, staging_test, archive)."""
    return {
        "by_domain": fetch_dicts(conn, sql.SQL("SELECT * FROM datawarp.v_storage_by_domain")),
        "by_schema": fetch_dicts(conn, sql.SQL("SELECT * FROM datawarp.v_storage_by_schema")),
    }


def row_growth(conn: psycopg.Connection, as_of: datetime, days: int) -> list[Row]:
    return fetch_dicts(conn, _function("row_growth", 2), (as_of, days))


def schema_evolution(
    conn: psycopg.Connection, as_of: datetime, days: int, high_drift: int
) -> list[Row]:
    return fetch_dicts(conn, _function("schema_evolution", 3), (as_of, days, high_drift))


def pending_reviews(conn: psycopg.Connection, as_of: datetime) -> list[Row]:
    return fetch_dicts(conn, _function("pending_reviews", 1), (as_of,))
