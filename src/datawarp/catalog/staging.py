"""Staging tables: their DDL, the load modes' deletes and the COPY of typed rows with provenance.

Everything here runs inside the caller's transaction (one per source file); any exception
leaves the caller to roll everything back. ``staging_arrow`` is the COPY of Arrow batches.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from datawarp.catalog.access import load_group_ddl
from datawarp.catalog.copy_writer import BoundedCopyWriter
from datawarp.catalog.introspect import (
    column_defaults,
    identifier,
    table_columns,
    table_exists,
)
from datawarp.core.errors import ConflictError
from datawarp.core.naming import TableRef
from datawarp.core.pgtypes import IncomingColumn, type_sql

PROVENANCE_COLUMNS = (
    ("_row_number", "integer NOT NULL"),
    ("_is_total", "boolean NOT NULL DEFAULT false"),
    ("_level", "text"),  # national, region, system, organisation (docs/rows.md); NULL: not told
    ("_load_id", "bigint NOT NULL"),
    ("_period", "text"),
    ("_source_file", "text NOT NULL"),
    ("_sheet", "text"),
    ("_loaded_at", "timestamptz NOT NULL DEFAULT now()"),
)
# The columns COPY fills per row, in order, after the data columns (_loaded_at is the default).
COPIED_PROVENANCE = (
    "_load_id", "_period", "_source_file", "_sheet", "_row_number", "_is_total", "_level",
)  # fmt: skip
_CONSTANTS = COPIED_PROVENANCE[:4]  # the same for every row of a load
# What a load's first COPY into the table it created fills: its data columns and these; the
# constants, and _loaded_at, are added after it (``load_constants``).
_ROW_COLUMNS = PROVENANCE_COLUMNS[:3]
_LATER_COLUMNS = PROVENANCE_COLUMNS[3:]
# Their types, as ``table_columns`` names them (a binary COPY sends exactly these).
PROVENANCE_TYPES = {
    name: definition.split()[0]
    for name, definition in PROVENANCE_COLUMNS
    if name in COPIED_PROVENANCE
}
# Provenance a table made before it existed gains on its next load: nullable, no default, so
# PostgreSQL adds it without rewriting the table, and earlier rows read NULL ("not told").
ADDED_LATER = frozenset({"_level"})
# Per-row provenance a load may leave to the column's default when every row of the file has
# that value (no totals rows; one level): the COPY leaves the column out and the server fills
# it in, which spares it a tenth of its parsing per row. Their default in the table's DDL:
ROW_DEFAULTS = {"_is_total": "false", "_level": None}
PER_ROW = COPIED_PROVENANCE[len(_CONSTANTS) :]  # _row_number, _is_total, _level


@dataclass(frozen=True)
class Provenance:
    load_id: int
    period: str | None
    source_file: str
    sheet: str | None


def create_table(
    conn: psycopg.Connection,
    target: TableRef,
    columns: Sequence[IncomingColumn],
    *,
    first_load: bool = False,
) -> None:
    """A staging table: the data columns, then the provenance. ``first_load``: the table a
    load creates for its COPY, which gets only the per-row provenance now; the per-load
    constants (``_load_id``, ``_period``, ``_source_file``, ``_sheet``, ``_loaded_at``) follow
    that COPY (``load_constants`` with ``new_table``)."""
    provenance = _ROW_COLUMNS if first_load else PROVENANCE_COLUMNS
    definitions = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(type_sql(c.pg_type)))
        for c in columns
    ] + [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(ddl)) for name, ddl in provenance]
    # Owned by the engineers' group once access is set up, so DBAs can alter and drop it.
    with load_group_ddl(conn):
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                identifier(target), sql.SQL(", ").join(definitions)
            )
        )


def add_missing_provenance(conn: psycopg.Connection, target: TableRef) -> list[str]:
    """Add the provenance columns an existing table lacks (a table made before ``_level``).

    Only when one is missing: ``ALTER TABLE`` would lock the table for the whole load.
    Returns the columns added.
    """
    present = table_columns(conn, target.schema, target.table, include_provenance=True) or {}
    missing = [(name, ddl) for name, ddl in PROVENANCE_COLUMNS if name not in present]
    if any(name not in ADDED_LATER for name, _ in missing):
        names = ", ".join(name for name, _ in missing)
        raise ConflictError(
            f"{target} lacks DataWarp's provenance columns {names}: it was not made by"
            " DataWarp; load into another table or drop it"
        )
    for name, ddl in missing:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                identifier(target), sql.Identifier(name), sql.SQL(ddl)
            )
        )
    return [name for name, _ in missing]


def create_indexes(conn: psycopg.Connection, target: TableRef) -> None:
    """The index for REPLACE (by period) and the gates (by load). A new table gets it after its
    first COPY: building an index once is cheaper than maintaining it row by row.

    BRIN, not B-tree: a load's rows are written together, so each load and period fills its
    own run of pages, and every statement on them (REPLACE's DELETE, the gates, a reload's
    count) takes a whole load or period, not a row. A BRIN index keeps each run's smallest
    and largest value: a few kilobytes, built in half a B-tree's time, adding next to nothing
    to an append (a B-tree made a million-row append 70% slower), and faster for those
    statements (a million-row period deleted in 1.4 s against 2.2 s). One index on both
    columns: a multicolumn BRIN index serves a condition on either column alone as well as
    one on each, and is built in one read of the table instead of two (0.45 s against 0.8 s
    for a million rows). The pages a load adds are summarised by autovacuum soon after
    (``autosummarize``); until then a query reads them too. Tables made before keep the
    B-trees they have."""
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS {} ON {} USING brin (_load_id, _period)"
            " WITH (autosummarize = on)"
        ).format(sql.Identifier(f"{target.table[:44]}_load_period_idx"), identifier(target))
    )


def delete_for_replace(conn: psycopg.Connection, target: TableRef, period: str | None) -> int:
    """REPLACE: the period's rows go (all rows when the file has no period)."""
    if period is None:
        return conn.execute(sql.SQL("DELETE FROM {}").format(identifier(target))).rowcount
    return conn.execute(
        sql.SQL("DELETE FROM {} WHERE _period = %s").format(identifier(target)), (period,)
    ).rowcount


