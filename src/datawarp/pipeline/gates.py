"""The four gates: row count, schema drift, data quality, metadata completeness.

Each check yields one ``CheckResult``. Quality checks read the loaded rows once: one aggregate
query over the new ``_load_id`` computes every column's non-NULL count and every date column's
range and outliers; duplicate keys need a GROUP BY of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from datawarp.core.gate_settings import GateSettings

ROW_COUNT, SCHEMA, QUALITY, METADATA = "row_count", "schema", "quality", "metadata"
DATE_TYPES = ("date", "timestamp")
EXAMPLE_KEYS = 5


@dataclass(frozen=True)
class ColumnStat:
    name: str
    pg_type: str
    fully_suppressed: bool = False
    suppressed_count: int = 0


@dataclass
class GateContext:
    """Everything the gates need to know about one load."""

    source_code: str
    schema: str
    table: str
    load_id: int
    period: str | None
    period_kind: str | None
    columns: list[ColumnStat]
    primary_key: list[str] = field(default_factory=list)
    settings: GateSettings = field(default_factory=GateSettings)

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)


@dataclass(frozen=True)
class CheckResult:
    validation_type: str
    check_name: str
    status: str  # pass / warn / fail
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def _tripped(settings: GateSettings, check: str) -> str:
    return settings.severity_of(check)


def run_gates(conn: psycopg.Connection, ctx: GateContext) -> list[CheckResult]:
    """All gates; the loaded rows are scanned once (plus a GROUP BY when a key is set)."""
    columns = _loaded_columns(conn, ctx)
    stats = _one_pass(conn, ctx, columns)
    return [
        *row_count_checks(conn, ctx, stats["rows"]),
        *schema_checks(conn, ctx),
        *quality_checks(conn, ctx, columns, stats),
        *metadata_checks(conn, ctx),
    ]


# --- row count --------------------------------------------------------------------------


def _previous_load(conn, ctx: GateContext) -> tuple[int, int, str | None] | None:
    """The last completed load of the same source and the same kind of period."""
    return conn.execute(
        "SELECT load_id, rows_loaded, period FROM datawarp.tbl_load_events"
        " WHERE source_code = %s AND target_schema = %s AND load_status = 'completed'"
        " AND period_kind IS NOT DISTINCT FROM %s AND load_id < %s"
        " ORDER BY load_id DESC LIMIT 1",
        (ctx.source_code, ctx.schema, ctx.period_kind, ctx.load_id),
    ).fetchone()


def _row_check(check: str, status: str, rows: int, note: str, **details) -> CheckResult:
    """Row-count messages share one shape, "1,234 (note)", so the report can merge them."""
    return CheckResult(
        ROW_COUNT, check, status, f"{rows:,} ({note})", {"rows": rows, "note": note, **details}
    )


def row_count_checks(conn, ctx: GateContext, rows: int) -> list[CheckResult]:
    s = ctx.settings
    if rows == 0:
        return [_row_check("zero_rows", _tripped(s, "zero_rows"), 0, "no rows loaded")]
    results = []
    if rows < s.min_rows:
        note = f"fewer than {s.min_rows} rows: extraction issue?"
        results.append(_row_check("too_few_rows", _tripped(s, "too_few_rows"), rows, note))
    if rows > s.max_rows:
        note = f"more than {s.max_rows:,} rows: performance concern"
        results.append(_row_check("too_many_rows", _tripped(s, "too_many_rows"), rows, note))
    results.append(_row_change(conn, ctx, rows))
    return results


def _row_change(conn, ctx: GateContext, rows: int) -> CheckResult:
    previous = _previous_load(conn, ctx)
    if previous is None:
        return _row_check("row_change", "pass", rows, "first load of this kind of period")
    load_id, before, period = previous
    change = (rows - before) / before * 100 if before else 100.0
    details = dict(previous_rows=before, previous_load_id=load_id, previous_period=period,
                   change_percent=round(change, 2))  # fmt: skip
    limit = ctx.settings.row_change_percent
    if abs(change) >= limit:
        note = f"{change:+.0f}% vs previous: {before:,}; limit ±{limit:g}%"
        return _row_check("row_change", _tripped(ctx.settings, "row_change"), rows, note, **details)
    if rows == before:
        return _row_check("row_change", "pass", rows, f"same as previous: {before:,}", **details)
    within = max(1, math.ceil(abs(change)))
    note = f"within {within}% of previous: {before:,}"
    return _row_check("row_change", "pass", rows, note, **details)


# --- schema drift -----------------------------------------------------------------------


def schema_checks(conn, ctx: GateContext) -> list[CheckResult]:
    changes = conn.execute(
        "SELECT kind, status, columns FROM datawarp.tbl_schema_changes WHERE load_id = %s"
        " ORDER BY change_id",
        (ctx.load_id,),
    ).fetchall()
    added = [c["name"] for kind, status, cols in changes if kind == "add" for c in cols]
    widened = [c for kind, _status, cols in changes if kind == "widen" for c in cols]
    held = [c["name"] for kind, status, cols in changes if kind == "add" and status == "pending"
            for c in cols]  # fmt: skip
    created = any(kind == "create" for kind, _s, _c in changes)
    total = len(ctx.columns)
    results = []
    if created:
        results.append(CheckResult(SCHEMA, "columns_added", "pass",
                                   f"{total} columns (new table)", {"columns": total}))  # fmt: skip
    elif added:
        status = "pass"
        if len(added) > ctx.settings.max_new_columns:
            status = _tripped(ctx.settings, "many_new_columns")
        note = f" ({len(held)} held for review)" if held else ""
        results.append(CheckResult(SCHEMA, "columns_added", status,
                                   f"{total} columns, {len(added)} new{note}: {', '.join(added)}",
                                   {"added": added, "held_for_review": held}))  # fmt: skip
    else:
        results.append(CheckResult(SCHEMA, "columns_added", "pass",
                                   f"{total} columns (no changes)", {"columns": total}))  # fmt: skip
    if widened:
        text = ", ".join(f"{c['name']} {c['old_type']}→{c['type']}" for c in widened)
        results.append(CheckResult(SCHEMA, "type_changes", _tripped(ctx.settings, "type_changes"),
                                   f"type changes: {text}", {"changes": widened}))  # fmt: skip
    return results


# --- data quality -----------------------------------------------------------------------


def _loaded_columns(conn, ctx: GateContext) -> list[ColumnStat]:
    """This file's columns that exist in the table (held-back columns are not there yet)."""
    present = {
        name
        for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped",
            (ctx.identifier.as_string(None),),
        ).fetchall()
    }
    return [c for c in ctx.columns if c.name in present]


