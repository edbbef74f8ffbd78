"""`datawarp describe`: column descriptions and search terms, kept in the catalog and as comments."""

from __future__ import annotations

import psycopg
from psycopg import sql

from datawarp.catalog import registry
from datawarp.core.errors import BadInputError, NotFoundError


def describe_column(
    conn: psycopg.Connection,
    source_code: str,
    column: str,
    description: str,
    search_terms: list[str] | None = None,
) -> None:
    registry.get_source(conn, source_code)
    if not description.strip():
        raise BadInputError("Invalid description '': must not be empty")
    table = f"tbl_{source_code}"
    found = conn.execute(
        "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid ="
        " to_regclass(%s) AND attname = %s AND attnum > 0 AND NOT attisdropped",
        (f"staging.{table}", column),
    ).fetchone()
    if found is None:
        raise NotFoundError(f"Column {column!r} not found in staging.{table}")
    with conn.transaction():
        conn.execute(
            "INSERT INTO datawarp.tbl_column_metadata AS m (source_code, column_name, description,"
            " search_terms, data_type) VALUES (%s, %s, %s, coalesce(%s, '{}'::text[]), %s)"
            " ON CONFLICT (source_code, column_name) DO UPDATE SET"
            " description = EXCLUDED.description,"
            " search_terms = coalesce(%s, m.search_terms), updated_at = now()",
            (source_code, column, description.strip(), search_terms, found[0], search_terms),
        )
        conn.execute(
            sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                sql.Identifier("staging", table, column), sql.Literal(description.strip())
            )
        )
