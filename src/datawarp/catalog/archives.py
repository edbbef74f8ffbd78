"""Every statement of the lifecycle: deprecation, verified exports, the archive schema, retention
deletes, usage samples, orphans and ghosts (``ops.lifecycle``, ``ops.orphans`` and
``ops.parquet_export`` decide; this module talks to PostgreSQL).

Table names come from users and from the database itself, so they are always
``sql.Identifier``s and every value is bound. A table's columns are read here with their type
modifiers (``numeric(10,2)``, ``character varying(20)``), which ``introspect.table_columns``
leaves out: an export must recreate the exact types to check and restore its rows.

The content checksum of a set of rows is the sum over rows of ``hash_record_extended(ROW(...),
0)``, modulo 2^64, as 16 hex digits: order-independent, and computed from each type's own hash
function, so equal values count as equal (1.50 = 1.500: a Parquet decimal column has one
scale). Columns of types without an extended hash function (json, xml, ...) are hashed as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql

from datawarp.catalog.copy_writer import BoundedCopyWriter
from datawarp.catalog.introspect import identifier, qualified_name, table_exists
from datawarp.catalog.rows import fetch_dicts
from datawarp.core.errors import ConflictError, DatabaseError, NotFoundError
from datawarp.core.naming import STAGING_SCHEMA, TableRef

Row = dict[str, Any]
MODULUS = 2**64
# How format_type spells a type: words, dots, quotes, brackets and one modifier list.
# Types hashed by their own extended hash function (as format_type spells them, modifiers off).
_HASHED = {"smallint", "integer", "bigint", "numeric", "real", "double precision", "boolean",
           "date", "timestamp without time zone", "timestamp with time zone", "interval", "text",
           "time without time zone", "time with time zone", "character varying", "character",
           "uuid", "jsonb", "bytea"}  # fmt: skip
# Integer digits, scale, NaN or ±Infinity present (NaN sorts above Infinity: both fail "<").
_EXTENTS = ("length(trunc(max(abs({0})) FILTER (WHERE abs({0}) < 'Infinity'))::text)",
            "max(scale({0}))", "coalesce(bool_or(abs({0}) >= 'Infinity'), false)")  # fmt: skip
_TYPE_SPELLING = re.compile(r'^[\w ."\[\]]+(\(\d+(, ?\d+)?\))?[\w ."\[\]]*$')


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # as format_type spells it, modifiers included


@dataclass(frozen=True)
class RowFilter:
    """Which rows: all, one period's, or those without a period loaded before a moment."""

    period: str | None = None
    unperiodised_before: datetime | None = None


@contextmanager
def database_errors(action: str) -> Iterator[None]:
    """A refusal of the database as one line naming what was being done."""
    try:
        yield
    except psycopg.Error as exc:
        detail = (exc.diag.message_primary or str(exc)).splitlines()[0]
        raise DatabaseError(f"{action} failed: {detail}") from None


# --- the registry's lifecycle fields -------------------------------------------------------


def _update_source(conn: psycopg.Connection, code: str, assignments: str, *params: Any) -> Row:
    query = sql.SQL("UPDATE datawarp.tbl_data_sources SET {} WHERE source_code = %s RETURNING *")
    try:
        with conn.transaction():
            found = fetch_dicts(conn, query.format(sql.SQL(assignments)), (*params, code))
    except (psycopg.errors.CheckViolation, psycopg.errors.RaiseException) as exc:
        raise ConflictError(f"Refused by the database: {exc.diag.message_primary}") from None
    if not found:
        raise NotFoundError(f"Source {code!r} is not registered")
    return found[0]


def source_row(conn: psycopg.Connection, code: str) -> Row:
    """Every field of a source, the lifecycle's dates included."""
    found = fetch_dicts(
        conn, "SELECT * FROM datawarp.tbl_data_sources WHERE source_code = %s", (code,)
    )
    if not found:
        raise NotFoundError(f"Source {code!r} is not registered")
    return found[0]


def mark_deprecated(conn: psycopg.Connection, code: str, reason: str, archive_after: date) -> Row:
    assignments = "status = 'deprecated', deprecation_reason = %s, deprecated_at = now(), "
    return _update_source(conn, code, assignments + "archive_after = %s", reason, archive_after)


def mark_active_again(conn: psycopg.Connection, code: str) -> Row:
    assignments = "status = 'active', deprecation_reason = NULL, deprecated_at = NULL, "
    return _update_source(conn, code, assignments + "archive_after = NULL")


