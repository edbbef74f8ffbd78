"""What PostgreSQL itself says about a table: does it exist, which columns, of which types.

The one place DataWarp reads ``pg_attribute``; the loader, the gates, ``describe`` and the demo
all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from datawarp.core.naming import TableRef, is_provenance_column

# format_type() spells two of DataWarp's types differently from the names the loader uses.
_CATALOG_TYPES = {"timestamp without time zone": "timestamp", "character varying": "text"}


def identifier(ref: TableRef) -> sql.Identifier:
    """The table as a quoted SQL identifier: how every statement names a data table."""
    return sql.Identifier(ref.schema, ref.table)


def qualified_name(schema: str, table: str) -> str:
    """``"schema"."table"`` quoted for ``::regclass`` and ``to_regclass`` (never for DDL)."""
    return sql.Identifier(schema, table).as_string(None)


def table_exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    found = conn.execute("SELECT to_regclass(%s)", (qualified_name(schema, table),)).fetchone()
    return found[0] is not None


def table_columns(
    conn: psycopg.Connection, schema: str, table: str, *, include_provenance: bool = False
) -> dict[str, str] | None:
    """Columns and their types in table order; None when the table does not exist.

    Provenance columns (``_load_id``, ``_period``, ...) are left out unless asked for.
    """
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a"
        " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        (qualified_name(schema, table),),
    ).fetchall()
    if not rows and not table_exists(conn, schema, table):
        return None
    return {
        name: _CATALOG_TYPES.get(pg_type, pg_type)
        for name, pg_type in rows
        if include_provenance or not is_provenance_column(name)
    }


def column_defaults(
    conn: psycopg.Connection, schema: str, table: str, names: list[str]
) -> dict[str, str | None]:
    """Each of ``names`` the table has, with its default expression (None: no default)."""
    rows = conn.execute(
        "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = to_regclass(%s) AND a.attname = ANY(%s) AND NOT a.attisdropped",
        (qualified_name(schema, table), names),
    ).fetchall()
    return dict(rows)


def loads_with_rows(
    conn: psycopg.Connection, target: TableRef, load_ids: Iterable[int]
) -> set[int]:
    """Which of these loads still have a row in the table (one index probe each)."""
    ids = sorted(set(load_ids))
    if not ids or not table_exists(conn, target.schema, target.table):
        return set()
    query = sql.SQL(
        "SELECT id FROM unnest(%s::bigint[]) AS id"
        " WHERE EXISTS (SELECT 1 FROM {} t WHERE t._load_id = id)"
    ).format(identifier(target))
    return {load_id for (load_id,) in conn.execute(query, (ids,)).fetchall()}
