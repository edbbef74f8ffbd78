"""Schema change requests: the record of every table created, column added or widened.

The policy (what to add, widen or hold back) is ``pipeline.schema_policy``; this module
writes its decisions, applies the DDL, and serves ``datawarp schema-changes`` — approving a
request adds its columns and backfills them from the values kept at load time.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from datawarp.catalog.introspect import table_columns
from datawarp.core.errors import ConflictError, NotFoundError
from datawarp.core.pgtypes import IncomingColumn, type_sql


def pending_requests(
    conn: psycopg.Connection, schema: str, table: str
) -> dict[int, list[IncomingColumn]]:
    rows = conn.execute(
        "SELECT change_id, columns FROM datawarp.tbl_schema_changes"
        " WHERE target_schema = %s AND target_table = %s AND status = 'pending'"
        " ORDER BY change_id",
        (schema, table),
    ).fetchall()
    return {
        change_id: [IncomingColumn(c["name"], c["type"], c.get("original_header")) for c in cols]
        for change_id, cols in rows
    }


def _columns_json(columns: list[IncomingColumn], widened=None) -> Jsonb:
    if widened is not None:
        return Jsonb([{"name": n, "old_type": o, "type": t} for n, o, t in widened])
    return Jsonb(
        [{"name": c.name, "type": c.pg_type, "original_header": c.original_header} for c in columns]
    )


def record_change(
    conn: psycopg.Connection,
    *,
    source_code: str,
    schema: str,
    table: str,
    load_id: int | None,
    kind: str,
    status: str,
    columns: list[IncomingColumn] | None = None,
    widened: list[tuple[str, str, str]] | None = None,
) -> int:
    return conn.execute(
        "INSERT INTO datawarp.tbl_schema_changes (source_code, target_schema, target_table,"
        " load_id, kind, columns, status) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " RETURNING change_id",
        (source_code, schema, table, load_id, kind, _columns_json(columns or [], widened), status),
    ).fetchone()[0]


def add_columns(conn: psycopg.Connection, schema: str, table: str, columns) -> None:
    for column in columns:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                sql.Identifier(schema, table),
                sql.Identifier(column.name),
                sql.SQL(type_sql(column.pg_type)),
            )
        )


def empty_columns(conn: psycopg.Connection, schema: str, table: str, names) -> set[str]:
    """Which of these columns hold no value in any row (each probe stops at its first value)."""
    names = list(names)
    if not names:
        return set()
    probes = sql.SQL(", ").join(
        sql.SQL("NOT EXISTS (SELECT 1 FROM {} WHERE {} IS NOT NULL)").format(
            sql.Identifier(schema, table), sql.Identifier(name)
        )
        for name in names
    )
    flags = conn.execute(sql.SQL("SELECT {}").format(probes)).fetchone()
    return {name for name, empty in zip(names, flags, strict=True) if empty}


def widen_columns(conn: psycopg.Connection, schema: str, table: str, widened) -> None:
    for name, _old, new in widened:
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                sql.Identifier(schema, table),
                sql.Identifier(name),
                sql.SQL(type_sql(new)),
                sql.Identifier(name),
                sql.SQL(type_sql(new)),
            )
        )


# --- review commands ------------------------------------------------------------------------


def list_changes(conn: psycopg.Connection, status: str | None = None) -> list[dict]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT c.*, (SELECT count(*) FROM datawarp.tbl_quarantine q"
            "  WHERE q.change_id = c.change_id) AS held_rows"
            " FROM datawarp.tbl_schema_changes c"
            " WHERE %(status)s::text IS NULL OR c.status = %(status)s ORDER BY c.change_id",
            {"status": status},
        ).fetchall()


def get_change(conn: psycopg.Connection, change_id: int) -> dict:
    for change in list_changes(conn):
        if change["change_id"] == change_id:
            return change
    raise NotFoundError(f"Schema change {change_id} not found")


def approve(conn: psycopg.Connection, change_id: int, note: str | None = None) -> int:
    """Add the held-back columns and backfill them from quarantine; returns rows backfilled."""
    with conn.transaction():
        change = _lock_pending(conn, change_id)
        schema, table = change["target_schema"], change["target_table"]
        columns = [IncomingColumn(c["name"], c["type"]) for c in change["columns"]]
        conn.execute(
            sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(
                sql.Identifier(schema, table)
            )
        )
        existing = table_columns(conn, schema, table) or {}
        add_columns(conn, schema, table, [c for c in columns if c.name not in existing])
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = (q.values ->> {})::{}").format(
                sql.Identifier(c.name),
                sql.Literal(c.name),
                sql.SQL(type_sql(existing.get(c.name, c.pg_type))),
            )
            for c in columns
        )
        backfilled = conn.execute(
            sql.SQL(
                "UPDATE {} t SET {} FROM datawarp.tbl_quarantine q WHERE q.change_id = %s"
                " AND t._load_id = q.load_id AND t._row_number = q.row_number"
            ).format(sql.Identifier(schema, table), assignments),
            (change_id,),
        ).rowcount
        conn.execute("DELETE FROM datawarp.tbl_quarantine WHERE change_id = %s", (change_id,))
        _decide(conn, change_id, "approved", note)
    return backfilled


def reject(conn: psycopg.Connection, change_id: int, note: str | None = None) -> None:
    with conn.transaction():
        _lock_pending(conn, change_id)
        conn.execute("DELETE FROM datawarp.tbl_quarantine WHERE change_id = %s", (change_id,))
        _decide(conn, change_id, "rejected", note)


def _lock_pending(conn: psycopg.Connection, change_id: int) -> dict:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        change = cur.execute(
            "SELECT * FROM datawarp.tbl_schema_changes WHERE change_id = %s FOR UPDATE",
            (change_id,),
        ).fetchone()
    if change is None:
        raise NotFoundError(f"Schema change {change_id} not found")
    if change["status"] != "pending":
        raise ConflictError(f"Schema change {change_id} is {change['status']}, not pending")
    return change


def _decide(conn: psycopg.Connection, change_id: int, status: str, note: str | None) -> None:
    conn.execute(
        "UPDATE datawarp.tbl_schema_changes SET status = %s, decided_at = now(),"
        " decided_by = datawarp.current_actor(), decision_note = %s WHERE change_id = %s",
        (status, note, change_id),
    )