def mark_archived(conn: psycopg.Connection, code: str) -> Row:
    return _update_source(conn, code, "status = 'archived', archived_at = now()")


def comment_table(conn: psycopg.Connection, ref: TableRef, text: str | None) -> None:
    """COMMENT ON TABLE (NULL removes it); COMMENT takes no parameters, so a quoted literal."""
    value = sql.NULL if text is None else sql.Literal(text)
    conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(identifier(ref), value))


# --- reading a table for export -----------------------------------------------------------


def _text_forms(conn: psycopg.Connection) -> None:
    """Text forms Arrow parses, and the same row hashes whatever the server's defaults."""
    conn.execute(
        "SET LOCAL timezone = 'UTC'; SET LOCAL datestyle = 'ISO, YMD';"
        " SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'"
    )


def lock_for_export(conn: psycopg.Connection, ref: TableRef) -> None:
    """No writes to the table until the transaction ends."""
    conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(identifier(ref)))


def columns_of(conn: psycopg.Connection, ref: TableRef) -> list[Column]:
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (qualified_name(ref.schema, ref.table),),
    ).fetchall()
    if not rows:
        raise NotFoundError(f"Table {ref} does not exist")
    return [Column(name, pg_type) for name, pg_type in rows]


def _where(rows: RowFilter) -> tuple[sql.Composable, tuple]:
    if rows.period is not None:
        return sql.SQL("t._period = %s"), (rows.period,)
    if rows.unperiodised_before is not None:
        return sql.SQL("t._period IS NULL AND t._loaded_at < %s"), (rows.unperiodised_before,)
    return sql.SQL("true"), ()


def numeric_extents(
    conn: psycopg.Connection, ref: TableRef, names: list[str], rows: RowFilter
) -> dict[str, tuple[int | None, int | None, bool]]:
    """Per unconstrained numeric column: integer digits, scale, and whether NaN/±Infinity occur."""
    if not names:
        return {}
    parts = [sql.SQL(extent).format(sql.Identifier("t", name)) for name in names
             for extent in _EXTENTS]  # fmt: skip
    where, params = _where(rows)
    query = sql.SQL("SELECT {} FROM {} t WHERE {}").format(
        sql.SQL(", ").join(parts), identifier(ref), where
    )
    found = conn.execute(query, params).fetchone()
    return {name: tuple(found[3 * i : 3 * i + 3]) for i, name in enumerate(names)}


def _row_hash(columns: list[Column]) -> sql.Composable:
    values = [sql.Identifier("t", c.name) if re.sub(r"\(\d+(,\d+)?\)", "", c.pg_type) in _HASHED
              else sql.SQL("{}::text").format(sql.Identifier("t", c.name)) for c in columns]  # fmt: skip
    return sql.SQL("hash_record_extended(ROW({}), 0)").format(sql.SQL(", ").join(values))


@contextmanager
def copy_out(
    conn: psycopg.Connection, ref: TableRef, columns: list[Column], rows: RowFilter
) -> Iterator[Iterator[memoryview]]:
    """The rows as headerless CSV, a line at a time, each ending with its row hash (see the
    module docstring)."""
    _text_forms(conn)
    where, params = _where(rows)
    query = sql.SQL("COPY (SELECT {}, {} FROM {} t WHERE {}) TO STDOUT (FORMAT csv)").format(
        sql.SQL(", ").join(sql.Identifier("t", c.name) for c in columns),
        _row_hash(columns),
        identifier(ref),
        where,
    )
    with conn.cursor() as cur, cur.copy(query, params) as copy:
        yield iter(copy)


# --- writing rows back: checks and restores ------------------------------------------------


def create_table(conn: psycopg.Connection, ref: TableRef | None, columns: list[Column]) -> TableRef:
    """A table of these columns; ``None``: a temporary one, dropped at commit."""
    definitions = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_checked_type(conn, c.pg_type)))
        for c in columns
    )
    if ref is not None:
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(identifier(ref), definitions))
        return ref
    conn.execute("DROP TABLE IF EXISTS pg_temp.datawarp_archive_check")
    statement = sql.SQL("CREATE TEMP TABLE datawarp_archive_check ({}) ON COMMIT DROP")
    conn.execute(statement.format(definitions))
    return TableRef("pg_temp", "datawarp_archive_check")


