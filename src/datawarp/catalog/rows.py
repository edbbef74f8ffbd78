"""Rows as dicts: how the catalog's read-only queries hand their results to the other stages."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

Row = dict[str, Any]


def fetch_dicts(
    conn: psycopg.Connection, query: str | sql.Composable, params: Any = ()
) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()
