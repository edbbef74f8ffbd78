"""Every query the validation gates run; each returns plain numbers for ``pipeline.gates`` to judge.

The loaded rows are read once: one aggregate over the new ``_load_id`` gives the row count,
every column's non-NULL count and every date column's range, late dates and the years it
holds, so a 10-million-row load costs one sequential scan (bench/bench_gates.py). Duplicate
keys need a GROUP BY of their own, run only when the manifest sets a primary key; duplicate
rows (every data column alike) a GROUP BY of the period's row hashes, run always. The rest
read small catalog tables by index: the previous load, its stored date ranges, the previous
metadata check.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, TypedDict

import psycopg
from psycopg import sql

from datawarp.core.vocabulary import LoadStatus

# A date's age is counted in whole years of 365.25 days before the anchor (the end of the
# period loaded, or today), 0 to 62; older dates count as 62, later ones as 0. 22,646 days are
# 62 such years: clamping the days first keeps the arithmetic in integers.
AGE_CAP_DAYS = 22_646
DAYS_PER_4_YEARS = 1461


class DateStats(TypedDict):
    """One date column of a load: its range, the dates after ``late_after`` and, as a bit set,
    the ages its dates have (bit k: a date k years before the anchor)."""

    min: str | None
    max: str | None
    future: int
    years: int


@dataclass(frozen=True)
class LoadedStats:
    rows: int
    non_null: dict[str, int]
    dates: dict[str, DateStats]


class DuplicateKeys(NamedTuple):
    groups: int  # distinct key values seen more than once
    rows: int  # rows carrying one of those values
    examples: list[str]  # JSON arrays of key values, most repeated first


class DuplicateRows(NamedTuple):
    within_file: int  # rows of this load repeating an earlier row of the same load
    of_other_loads: int  # rows of this load identical to a row another load keeps for the period
    other_loads: list[int]  # those loads
    examples: list[dict[str, int]]  # {first_row, last_row, copies} of rows alike in the file


class RecordedChange(NamedTuple):
    kind: str  # SchemaChangeKind
    status: str  # SchemaChangeStatus
    columns: list[dict[str, Any]]


class MetadataCoverage(NamedTuple):
    described: int
    has_search_terms: bool


class PreviousLoad(NamedTuple):
    load_id: int
    rows: int
    period: str | None


class PreviousMetadata(NamedTuple):
    """The metadata checks of the source's latest earlier load that recorded them."""

    load_id: int
    described: int
    columns: int
    had_search_terms: bool


class LoadToValidate(NamedTuple):
    load_id: int
    schema: str
    table: str
    period: str | None
    period_kind: str | None
    column_stats: dict[str, Any] | None


def loaded_stats(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    load_id: int,
    columns: Sequence[str],
    date_columns: Collection[str],
    *,
    late_after: date,
    anchor: date,
) -> LoadedStats:
    """Row count, non-NULL counts and date ranges of one load's rows, in a single scan.

    ``future`` counts dates after ``late_after``; ``years`` ORs one bit per date, for its
    age in whole years before ``anchor`` (see ``AGE_CAP_DAYS``).
    """
    parts = [sql.SQL("count(*)")]
    for name in columns:
        ident = sql.Identifier(name)
        parts.append(sql.SQL("count({})").format(ident))
        if name in date_columns:
            parts += [
                sql.SQL("min({})::text").format(ident),
                sql.SQL("max({})::text").format(ident),
                sql.SQL("count(*) FILTER (WHERE {} > %(late_after)s)").format(ident),
                sql.SQL(
                    "coalesce(bit_or(1::bigint << (least({cap}, greatest(0, %(anchor)s::date"
                    " - {col}::date)) * 4 / {days})), 0)"
                ).format(
                    col=ident, cap=sql.Literal(AGE_CAP_DAYS), days=sql.Literal(DAYS_PER_4_YEARS)
                ),
            ]
    query = sql.SQL("SELECT {} FROM {} WHERE _load_id = %(load_id)s").format(
        sql.SQL(", ").join(parts), sql.Identifier(schema, table)
    )
    params = {"load_id": load_id, "late_after": late_after, "anchor": anchor}
    values = iter(conn.execute(query, params).fetchone())
    rows = next(values)
    non_null: dict[str, int] = {}
    dates: dict[str, DateStats] = {}
    for name in columns:
        non_null[name] = next(values)
        if name in date_columns:
            dates[name] = DateStats(
                min=next(values), max=next(values), future=next(values), years=next(values)
            )
    return LoadedStats(rows, non_null, dates)


