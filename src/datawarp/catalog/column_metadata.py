"""Column metadata: descriptions, search terms, original headers, types and units, per column.

Kept in ``datawarp.tbl_column_metadata`` and, for described columns, as ``COMMENT ON COLUMN``
so any SQL client shows them. One merge rule for every writer (a load, ``datawarp
describe``): a field given replaces the stored one, a field not given keeps it. So a load
that cannot tell a column's unit (``pipeline.extract.scales``) keeps the one recorded before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from datawarp.catalog import registry
from datawarp.catalog.introspect import table_columns
from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.core.naming import TableRef


@dataclass(frozen=True)
class ColumnMetadata:
    """What is known of one column; ``None`` (or no search terms) means "keep what is stored"."""

    column_name: str
    description: str | None = None
    search_terms: tuple[str, ...] = ()
    original_header: str | None = None
    data_type: str | None = None
    load_id: int | None = None
    unit: str | None = None  # fraction or percent (core.vocabulary.ColumnUnit)
    originals_of: str | None = None  # a companion column: whose censored values it holds


def record_columns(
    conn: psycopg.Connection, source_code: str, target: TableRef, columns: Iterable[ColumnMetadata]
) -> None:
    """Upsert each column's metadata, then comment every described column the table has."""
    columns = list(columns)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO datawarp.tbl_column_metadata AS m (source_code, column_name,"
            " description, search_terms, original_header, data_type, first_load_id, last_load_id,"
            " unit, originals_of) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (source_code, column_name) DO UPDATE SET"
            " description = coalesce(EXCLUDED.description, m.description),"
            " search_terms = CASE WHEN cardinality(EXCLUDED.search_terms) > 0"
            "   THEN EXCLUDED.search_terms ELSE m.search_terms END,"
            " original_header = coalesce(EXCLUDED.original_header, m.original_header),"
            " data_type = coalesce(EXCLUDED.data_type, m.data_type),"
            " unit = coalesce(EXCLUDED.unit, m.unit),"
            " originals_of = coalesce(EXCLUDED.originals_of, m.originals_of),"
            " last_load_id = coalesce(EXCLUDED.last_load_id, m.last_load_id), updated_at = now()",
            [
                (
                    source_code, c.column_name, c.description, list(c.search_terms),
                    c.original_header, c.data_type, c.load_id, c.load_id, c.unit, c.originals_of,
                )
                for c in columns
            ],
        )  # fmt: skip
    _comment_described(conn, source_code, target, {c.column_name for c in columns})


def describe_column(
    conn: psycopg.Connection,
    source_code: str,
    column: str,
    description: str,
    search_terms: list[str] | None = None,
) -> None:
    """`datawarp describe`: a registered source's loaded column gets a description."""
    registry.get_source(conn, source_code)
    if not description.strip():
        raise BadInputError("Invalid description '': must not be empty")
    target = TableRef.for_source(source_code)
    types = table_columns(conn, target.schema, target.table, include_provenance=True) or {}
    if column not in types:
        raise NotFoundError(f"Column {column!r} not found in {target}")
    described = ColumnMetadata(
        column, description.strip(), tuple(search_terms or ()), data_type=types[column]
    )
    with conn.transaction():
        record_columns(conn, source_code, target, [described])


def _comment_described(
    conn: psycopg.Connection, source_code: str, target: TableRef, names: set[str]
) -> None:
    rows = conn.execute(
        "SELECT column_name, description FROM datawarp.tbl_column_metadata"
        " WHERE source_code = %s AND description IS NOT NULL AND column_name = ANY(%s)",
        (source_code, sorted(names)),
    ).fetchall()
    for name, description in rows:
        conn.execute(
            sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                sql.Identifier(target.schema, target.table, name), sql.Literal(description)
            )
        )