def _checked_type(conn: psycopg.Connection, pg_type: str) -> str:
    """A type name read from a file goes into DDL only when spelled as format_type spells types
    and PostgreSQL knows it."""
    known = False
    if _TYPE_SPELLING.match(pg_type) and "--" not in pg_type:
        try:
            with conn.transaction():
                query = "SELECT to_regtype(%s) IS NOT NULL"
                known = conn.execute(query, (pg_type,)).fetchone()[0]
        except psycopg.Error:
            known = False
    if not known:
        raise ConflictError(f"Unknown column type {pg_type!r} in the archive file")
    return pg_type


def copy_in(
    conn: psycopg.Connection, ref: TableRef, names: list[str], chunks: Iterable[bytes]
) -> None:
    _text_forms(conn)  # timestamps with time zone arrive as UTC wall times
    query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        identifier(ref), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with conn.cursor() as cur, cur.copy(query, writer=BoundedCopyWriter(cur)) as copy:
        for chunk in chunks:
            copy.write(chunk)


def content_checksum(
    conn: psycopg.Connection, ref: TableRef, columns: list[Column], rows: RowFilter = RowFilter()
) -> tuple[int, str]:
    _text_forms(conn)
    where, params = _where(rows)
    query = sql.SQL("SELECT count(*), coalesce(sum({}), 0) FROM {} t WHERE {}").format(
        _row_hash(columns), identifier(ref), where
    )
    count, total = conn.execute(query, params).fetchone()
    return count, f"{int(total) % MODULUS:016x}"


def drop_table(conn: psycopg.Connection, ref: TableRef) -> None:
    conn.execute(sql.SQL("DROP TABLE {}").format(identifier(ref)))


def copy_table(conn: psycopg.Connection, source: TableRef, target: TableRef) -> int:
    like = "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"
    conn.execute(sql.SQL(like).format(identifier(target), identifier(source)))
    query = sql.SQL("INSERT INTO {} SELECT * FROM {}")
    return conn.execute(query.format(identifier(target), identifier(source))).rowcount


# --- the archive schema and the record of exports ------------------------------------------


def move_table(conn: psycopg.Connection, ref: TableRef, target: TableRef) -> None:
    if table_exists(conn, target.schema, target.table):
        raise ConflictError(f"Table {target} already exists; nothing was moved")
    if ref.table != target.table:
        rename = sql.SQL("ALTER TABLE {} RENAME TO {}")
        conn.execute(rename.format(identifier(ref), sql.Identifier(target.table)))
    if ref.schema != target.schema:
        move = sql.SQL("ALTER TABLE {} SET SCHEMA {}")
        moved = sql.Identifier(ref.schema, target.table)
        conn.execute(move.format(moved, sql.Identifier(target.schema)))


def snapshot_column_metadata(conn: psycopg.Connection, code: str, target: TableRef) -> None:
    query = sql.SQL(
        "CREATE TABLE {} AS SELECT * FROM datawarp.tbl_column_metadata WHERE source_code = %s"
        " ORDER BY column_name"
    )
    conn.execute(query.format(identifier(target)), (code,))


def record_archive(conn: psycopg.Connection, **fields: Any) -> Row:
    query = sql.SQL("INSERT INTO datawarp.tbl_archives ({}) VALUES ({}) RETURNING *").format(
        sql.SQL(", ").join(map(sql.Identifier, fields)),
        sql.SQL(", ").join(sql.Placeholder() * len(fields)),
    )
    return fetch_dicts(conn, query, list(fields.values()))[0]


def mark_table_dropped(conn: psycopg.Connection, archive_id: int) -> datetime:
    query = "UPDATE datawarp.tbl_archives SET table_dropped_at = now() WHERE archive_id = %s"
    return conn.execute(query + " RETURNING table_dropped_at", (archive_id,)).fetchone()[0]


def archives_of(conn: psycopg.Connection, code: str, kind: str) -> list[Row]:
    """Newest first."""
    query = "SELECT * FROM datawarp.tbl_archives WHERE source_code = %s AND kind = %s"
    return fetch_dicts(conn, query + " ORDER BY archive_id DESC", (code, kind))


