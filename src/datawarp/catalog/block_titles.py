"""The block title a file with no banner takes: the first block of an earlier load.

One statement: the source's completed loads into the table, newest first, each probed by the
``_load_id`` index for its first titled row; the first load that has one answers. Blocks
stacked side by side share their sheet row's ``_row_number``, and COPY writes the leftmost
block's row first, so the row written first (``ctid``) breaks the tie.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from datawarp.catalog.introspect import identifier, table_columns
from datawarp.core.naming import TableRef
from datawarp.core.vocabulary import LoadStatus

BLOCK_TITLE = "block_title"


def first_block_title(
    conn: psycopg.Connection, target: TableRef, source_code: str
) -> tuple[str, int] | None:
    """(title, load id) of the first block of the newest completed load into ``target`` that
    has block titles; None when the table has no ``block_title`` column or no titled rows."""
    columns = table_columns(conn, target.schema, target.table)
    if columns is None or BLOCK_TITLE not in columns:
        return None
    query = sql.SQL(
        "SELECT t.title, e.load_id FROM datawarp.tbl_load_events e CROSS JOIN LATERAL ("
        " SELECT {column} AS title FROM {table} WHERE _load_id = e.load_id"
        " AND {column} IS NOT NULL ORDER BY _row_number, ctid LIMIT 1) t"
        " WHERE e.source_code = %s AND e.target_schema = %s AND e.target_table = %s"
        " AND e.load_status = %s ORDER BY e.load_id DESC LIMIT 1"
    ).format(column=sql.Identifier(BLOCK_TITLE), table=identifier(target))
    row = conn.execute(
        query, (source_code, target.schema, target.table, LoadStatus.COMPLETED)
    ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))