def delete_loads(
    conn: psycopg.Connection, target: TableRef, load_ids: Sequence[int], period: str | None
) -> int:
    """A forced reload under APPEND: the rows earlier loads of the same file and period left."""
    if not load_ids:
        return 0
    return conn.execute(
        sql.SQL(
            "DELETE FROM {} WHERE _load_id = ANY(%s) AND _period IS NOT DISTINCT FROM %s"
        ).format(identifier(target)),
        (list(load_ids), period),
    ).rowcount


def count_replaced(
    conn: psycopg.Connection, target: TableRef, period: str | None, load_ids: Sequence[int] | None
) -> int:
    """For a dry run: the rows ``delete_loads`` (given load ids) or ``delete_for_replace`` (None)
    would delete; 0 when the table does not exist yet."""
    if not table_exists(conn, target.schema, target.table):
        return 0
    if load_ids is None:
        where = sql.SQL("_period = %s" if period is not None else "true")
        params: tuple = (period,) if period is not None else ()
    else:
        where = sql.SQL("_load_id = ANY(%s) AND _period IS NOT DISTINCT FROM %s")
        params = (list(load_ids), period)
    query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(identifier(target), where)
    return conn.execute(query, params).fetchone()[0]


def _json_safe(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def quarantine_json(obj: object) -> str:
    """Held-back values as JSON: decimals keep every digit, dates their ISO form."""
    return json.dumps(obj, default=_json_safe)


def copy_statement(
    target: TableRef,
    columns: Sequence[str],
    constants: dict[str, object],
    copy_format: str,
    *,
    new_table: bool,
    defaulted: frozenset[str] = frozenset(),
) -> sql.Composable:
    """``COPY target (columns, the per-row provenance but the ``defaulted``, the constants
    still sent) FROM STDIN (FORMAT …[, FREEZE])``. FREEZE writes the rows already frozen,
    so the table's first readers need not set every row's hint bits (rewriting every page),
    and VACUUM has nothing to freeze later. PostgreSQL allows it only into a table created (or truncated) in the
    current transaction, which nobody else can see until it commits: first loads only."""
    options = [sql.SQL("FORMAT {}").format(sql.SQL(copy_format))]
    if new_table:
        options.append(sql.SQL("FREEZE"))
    names = [*columns, *(name for name in PER_ROW if name not in defaulted), *constants]
    return sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
        identifier(target),
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(options),
    )