def duplicate_keys(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    period: str | None,
    key: Sequence[str],
    *,
    examples: int = 5,
) -> DuplicateKeys:
    """Key values repeated within the period (whatever load brought them), totals rows aside."""
    columns = sql.SQL(", ").join(map(sql.Identifier, key))
    query = sql.SQL(
        "WITH dup AS (SELECT json_build_array({cols})::text AS k, count(*) AS n FROM {table}"
        " WHERE _period IS NOT DISTINCT FROM %(period)s AND NOT _is_total GROUP BY {cols}"
        " HAVING count(*) > 1)"
        " SELECT count(*), coalesce(sum(n), 0), (SELECT json_agg(k) FROM (SELECT k FROM dup"
        " ORDER BY n DESC, k LIMIT %(examples)s) examples)"
        " FROM dup"
    ).format(cols=columns, table=sql.Identifier(schema, table))
    groups, rows, found = conn.execute(query, {"period": period, "examples": examples}).fetchone()
    return DuplicateKeys(groups, int(rows), found or [])


def duplicate_rows(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    load_id: int,
    period: str | None,
    columns: Sequence[str],
    *,
    examples: int = 5,
) -> DuplicateRows:
    """Rows of one load whose data columns (provenance aside) repeat a row of the same period:
    another row of the load, or a row another load brought.

    One pass over the period's rows, grouped by a 64-bit hash of each row's values
    (``hash_record_extended``: the columns' own hash functions, no text conversion; about a
    second per million rows, a third of an md5 of the row's text). Two different rows share a
    hash about once in 10^13 pairs; a gate that warns and names the rows can bear that. Other
    loads are named by the first and last in each group, which is every one for up to two.
    """
    mine = sql.SQL("_load_id = %(load_id)s")
    query = sql.SQL(
        "WITH dup AS (SELECT count(*) FILTER (WHERE {mine}) AS in_load,"
        "   count(*) FILTER (WHERE NOT {mine}) AS elsewhere,"
        "   min(_row_number) FILTER (WHERE {mine}) AS first_row,"
        "   max(_row_number) FILTER (WHERE {mine}) AS last_row,"
        "   min(_load_id) FILTER (WHERE NOT {mine}) AS first_other,"
        "   max(_load_id) FILTER (WHERE NOT {mine}) AS last_other"
        "  FROM {table} WHERE _period IS NOT DISTINCT FROM %(period)s"
        "  GROUP BY hash_record_extended(row({cols}), 0)"
        "  HAVING count(*) FILTER (WHERE {mine}) > 0 AND count(*) > 1)"
        " SELECT (SELECT coalesce(sum(in_load - 1), 0) FROM dup WHERE elsewhere = 0),"
        "  (SELECT coalesce(sum(in_load), 0) FROM dup WHERE elsewhere > 0),"
        "  (SELECT coalesce(array_agg(DISTINCT o ORDER BY o), '{{}}') FROM dup,"
        "     LATERAL (VALUES (first_other), (last_other)) v(o) WHERE o IS NOT NULL),"
        "  (SELECT coalesce(json_agg(json_build_object('first_row', first_row, 'last_row',"
        "     last_row, 'copies', in_load) ORDER BY first_row), '[]') FROM (SELECT * FROM dup"
        "     WHERE elsewhere = 0 ORDER BY first_row LIMIT %(examples)s) e)"
    ).format(
        mine=mine,
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        table=sql.Identifier(schema, table),
    )
    params = {"load_id": load_id, "period": period, "examples": examples}
    within, others, loads, found = conn.execute(query, params).fetchone()
    return DuplicateRows(int(within), int(others), list(loads), found)


def changes_for_load(conn: psycopg.Connection, load_id: int) -> list[RecordedChange]:
    """Schema changes this load made or asked for, in the order they were recorded."""
    rows = conn.execute(
        "SELECT kind, status, columns FROM datawarp.tbl_schema_changes WHERE load_id = %s"
        " ORDER BY change_id",
        (load_id,),
    ).fetchall()
    return [RecordedChange(*row) for row in rows]


