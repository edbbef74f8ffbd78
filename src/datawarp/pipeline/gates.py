"""The four gates: row count, schema drift, data quality, metadata completeness.

``run_gates`` reads what it needs through ``catalog.gate_queries`` (``read_facts``), then
``evaluate`` applies the policy: pure functions from those numbers and the load's
``GateSettings`` to one ``CheckResult`` per check. Messages and details are stored and shown
in reports, so their wording is part of the interface. The checks that would otherwise warn
on every load of a healthy source judge against the source's own history: dates against the
period loaded and their column's span (``gate_dates``), growth of cumulative time series
(``gate_growth``), metadata coverage against what the previous load was told
(``gate_metadata``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datawarp.catalog import gate_queries as queries
from datawarp.catalog.gate_queries import (
    DuplicateKeys,
    DuplicateRows,
    LoadedStats,
    MetadataCoverage,
    PreviousLoad,
    PreviousMetadata,
    RecordedChange,
)
from datawarp.catalog.introspect import table_columns
from datawarp.core.checks import (
    DATE_TYPES,
    METADATA,
    QUALITY,
    ROW_COUNT,
    SCHEMA,
    CheckResult,
    ColumnStat,
    GateContext,
)
from datawarp.core.gate_settings import GateSettings
from datawarp.core.vocabulary import CheckStatus, SchemaChangeKind, SchemaChangeStatus
from datawarp.pipeline.gate_dates import DateBounds, date_bounds, date_range_check
from datawarp.pipeline.gate_growth import Growth, cumulative_change, cumulative_growth
from datawarp.pipeline.gate_metadata import metadata_checks

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = [
    "DATE_TYPES", "EXAMPLE_KEYS", "METADATA", "QUALITY", "ROW_COUNT", "SCHEMA", "CheckResult",
    "ColumnStat", "DateBounds", "GateContext", "GateFacts", "Growth", "date_bounds",
    "date_range_check", "duplicate_rows_check", "evaluate", "metadata_checks", "read_facts",
    "run_gates",
]  # fmt: skip

EXAMPLE_KEYS = 5
PASS = CheckStatus.PASS


@dataclass(frozen=True)
class GateFacts:
    """What the catalog says about one load; everything ``evaluate`` needs besides the context."""

    columns: list[ColumnStat]  # the file's columns that are in the table (held-back ones aren't)
    stats: LoadedStats
    previous: PreviousLoad | None
    changes: list[RecordedChange]
    duplicates: DuplicateKeys | None  # None when no key is set or a key column is missing
    duplicate_rows: DuplicateRows | None  # None when the load is too large to check
    coverage: MetadataCoverage
    # each date column's (min, max) as the previous load's gates recorded them
    previous_dates: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    previous_metadata: PreviousMetadata | None = None  # None: no earlier load was told


def run_gates(conn: Connection, ctx: GateContext) -> list[CheckResult]:
    """All gates: the loaded rows are scanned once, the period's rows grouped by their hash
    (plus a GROUP BY of the key when one is set)."""
    return evaluate(ctx, read_facts(conn, ctx))


STORED_DATE_TYPES = {"date", "timestamp without time zone", "timestamp with time zone"}


def read_facts(conn: Connection, ctx: GateContext) -> GateFacts:
    present = table_columns(conn, ctx.schema, ctx.table) or {}
    columns = [c for c in ctx.columns if c.name in present]
    bounds = date_bounds(ctx.today, ctx.settings, ctx.period, ctx.period_kind)
    # The table's types, not the file's: a column an earlier edition made text stays text when
    # this edition's values read as dates, and comparing it with a date would fail.
    stored_dates = {c.name for c in columns if present[c.name] in STORED_DATE_TYPES}
    stats = queries.loaded_stats(
        conn, ctx.schema, ctx.table, ctx.load_id, [c.name for c in columns], stored_dates,
        late_after=bounds.future_after, anchor=bounds.anchor,
    )  # fmt: skip
    duplicates = None
    if ctx.primary_key and not missing_key_columns(ctx.primary_key, _names(ctx.columns)):
        duplicates = queries.duplicate_keys(
            conn, ctx.schema, ctx.table, ctx.period, ctx.primary_key, examples=EXAMPLE_KEYS
        )
    previous = queries.previous_load(
        conn, ctx.source_code, ctx.schema, ctx.period_kind, ctx.load_id
    )
    duplicate_rows = None
    if stats.rows <= ctx.settings.duplicate_rows_max_rows:
        duplicate_rows = queries.duplicate_rows(
            conn, ctx.schema, ctx.table, ctx.load_id, ctx.period, list(present),
            examples=EXAMPLE_KEYS,
        )  # fmt: skip
    return GateFacts(
        columns=columns,
        stats=stats,
        previous=previous,
        changes=queries.changes_for_load(conn, ctx.load_id),
        duplicates=duplicates,
        duplicate_rows=duplicate_rows,
        coverage=queries.metadata_coverage(conn, ctx.source_code, _names(ctx.columns)),
        previous_dates=queries.stored_date_ranges(conn, previous.load_id) if previous else {},
        previous_metadata=queries.previous_metadata(conn, ctx.source_code, ctx.schema, ctx.load_id),
    )


def evaluate(ctx: GateContext, facts: GateFacts) -> list[CheckResult]:
    """The policy alone: no database, so every threshold can be tested with made-up numbers."""
    settings, total = ctx.settings, len(ctx.columns)
    keys = duplicates_check(ctx.primary_key, _names(ctx.columns), facts.duplicates, settings)
    quality = [
        null_columns_check(facts.columns, facts.stats, settings),
        *([keys] if keys else []),
        duplicate_rows_check(facts.duplicate_rows, ctx.period, settings, facts.stats.rows),
    ]
    bounds = date_bounds(ctx.today, settings, ctx.period, ctx.period_kind)
    dates = date_range_check(facts.stats, bounds, settings)
    if dates is not None:
        quality.append(dates)
    growth = cumulative_growth(ctx.cumulative, facts.stats.dates, facts.previous_dates)
    return [
        *row_count_checks(facts.stats.rows, facts.previous, settings, growth),
        *schema_checks(facts.changes, total, settings),
        *quality,
        *metadata_checks(facts.coverage, total, settings, facts.previous_metadata),
    ]


def _names(columns: Sequence[ColumnStat]) -> list[str]:
    return [c.name for c in columns]


def _tripped(settings: GateSettings, check: str) -> CheckStatus:
    return CheckStatus(settings.severity_of(check))


# --- row count --------------------------------------------------------------------------


def _row_check(check: str, status: str, rows: int, note: str, **details) -> CheckResult:
    """Row-count messages share one shape, "1,234 (note)", so the report can merge them."""
    return CheckResult(
        ROW_COUNT, check, status, f"{rows:,} ({note})", {"rows": rows, "note": note, **details}
    )


def row_count_checks(
    rows: int, previous: PreviousLoad | None, settings: GateSettings, growth: Growth | None = None
) -> list[CheckResult]:
    if rows == 0:
        return [_row_check("zero_rows", _tripped(settings, "zero_rows"), 0, "no rows loaded")]
    results = []
    if rows < settings.min_rows:
        note = f"fewer than {settings.min_rows} rows: extraction issue?"
        results.append(_row_check("too_few_rows", _tripped(settings, "too_few_rows"), rows, note))
    if rows > settings.max_rows:
        note = f"more than {settings.max_rows:,} rows: performance concern"
        results.append(_row_check("too_many_rows", _tripped(settings, "too_many_rows"), rows, note))
    results.append(row_change_check(rows, previous, settings, growth))
    return results


def row_change_check(
    rows: int, previous: PreviousLoad | None, settings: GateSettings, growth: Growth | None = None
) -> CheckResult:
    """``growth``: why more rows may be expected (a cumulative time series), or None."""
    if previous is None:
        return _row_check("row_change", PASS, rows, "first load of this kind of period")
    before = previous.rows
    change = (rows - before) / before * 100 if before else 100.0
    details = dict(previous_rows=before, previous_load_id=previous.load_id,
                   previous_period=previous.period, change_percent=round(change, 2))  # fmt: skip
    cumulative = cumulative_change(rows, before, growth, settings)
    if cumulative is not None:
        status, note, expected = cumulative
        return _row_check("row_change", status, rows, note, **details, cumulative=expected)
    limit = settings.row_change_percent
    if abs(change) >= limit:
        note = f"{change:+.0f}% vs previous: {before:,}; limit ±{limit:g}%"
        return _row_check("row_change", _tripped(settings, "row_change"), rows, note, **details)
    if rows == before:
        return _row_check("row_change", PASS, rows, f"same as previous: {before:,}", **details)
    within = max(1, math.ceil(abs(change)))
    note = f"within {within}% of previous: {before:,}"
    return _row_check("row_change", PASS, rows, note, **details)


# --- schema drift -----------------------------------------------------------------------


def schema_checks(
    changes: Sequence[RecordedChange], total: int, settings: GateSettings
) -> list[CheckResult]:
    """``total`` is the file's column count, held-back columns included."""
    adds = [c for c in changes if c.kind == SchemaChangeKind.ADD]
    added = [column["name"] for change in adds for column in change.columns]
    held = [column["name"] for change in adds if change.status == SchemaChangeStatus.PENDING
            for column in change.columns]  # fmt: skip
    widened = [col for c in changes if c.kind == SchemaChangeKind.WIDEN for col in c.columns]
    if any(c.kind == SchemaChangeKind.CREATE for c in changes):
        results = [CheckResult(SCHEMA, "columns_added", PASS, f"{total} columns (new table)",
                               {"columns": total})]  # fmt: skip
    elif added:
        status = PASS
        if len(added) > settings.max_new_columns:
            status = _tripped(settings, "many_new_columns")
        note = f" ({len(held)} held for review)" if held else ""
        results = [CheckResult(SCHEMA, "columns_added", status,
                               f"{total} columns, {len(added)} new{note}: {', '.join(added)}",
                               {"added": added, "held_for_review": held})]  # fmt: skip
    else:
        results = [CheckResult(SCHEMA, "columns_added", PASS, f"{total} columns (no changes)",
                               {"columns": total})]  # fmt: skip
    if widened:
        text = ", ".join(f"{c['name']} {c['old_type']}→{c['type']}" for c in widened)
        results.append(CheckResult(SCHEMA, "type_changes", _tripped(settings, "type_changes"),
                                   f"type changes: {text}", {"changes": widened}))  # fmt: skip
    return results