def copy_rows(
    conn: psycopg.Connection,
    target: TableRef,
    column_names: Sequence[str],
    batches: Iterable[list[tuple]],
    provenance: Provenance,
    *,
    held_back: dict[int, list[str]] | None = None,
    on_rows: Callable[[int], None] | None = None,
    new_table: bool = False,
    defaulted: frozenset[str] = frozenset(),
) -> int:
    """COPY every row; batches hold (data values..., row_number, is_total, level) tuples.

    Columns held back for review go to tbl_quarantine instead, one JSON object per row.
    ``new_table``: the table was created in the caller's transaction (``load_constants``).
    ``defaulted``: per-row provenance every row leaves at its default (``defaulted_columns``),
    left out of the COPY; a row that does not is an error, never a silently dropped flag.
    """
    held_back = held_back or {}
    held_names = {name for names in held_back.values() for name in names}
    keep = [i for i, name in enumerate(column_names) if name not in held_names]
    held_index = {cid: [column_names.index(n) for n in names] for cid, names in held_back.items()}
    total = 0
    with (
        load_constants(conn, target, provenance, new_table=new_table) as constants,
        conn.cursor() as cur,
    ):
        copy_main = copy_statement(
            target, [column_names[i] for i in keep], constants, "text", new_table=new_table,
            defaulted=defaulted,
        )  # fmt: skip
        shape = _row_shape(keep, len(column_names), tuple(constants.values()), defaulted)
        if not held_index:  # the usual load: one COPY, sent by a thread while rows are made
            with cur.copy(copy_main, writer=BoundedCopyWriter(cur)) as copy:
                for batch in batches:
                    _check_defaults(batch, defaulted)
                    for row in batch:
                        copy.write_row(shape(row))
                    total += len(batch)
                    if on_rows:
                        on_rows(len(batch))
            return total
        for batch in batches:  # quarantine rows go between two COPYs of the main table
            _check_defaults(batch, defaulted)
            with cur.copy(copy_main) as copy:
                for row in batch:
                    copy.write_row(shape(row))
            _quarantine(cur, batch, held_index, column_names, provenance.load_id)
            total += len(batch)
            if on_rows:
                on_rows(len(batch))
    return total


def sent_positions(width: int, defaulted: frozenset[str]) -> list[int]:
    """Where the per-row provenance the COPY sends sits in a pass-2 row or batch (``width``
    data columns, then ``PER_ROW``): every one but the ``defaulted``."""
    return [width + i for i, name in enumerate(PER_ROW) if name not in defaulted]


def _row_shape(
    keep: list[int], width: int, constant: tuple, defaulted: frozenset[str]
) -> Callable[[tuple], tuple]:
    """A pass-2 row (data..., row_number, is_total, level) as the COPY takes it: the kept data
    columns, the per-row provenance not defaulted, the provenance constants still sent. One
    C-level pick a row (``itemgetter``): this runs for every row of a workbook."""
    picks = [*keep, *sent_positions(width, defaulted)]
    if picks == list(range(width + len(PER_ROW))):  # nothing left out
        return (lambda row: row + constant) if constant else tuple
    if len(picks) == 1:  # every data column held back for review: _row_number alone
        only = picks[0]
        return lambda row: (row[only], *constant)
    pick = operator.itemgetter(*picks)  # two or more: a tuple
    return (lambda row: pick(row) + constant) if constant else pick