def load_history(conn: psycopg.Connection, code: str, table: str, period: Any = ...) -> list[Row]:
    """The loads that wrote into staging ``table``: all, or one period's (None: no period)."""
    return fetch_dicts(
        conn,
        "SELECT load_id, load_status, period, period_kind, source_file, sheet, file_sha256,"
        " file_bytes, rows_loaded, columns_added, load_mode, started_at, completed_at, loaded_by"
        " FROM datawarp.tbl_load_events WHERE source_code = %s AND target_schema = 'staging'"
        " AND target_table = %s AND (%s OR period IS NOT DISTINCT FROM %s) ORDER BY load_id",
        (code, table, period is ..., None if period is ... else period),
    )


def column_metadata(conn: psycopg.Connection, code: str) -> list[Row]:
    return fetch_dicts(
        conn,
        "SELECT column_name, description, search_terms, original_header, data_type, unit,"
        " originals_of FROM datawarp.tbl_column_metadata WHERE source_code = %s"
        " ORDER BY column_name",
        (code,),
    )


# --- retention, usage, orphans and ghosts ----------------------------------------------------


def expired_rows(
    conn: psycopg.Connection, code: str, ref: TableRef, cutoff: date, loaded_before: datetime
) -> list[Row]:
    """Periods ending before ``cutoff``, and rows without a period loaded before
    ``loaded_before`` (period NULL): their rows and bytes, oldest first."""
    query = sql.SQL(
        "WITH kinds AS (SELECT DISTINCT ON (period) period, period_kind"
        "  FROM datawarp.tbl_source_periods WHERE source_code = %(code)s ORDER BY period, 2)"
        " SELECT t._period AS period, k.period_kind,"
        "  datawarp.period_end(t._period, k.period_kind) AS period_end,"
        "  count(*) AS row_count, sum(pg_column_size(t.*))::bigint AS bytes"
        " FROM {} t LEFT JOIN kinds k ON k.period = t._period"
        " WHERE (t._period IS NULL AND t._loaded_at < %(before)s)"
        "  OR datawarp.period_end(t._period, k.period_kind) < %(cutoff)s"
        " GROUP BY 1, 2 ORDER BY 3 NULLS FIRST, 1"
    ).format(identifier(ref))
    return fetch_dicts(conn, query, {"code": code, "cutoff": cutoff, "before": loaded_before})


def delete_rows(conn: psycopg.Connection, ref: TableRef, rows: RowFilter) -> int:
    where, params = _where(rows)
    query = sql.SQL("DELETE FROM {} t WHERE {}").format(identifier(ref), where)
    return conn.execute(query, params).rowcount


def sample_usage(conn: psycopg.Connection, at: datetime) -> int:
    """Copy the read counters of the data schemas' tables (they reset; the copy stays)."""
    return conn.execute(
        "INSERT INTO datawarp.tbl_table_usage"
        " (sampled_at, schema_name, table_name, seq_scan, idx_scan, tuples_read)"
        " SELECT %s, schemaname, relname, coalesce(seq_scan, 0), coalesce(idx_scan, 0),"
        "  coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
        " FROM pg_stat_user_tables WHERE schemaname IN ('staging', 'staging_test')"
        " ON CONFLICT DO NOTHING",
        (at,),
    ).rowcount


def table_reads(conn: psycopg.Connection, as_of: datetime, days: int) -> dict[str, Row]:
    """Reads of each staging table over the window, by table name."""
    query = "SELECT * FROM datawarp.table_reads(%s, %s) WHERE schema_name = %s"
    return {r["table_name"]: r for r in fetch_dicts(conn, query, (as_of, days, STAGING_SCHEMA))}


def orphans_and_ghosts(conn: psycopg.Connection) -> tuple[list[Row], list[Row], bool]:
    """Staging tables no source owns, active or deprecated sources whose table is gone, and
    whether the DDL log (creation times and creators) is installed."""
    return (
        fetch_dicts(conn, "SELECT * FROM datawarp.orphan_tables()"),
        fetch_dicts(conn, "SELECT * FROM datawarp.ghost_sources()"),
        conn.execute("SELECT datawarp.ddl_log_installed()").fetchone()[0],
    )


def remember_orphan(conn: psycopg.Connection, row: Row) -> bool:
    """True the first time this table (by name and oid) is seen."""
    query = (
        "INSERT INTO datawarp.tbl_orphans_seen (schema_name, table_name, table_oid)"
        " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
    )
    params = (row["schema_name"], row["table_name"], row["table_oid"])
    return conn.execute(query, params).rowcount == 1