def quality_checks(
    conn, ctx: GateContext, columns: list[ColumnStat], stats: dict[str, Any]
) -> list[CheckResult]:
    results = [_null_columns(ctx, columns, stats), _duplicates(conn, ctx)]
    dates = _date_range(ctx, columns, stats)
    if dates is not None:
        results.append(dates)
    return results


def _one_pass(conn, ctx: GateContext, columns: list[ColumnStat]) -> dict[str, Any]:
    today = date.today()
    future_after = today + timedelta(days=ctx.settings.future_dates_allowed_days)
    past_before = today.replace(year=today.year - ctx.settings.past_years)
    parts = [sql.SQL("count(*)")]
    for column in columns:
        ident = sql.Identifier(column.name)
        parts.append(sql.SQL("count({})").format(ident))
        if column.pg_type in DATE_TYPES:
            parts += [
                sql.SQL("min({})::text").format(ident),
                sql.SQL("max({})::text").format(ident),
                sql.SQL("count(*) FILTER (WHERE {} > {})").format(ident, sql.Literal(future_after)),
                sql.SQL("count(*) FILTER (WHERE {} < {})").format(ident, sql.Literal(past_before)),
            ]
    query = sql.SQL("SELECT {} FROM {} WHERE _load_id = %s").format(
        sql.SQL(", ").join(parts), ctx.identifier
    )
    values = iter(conn.execute(query, (ctx.load_id,)).fetchone())
    stats: dict[str, Any] = {"rows": next(values), "non_null": {}, "dates": {}}
    for column in columns:
        stats["non_null"][column.name] = next(values)
        if column.pg_type in DATE_TYPES:
            stats["dates"][column.name] = {
                "min": next(values), "max": next(values), "future": next(values),
                "too_old": next(values),
            }  # fmt: skip
    stats["future_after"], stats["past_before"] = future_after.isoformat(), past_before.isoformat()
    return stats