# --- data quality -----------------------------------------------------------------------


def null_columns_check(
    columns: Sequence[ColumnStat], stats: LoadedStats, settings: GateSettings
) -> CheckResult:
    """An all-NULL column is suspicious; one whose every cell was a suppression marker (``*``)
    is the publisher hiding small numbers, so it gets a check of its own."""
    empty = [c for c in columns if stats.rows and stats.non_null[c.name] == 0]
    suppressed = [c.name for c in empty if c.fully_suppressed]
    all_null = [c.name for c in empty if not c.fully_suppressed]
    details = {"all_null": all_null, "fully_suppressed": suppressed}
    if all_null:
        return CheckResult(QUALITY, "all_null_columns", _tripped(settings, "all_null_columns"),
                           f"all-NULL column(s): {', '.join(all_null)}", details)  # fmt: skip
    if suppressed:
        return CheckResult(
            QUALITY, "fully_suppressed_columns", _tripped(settings, "fully_suppressed_columns"),
            f"fully suppressed column(s) (every cell a suppression marker): {', '.join(suppressed)}",
            details,
        )  # fmt: skip
    return CheckResult(QUALITY, "all_null_columns", PASS, "No NULL columns", details)


def missing_key_columns(key: Sequence[str], file_columns: Collection[str]) -> list[str]:
    return [name for name in key if name not in file_columns]


