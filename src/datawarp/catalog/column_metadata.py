"""Column metadata: descriptions and search terms, kept in the catalog and as SQL comments.

Descriptions come from the manifest's ``columns:`` block (and later ``datawarp describe``).
They are also written as ``COMMENT ON COLUMN`` so any SQL client shows them.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from datawarp.pipeline.manifest import ColumnMeta


def record_column_metadata(
    conn: psycopg.Connection,
    source_code: str,
    table,
    described: dict[str, ColumnMeta],
    load_id: int,
    *,
    schema: str = "staging",
) -> list[str]:
    """Upsert one row per loaded column; returns manifest columns that the file does not have."""
    names = set(table.column_names)
    for column in table.columns:
        meta = described.get(column.name)
        conn.execute(
            "INSERT INTO datawarp.tbl_column_metadata AS m (source_code, column_name,"
            " description, search_terms, original_header, data_type, first_load_id, last_load_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (source_code, column_name) DO UPDATE SET"
            " description = coalesce(EXCLUDED.description, m.description),"
            " search_terms = CASE WHEN cardinality(EXCLUDED.search_terms) > 0"
            "   THEN EXCLUDED.search_terms ELSE m.search_terms END,"
            " original_header = EXCLUDED.original_header, data_type = EXCLUDED.data_type,"
            " last_load_id = EXCLUDED.last_load_id, updated_at = now()",
            (
                source_code, column.name, meta.description if meta else None,
                meta.search_terms if meta else [], column.original_header, column.pg_type,
                load_id, load_id,
            ),
        )  # fmt: skip
    _comment_columns(conn, schema, f"tbl_{source_code}", source_code, names)
    return sorted(set(described) - names)


def _comment_columns(
    conn: psycopg.Connection, schema: str, table: str, source_code: str, names: set[str]
) -> None:
    rows = conn.execute(
        "SELECT column_name, description FROM datawarp.tbl_column_metadata"
        " WHERE source_code = %s AND description IS NOT NULL",
        (source_code,),
    ).fetchall()
    for name, description in rows:
        if name in names:
            conn.execute(
                sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                    sql.Identifier(schema, table, name), sql.Literal(description)
                )
            )