def _null_columns(ctx: GateContext, columns: list[ColumnStat], stats) -> CheckResult:
    empty = [c for c in columns if stats["rows"] and stats["non_null"][c.name] == 0]
    suppressed = [c.name for c in empty if c.fully_suppressed]
    all_null = [c.name for c in empty if not c.fully_suppressed]
    details = {"all_null": all_null, "fully_suppressed": suppressed}
    if all_null:
        return CheckResult(QUALITY, "all_null_columns", _tripped(ctx.settings, "all_null_columns"),
                           f"all-NULL column(s): {', '.join(all_null)}", details)  # fmt: skip
    if suppressed:
        return CheckResult(
            QUALITY, "fully_suppressed_columns",
            _tripped(ctx.settings, "fully_suppressed_columns"),
            f"fully suppressed column(s) (every cell a suppression marker): {', '.join(suppressed)}",
            details,
        )  # fmt: skip
    return CheckResult(QUALITY, "all_null_columns", "pass", "No NULL columns", details)


def _duplicates(conn, ctx: GateContext) -> CheckResult:
    key = ctx.primary_key
    if not key:
        return CheckResult(QUALITY, "duplicate_keys", "pass", "0 duplicates (no primary key set)",
                           {"primary_key": []})  # fmt: skip
    missing = [name for name in key if name not in {c.name for c in ctx.columns}]
    if missing:
        return CheckResult(QUALITY, "duplicate_keys", "warn",
                           f"primary key column(s) not in the file: {', '.join(missing)}",
                           {"primary_key": key, "missing": missing})  # fmt: skip
    columns = sql.SQL(", ").join(map(sql.Identifier, key))
    query = sql.SQL(
        "SELECT count(*), coalesce(sum(n), 0), (SELECT json_agg(k) FROM (SELECT k FROM dup"
        " ORDER BY n DESC, k LIMIT {limit}) examples)"
        " FROM dup"
    ).format(limit=sql.Literal(EXAMPLE_KEYS))
    with_dup = sql.SQL(
        "WITH dup AS (SELECT json_build_array({cols})::text AS k, count(*) AS n FROM {table}"
        " WHERE _period IS NOT DISTINCT FROM %s AND NOT _is_total GROUP BY {cols}"
        " HAVING count(*) > 1) "
    ).format(cols=columns, table=ctx.identifier)
    groups, rows, examples = conn.execute(with_dup + query, (ctx.period,)).fetchone()
    details = {"primary_key": key, "duplicate_keys": groups, "rows_involved": int(rows),
               "examples": examples or []}  # fmt: skip
    if groups:
        shown = "; ".join(str(e) for e in examples)
        return CheckResult(QUALITY, "duplicate_keys", _tripped(ctx.settings, "duplicate_keys"),
                           f"{groups} duplicate key(s) on ({', '.join(key)}), e.g. {shown}",
                           details)  # fmt: skip
    return CheckResult(QUALITY, "duplicate_keys", "pass", "0 duplicates", details)


def _date_range(ctx: GateContext, columns, stats) -> CheckResult | None:
    dates = stats["dates"]
    if not dates:
        return None
    details = {"columns": dates, "future_after": stats["future_after"],
               "past_before": stats["past_before"]}  # fmt: skip
    odd = {name: d for name, d in dates.items() if d["future"] or d["too_old"]}
    if not odd:
        return CheckResult(QUALITY, "date_range", "pass", "dates within range", details)
    text = "; ".join(
        f"{name}: {d['future']} in the future, {d['too_old']} over {ctx.settings.past_years}"
        f" years old (min {d['min']}, max {d['max']})"
        for name, d in odd.items()
    )
    return CheckResult(QUALITY, "date_range", _tripped(ctx.settings, "date_range"), text, details)


# --- metadata ---------------------------------------------------------------------------


def metadata_checks(conn, ctx: GateContext) -> list[CheckResult]:
    names = [c.name for c in ctx.columns]
    described, has_terms = conn.execute(
        "SELECT count(*) FILTER (WHERE description IS NOT NULL AND column_name = ANY(%s)),"
        " bool_or(cardinality(search_terms) > 0)"
        " FROM datawarp.tbl_column_metadata WHERE source_code = %s",
        (names, ctx.source_code),
    ).fetchone()
    total = len(names)
    percent = described / total * 100 if total else 100.0
    details = {"described": described, "columns": total, "percent": round(percent, 1)}
    status = "pass"
    if percent < ctx.settings.min_description_percent:
        status = _tripped(ctx.settings, "descriptions")
    results = [
        CheckResult(METADATA, "descriptions", status,
                    f"{described}/{total} columns have descriptions ({percent:.0f}%)", details)
    ]  # fmt: skip
    if not has_terms:
        results.append(CheckResult(METADATA, "search_terms", _tripped(ctx.settings, "search_terms"),
                                   "no search terms for this source", {}))  # fmt: skip
    return results