def duplicates_check(
    key: Sequence[str],
    file_columns: Collection[str],
    found: DuplicateKeys | None,
    settings: GateSettings,
) -> CheckResult | None:
    """``found`` is the duplicate-key query's answer; it is needed only when every key column
    is in the file. None without a primary key: nothing was checked, and saying "0
    duplicates" would claim otherwise (``duplicate_rows`` runs either way)."""
    key = list(key)
    if not key:
        return None
    missing = missing_key_columns(key, file_columns)
    if missing:
        return CheckResult(QUALITY, "duplicate_keys", CheckStatus.WARN,
                           f"primary key column(s) not in the file: {', '.join(missing)}",
                           {"primary_key": key, "missing": missing})  # fmt: skip
    if found is None:
        raise ValueError("duplicates_check needs the duplicate-key query's result")
    details = {"primary_key": key, "duplicate_keys": found.groups, "rows_involved": found.rows,
               "examples": list(found.examples)}  # fmt: skip
    if found.groups:
        shown = "; ".join(str(e) for e in found.examples)
        return CheckResult(QUALITY, "duplicate_keys", _tripped(settings, "duplicate_keys"),
                           f"{found.groups} duplicate key(s) on ({', '.join(key)}), e.g. {shown}",
                           details)  # fmt: skip
    return CheckResult(QUALITY, "duplicate_keys", PASS, "0 duplicate keys", details)