def metadata_coverage(
    conn: psycopg.Connection, source_code: str, column_names: Sequence[str]
) -> MetadataCoverage:
    """How many of these columns have a description, and whether the source has search terms."""
    described, has_terms = conn.execute(
        "SELECT count(*) FILTER (WHERE description IS NOT NULL AND column_name = ANY(%s)),"
        " bool_or(cardinality(search_terms) > 0)"
        " FROM datawarp.tbl_column_metadata WHERE source_code = %s",
        (list(column_names), source_code),
    ).fetchone()
    return MetadataCoverage(described, bool(has_terms))


def previous_load(
    conn: psycopg.Connection,
    source_code: str,
    schema: str,
    period_kind: str | None,
    before_load_id: int,
) -> PreviousLoad | None:
    """The last completed load of the same source and the same kind of period: a yearly file
    between two monthly ones must not make the second monthly look like a jump."""
    row = conn.execute(
        "SELECT load_id, rows_loaded, period FROM datawarp.tbl_load_events"
        " WHERE source_code = %s AND target_schema = %s AND load_status = %s"
        " AND period_kind IS NOT DISTINCT FROM %s AND load_id < %s"
        " ORDER BY load_id DESC LIMIT 1",
        (source_code, schema, LoadStatus.COMPLETED, period_kind, before_load_id),
    ).fetchone()
    return None if row is None else PreviousLoad(*row)


def stored_date_ranges(
    conn: psycopg.Connection, load_id: int
) -> dict[str, tuple[str | None, str | None]]:
    """Each date column's (min, max) as the latest gate run of a load recorded them; empty
    when its gates never ran (or it had no date column)."""
    row = conn.execute(
        "SELECT details -> 'columns' FROM datawarp.tbl_validation_results"
        " WHERE load_id = %s AND check_name = 'date_range' ORDER BY run_id DESC LIMIT 1",
        (load_id,),
    ).fetchone()
    columns = row[0] if row and isinstance(row[0], dict) else {}
    return {
        name: (stats.get("min"), stats.get("max"))
        for name, stats in columns.items()
        if isinstance(stats, dict)
    }


def previous_metadata(
    conn: psycopg.Connection, source_code: str, schema: str, before_load_id: int
) -> PreviousMetadata | None:
    """The description coverage and search terms the latest completed earlier load of the
    source (same schema) was told about: its latest metadata checks."""
    row = conn.execute(
        "SELECT v.load_id, v.details, EXISTS (SELECT 1 FROM datawarp.tbl_validation_results s"
        "   WHERE s.load_id = v.load_id AND s.run_id = v.run_id"
        "   AND s.check_name = 'search_terms')"
        " FROM datawarp.tbl_validation_results v"
        " JOIN datawarp.tbl_load_events e ON e.load_id = v.load_id"
        " WHERE v.source_code = %s AND v.check_name = 'descriptions' AND v.load_id < %s"
        " AND e.target_schema = %s AND e.load_status = %s"
        " ORDER BY v.validated_at DESC, v.validation_id DESC LIMIT 1",
        (source_code, before_load_id, schema, LoadStatus.COMPLETED),
    ).fetchone()
    if row is None:
        return None
    load, details, missing_terms = row
    try:
        return PreviousMetadata(load, int(details["described"]), int(details["columns"]),
                                not missing_terms)  # fmt: skip
    except (KeyError, TypeError, ValueError):  # a result recorded in another shape
        return None


def completed_load(
    conn: psycopg.Connection, source_code: str, load_id: int | None = None
) -> LoadToValidate | None:
    """A completed load to validate again: the given one, or the source's latest."""
    row = conn.execute(
        "SELECT load_id, target_schema, target_table, period, period_kind, column_stats"
        " FROM datawarp.tbl_load_events WHERE source_code = %s AND load_status = %s"
        " AND (%s::bigint IS NULL OR load_id = %s) ORDER BY load_id DESC LIMIT 1",
        (source_code, LoadStatus.COMPLETED, load_id, load_id),
    ).fetchone()
    return None if row is None else LoadToValidate(*row)
