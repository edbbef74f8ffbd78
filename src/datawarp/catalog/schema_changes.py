"""Schema drift review (seed rule 4): new columns are reviewed, not blindly applied.

Fewer than ``auto_add_limit`` new columns in one load are added automatically (logged as
``auto``). At or above it, a ``pending`` request is recorded, the DBA is notified, and the load
goes on with the existing columns only; the new columns' values are held in
``datawarp.tbl_quarantine`` (keyed by load and row number) so approval can backfill them.
Type changes that widen (integer → numeric → text, date → timestamp) are applied and logged;
narrowing never happens: narrower values simply fit the wider column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from datawarp.core.errors import ConflictError, NotFoundError
from datawarp.pipeline.extract.values import PG_TYPES, widen

DEFAULT_AUTO_ADD_LIMIT = 5
_CATALOG_TYPES = {"timestamp without time zone": "timestamp", "character varying": "text"}


@dataclass(frozen=True)
class IncomingColumn:
    name: str
    pg_type: str
    original_header: str | None = None


@dataclass
class SchemaPlan:
    """What this load does to the table, decided before any data moves."""

    add: list[IncomingColumn] = field(default_factory=list)
    widen: list[tuple[str, str, str]] = field(default_factory=list)  # name, old, new
    held_back: dict[int, list[IncomingColumn]] = field(default_factory=dict)  # change_id -> cols
    new_request_columns: list[IncomingColumn] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def held_back_names(self) -> set[str]:
        return {c.name for cols in self.held_back.values() for c in cols}


def existing_columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str] | None:
    """Data columns (not provenance) and their types; None when the table does not exist."""
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        (schema, table),
    ).fetchall()
    if not rows:
        exists = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()[0]
        return None if exists is None else {}
    return {
        name: _CATALOG_TYPES.get(pg_type, pg_type)
        for name, pg_type in rows
        if not name.startswith("_")
    }


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


def plan_changes(
    existing: dict[str, str],
    incoming: list[IncomingColumn],
    pending: dict[int, list[IncomingColumn]],
    auto_add_limit: int = DEFAULT_AUTO_ADD_LIMIT,
) -> SchemaPlan:
    plan = SchemaPlan()
    new = [c for c in incoming if c.name not in existing]
    incoming_names = {c.name for c in incoming}
    plan.missing = [name for name in existing if name not in incoming_names]
    for column in incoming:
        old = existing.get(column.name)
        if old is not None and old in PG_TYPES and widen(old, column.pg_type) != old:
            plan.widen.append((column.name, old, widen(old, column.pg_type)))
    pending_by_name = {c.name: change_id for change_id, cols in pending.items() for c in cols}
    if len(new) < auto_add_limit and not any(c.name in pending_by_name for c in new):
        plan.add = new
        return plan
    for column in new:
        change_id = pending_by_name.get(column.name)
        if change_id is None:
            plan.new_request_columns.append(column)
        else:
            plan.held_back.setdefault(change_id, []).append(column)
    return plan


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
                sql.SQL(_type_sql(column.pg_type)),
            )
        )


def widen_columns(conn: psycopg.Connection, schema: str, table: str, widened) -> None:
    for name, _old, new in widened:
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                sql.Identifier(schema, table),
                sql.Identifier(name),
                sql.SQL(_type_sql(new)),
                sql.Identifier(name),
                sql.SQL(_type_sql(new)),
            )
        )


def _type_sql(pg_type: str) -> str:
    """Types come from the engine's fixed set; anything else is refused, never interpolated."""
    if pg_type not in PG_TYPES:
        raise ValueError(f"unsupported column type {pg_type!r}")
    return pg_type


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
        existing = existing_columns(conn, schema, table) or {}
        add_columns(conn, schema, table, [c for c in columns if c.name not in existing])
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = (q.values ->> {})::{}").format(
                sql.Identifier(c.name),
                sql.Literal(c.name),
                sql.SQL(_type_sql(existing.get(c.name, c.pg_type))),
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