def _check_defaults(batch: list[tuple], defaulted: frozenset[str]) -> None:
    """Pass 1 said every row leaves these at their defaults; a row that does not would lose
    its flag, so the load stops instead."""
    for name in defaulted:  # false or NULL; a set flag is True, a level a non-empty name
        if any(map(operator.itemgetter(PER_ROW.index(name) - len(PER_ROW)), batch)):
            raise RuntimeError(f"a row's {name} differs from what the first pass found")


def defaulted_columns(
    conn: psycopg.Connection, target: TableRef, uniform: Iterable[str], *, new_table: bool
) -> frozenset[str]:
    """Of ``uniform`` (per-row provenance every row of this load leaves at its ``ROW_DEFAULTS``
    value), those the COPY may leave out: all on a table this load created; on an older
    table, those whose default there is still that value (a DBA may have changed it)."""
    wanted = [name for name in uniform if name in ROW_DEFAULTS]
    if new_table or not wanted:
        return frozenset(wanted)
    found = column_defaults(conn, target.schema, target.table, wanted)
    return frozenset(name for name, default in found.items() if default == ROW_DEFAULTS[name])


@contextmanager
def load_constants(
    conn: psycopg.Connection, target: TableRef, provenance: Provenance, *, new_table: bool
) -> Iterator[dict[str, object]]:
    """The per-load provenance values the COPY must write into every row: all four, unless
    the table was created in this transaction (``create_table`` with ``first_load``). Then the
    COPY sends none of them, and once it is done they are added as columns whose default is
    this load's value: PostgreSQL keeps such a value once, in the catalog, for the rows already
    there, instead of in every row (a million-row first load: a quarter less table, its COPY a
    quarter faster). The defaults are dropped again at once, so a later load must give its own
    values; the rows of this one keep theirs. Nobody else can see the table yet, so the
    ALTER's lock stops no one."""
    values = (provenance.load_id, provenance.period, provenance.source_file, provenance.sheet)
    constants = dict(zip(_CONSTANTS, values, strict=True))
    if not new_table:
        yield constants
        return
    yield {}
    _add_constants(conn, target, constants)


def _add_constants(conn: psycopg.Connection, target: TableRef, constants: dict) -> None:
    # A default is part of the DDL, where PostgreSQL takes no bound parameters: the values go
    # in as quoted literals (psycopg's sql.Literal). NULL needs no default: a column added
    # without one reads NULL for the rows already there.
    table = identifier(target)
    added = [
        sql.SQL("ADD COLUMN {} {}{}").format(
            sql.Identifier(name),
            sql.SQL(ddl),
            sql.SQL("")
            if constants.get(name) is None
            else sql.SQL(" DEFAULT {}").format(sql.Literal(constants[name])),
        )
        for name, ddl in _LATER_COLUMNS
    ]
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(table, sql.SQL(", ").join(added)))
    dropped = [
        sql.SQL("ALTER COLUMN {} DROP DEFAULT").format(sql.Identifier(name))
        for name, value in constants.items()
        if value is not None
    ]
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(table, sql.SQL(", ").join(dropped)))


def _quarantine(cur, batch, held_index, column_names, load_id) -> None:
    with cur.copy(
        "COPY datawarp.tbl_quarantine (change_id, load_id, row_number, values) FROM STDIN"
    ) as copy:
        for change_id, indexes in held_index.items():
            for row in batch:
                values = {column_names[i]: row[i] for i in indexes if row[i] is not None}
                if values:
                    copy.write_row((change_id, load_id, row[-3], Jsonb(values, quarantine_json)))


@dataclass(frozen=True)
class TableSummary:
    rows: int
    periods: list[str]
    data_columns: int


def table_summary(conn: psycopg.Connection, target: TableRef) -> TableSummary | None:
    """Rows, distinct periods and data columns of a loaded table; None when it does not exist."""
    columns = table_columns(conn, target.schema, target.table)
    if columns is None:
        return None
    rows, periods = conn.execute(
        sql.SQL("SELECT count(*), array_agg(DISTINCT _period) FROM {}").format(identifier(target))
    ).fetchone()
    return TableSummary(rows, sorted(p for p in periods or [] if p), len(columns))
