"""The transactional load of one extracted table into its staging table.

Runs inside the caller's transaction (one per source file): create or review the table's
schema, apply the load mode (REPLACE removes the period's rows, APPEND adds), then COPY the rows
with their provenance. Any exception leaves the caller to roll everything back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from datawarp.catalog import schema_changes as schema_review
from datawarp.catalog.schema_changes import IncomingColumn, SchemaPlan

PROVENANCE_COLUMNS = (
    ("_load_id", "bigint NOT NULL"),
    ("_period", "text"),
    ("_source_file", "text NOT NULL"),
    ("_sheet", "text"),
    ("_row_number", "integer NOT NULL"),
    ("_is_total", "boolean NOT NULL DEFAULT false"),
    ("_loaded_at", "timestamptz NOT NULL DEFAULT now()"),
)
# The columns COPY fills per row, in order, after the data columns (_loaded_at is the default).
COPIED_PROVENANCE = ("_load_id", "_period", "_source_file", "_sheet", "_row_number", "_is_total")


@dataclass(frozen=True)
class LoadTarget:
    schema: str
    table: str

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)


@dataclass(frozen=True)
class Provenance:
    load_id: int
    period: str | None
    source_file: str
    sheet: str | None


@dataclass
class LoadResult:
    rows_loaded: int = 0
    columns_added: int = 0
    created_table: bool = False
    plan: SchemaPlan = field(default_factory=SchemaPlan)
    pending_change_ids: list[int] = field(default_factory=list)
    rows_replaced: int = 0
    warnings: list[str] = field(default_factory=list)


def create_table(conn: psycopg.Connection, target: LoadTarget, columns) -> None:
    definitions = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(schema_review._type_sql(c.pg_type)))
        for c in columns
    ] + [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(ddl))
        for name, ddl in PROVENANCE_COLUMNS
    ]
    conn.execute(
        sql.SQL("CREATE TABLE {} ({})").format(target.identifier, sql.SQL(", ").join(definitions))
    )


def create_indexes(conn: psycopg.Connection, target: LoadTarget) -> None:
    """Indexes for REPLACE (by period) and the gates (by load). A new table gets them after its
    first COPY: building an index once is cheaper than maintaining it row by row."""
    for column in ("_load_id", "_period"):
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(f"{target.table[:50]}{column}_idx"),
                target.identifier,
                sql.Identifier(column),
            )
        )


def prepare_table(
    conn: psycopg.Connection,
    target: LoadTarget,
    incoming: list[IncomingColumn],
    *,
    source_code: str,
    load_id: int,
    auto_add_limit: int,
) -> LoadResult:
    """Create the table, or review and apply this file's schema changes to it."""
    result = LoadResult()
    existing = schema_review.existing_columns(conn, target.schema, target.table)
    record = dict(
        source_code=source_code, schema=target.schema, table=target.table, load_id=load_id
    )
    if existing is None:
        create_table(conn, target, incoming)
        schema_review.record_change(conn, **record, kind="create", status="auto", columns=incoming)
        result.created_table, result.columns_added = True, len(incoming)
        return result
    pending = schema_review.pending_requests(conn, target.schema, target.table)
    plan = schema_review.plan_changes(existing, incoming, pending, auto_add_limit)
    result.plan = plan
    if plan.add:
        schema_review.add_columns(conn, target.schema, target.table, plan.add)
        schema_review.record_change(conn, **record, kind="add", status="auto", columns=plan.add)
        result.columns_added = len(plan.add)
    if plan.widen:
        schema_review.widen_columns(conn, target.schema, target.table, plan.widen)
        schema_review.record_change(conn, **record, kind="widen", status="auto", widened=plan.widen)
    if plan.new_request_columns:
        change_id = schema_review.record_change(
            conn, **record, kind="add", status="pending", columns=plan.new_request_columns
        )
        plan.held_back[change_id] = plan.new_request_columns
        result.pending_change_ids.append(change_id)
    result.pending_change_ids += [
        cid for cid in plan.held_back if cid not in result.pending_change_ids
    ]
    if plan.missing:
        result.warnings.append(
            f"{len(plan.missing)} column(s) of the table are not in this file and stay NULL: "
            + ", ".join(plan.missing[:10])
        )
    return result


def delete_for_replace(conn: psycopg.Connection, target: LoadTarget, period: str | None) -> int:
    """REPLACE: the period's rows go (all rows when the file has no period)."""
    if period is None:
        return conn.execute(sql.SQL("DELETE FROM {}").format(target.identifier)).rowcount
    return conn.execute(
        sql.SQL("DELETE FROM {} WHERE _period = %s").format(target.identifier), (period,)
    ).rowcount


def _json_safe(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _quarantine_dumps(obj: object) -> str:
    return json.dumps(obj, default=_json_safe)


def copy_rows(
    conn: psycopg.Connection,
    target: LoadTarget,
    column_names: Sequence[str],
    batches: Iterable[list[tuple]],
    provenance: Provenance,
    *,
    held_back: dict[int, list[str]] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """COPY every row; batches hold (data values..., row_number, is_total) tuples.

    Columns held back for review go to tbl_quarantine instead, one JSON object per row.
    """
    held_back = held_back or {}
    held_names = {name for names in held_back.values() for name in names}
    keep = [i for i, name in enumerate(column_names) if name not in held_names]
    held_index = {cid: [column_names.index(n) for n in names] for cid, names in held_back.items()}
    constant = (provenance.load_id, provenance.period, provenance.source_file, provenance.sheet)
    copy_main = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target.identifier,
        sql.SQL(", ").join(
            map(sql.Identifier, [column_names[i] for i in keep] + list(COPIED_PROVENANCE))
        ),
    )
    all_kept = len(keep) == len(column_names)
    total = 0
    with conn.cursor() as cur:
        for batch in batches:
            with cur.copy(copy_main) as copy:
                for row in batch:
                    values = row[:-2] if all_kept else tuple(row[i] for i in keep)
                    copy.write_row((*values, *constant, row[-2], row[-1]))
            if held_index:
                _quarantine(cur, batch, held_index, column_names, provenance.load_id)
            total += len(batch)
            if on_rows:
                on_rows(len(batch))
    return total


def _quarantine(cur, batch, held_index, column_names, load_id) -> None:
    with cur.copy(
        "COPY datawarp.tbl_quarantine (change_id, load_id, row_number, values) FROM STDIN"
    ) as copy:
        for change_id, indexes in held_index.items():
            for row in batch:
                values = {column_names[i]: row[i] for i in indexes if row[i] is not None}
                if values:
                    copy.write_row((change_id, load_id, row[-2], Jsonb(values, _quarantine_dumps)))