def _rows_text(example: dict[str, int]) -> str:
    first, last, copies = example["first_row"], example["last_row"], example["copies"]
    if copies == 2:
        return f"rows {first} and {last}"
    return f"{copies} rows alike, rows {first} to {last}"


def duplicate_rows_check(
    found: DuplicateRows | None, period: str | None, settings: GateSettings, rows: int = 0
) -> CheckResult:
    """Rows identical in every data column: repeated within the file, or already in the table
    for the period from another load (the same data loaded twice). Exact repeats are almost
    always a publishing or loading error, but a file may hold them legitimately, so the
    default severity is ``warn``. ``found`` is None for a load of more than
    ``duplicate_rows_max_rows`` rows: the check says it did not run."""
    if found is None:
        limit = settings.duplicate_rows_max_rows
        return CheckResult(QUALITY, "duplicate_rows", CheckStatus.WARN,
                           f"duplicate rows not checked: {rows:,} rows is over"
                           f" duplicate_rows_max_rows ({limit:,})",
                           {"rows": rows, "duplicate_rows_max_rows": limit})  # fmt: skip
    total = found.within_file + found.of_other_loads
    details = {"duplicate_rows": total, "within_file": found.within_file,
               "of_other_loads": found.of_other_loads, "other_loads": found.other_loads,
               "examples": found.examples}  # fmt: skip
    if not total:
        return CheckResult(QUALITY, "duplicate_rows", PASS, "0 duplicate rows", details)
    parts = []
    if found.within_file:
        shown = "; ".join(_rows_text(rows) for rows in found.examples[:3])
        parts.append(f"{found.within_file:,} repeat a row of the file ({shown})")
    if found.of_other_loads:
        loads = ", ".join(str(n) for n in found.other_loads[:EXAMPLE_KEYS])
        more = ", ..." if len(found.other_loads) > EXAMPLE_KEYS else ""
        where = f"for {period}" if period else "with no period"
        parts.append(f"{found.of_other_loads:,} are already in the table {where}"
                     f" (load {loads}{more})")  # fmt: skip
    return CheckResult(QUALITY, "duplicate_rows", _tripped(settings, "duplicate_rows"),
                       f"{total:,} duplicate row(s): {'; '.join(parts)}", details)  # fmt: skip
