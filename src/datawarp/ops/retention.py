"""Retention: data past a source's ``retention_days`` moves to verified Parquet.

Per source, each period that ended more than ``retention_days`` ago (``datawarp.period_end`` of
the kind its loads recorded), and the rows without a period loaded that long ago, go to one
verified file each (kind ``retention``, ``<archive_path>/<code>/retention/``) and are deleted,
in one transaction per source that holds the source's load lock and a SHARE lock on its table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from datawarp.catalog import archives, registry
from datawarp.catalog.archives import RowFilter
from datawarp.catalog.introspect import table_exists
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.naming import TableRef
from datawarp.core.vocabulary import ArchiveKind, SourceStatus
from datawarp.ops import parquet_export as px
from datawarp.ops.archive_store import ArchiveFailed, ArchiveStore, removed_on_failure
from datawarp.ops.lifecycle import source_metadata

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.settings import Settings

Row = dict[str, Any]


@dataclass
class RetentionReport:
    source_code: str
    cutoff: date
    periods: list[Row] = field(default_factory=list)
    moved: bool = False
    note: str | None = None


@dataclass(frozen=True)
class _Run:
    """What one retention run shares between its sources."""

    store: ArchiveStore
    settings: Settings
    now: datetime
    dry_run: bool


def apply_retention(
    conn: psycopg.Connection,
    store: ArchiveStore,
    settings: Settings,
    *,
    source: str | None = None,
    dry_run: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> list[RetentionReport]:
    if source is not None:
        codes = [archives.source_row(conn, source)["source_code"]]
    else:
        live = [r for r in registry.list_sources(conn) if r.status != SourceStatus.ARCHIVED]
        codes = [r.source_code for r in live]
    run = _Run(store, settings, clock.now(), dry_run)
    return [_retain(conn, code, run) for code in codes]


def _retain(conn: psycopg.Connection, code: str, run: _Run) -> RetentionReport:
    ref = TableRef.for_source(code)
    days = archives.source_row(conn, code)["retention_days"]
    report = RetentionReport(code, run.now.date() - timedelta(days=days))
    before = run.now - timedelta(days=days)
    with (
        archives.database_errors(f"Retention of {code}"),
        removed_on_failure(run.store) as written,
        conn.transaction(),
    ):
        if not table_exists(conn, ref.schema, ref.table):
            report.note = f"no table {ref}"
            return report
        if not run.dry_run:
            px.lock_source(conn, code, run.settings)
            archives.lock_for_export(conn, ref)
        report.periods = archives.expired_rows(conn, code, ref, report.cutoff, before)
        if not report.periods:
            report.note = f"no period ended before {report.cutoff}, no older rows without one"
            return report
        for period in [] if run.dry_run else report.periods:
            rows = RowFilter(period["period"], None if period["period"] else before)
            period["path"] = _retire(conn, code, ref, rows, run, written)
        report.moved = not run.dry_run
    return report


def _retire(
    conn: psycopg.Connection, code: str, ref: TableRef, rows: RowFilter, run: _Run, written: list
) -> str:
    """One period's rows to a verified file, then out of the table."""
    label = re.sub(r"[^A-Za-z0-9-]", "_", rows.period or "no_period")
    name = f"{code}/retention/tbl_{code}_{label}_{run.now:%Y%m%dT%H%M%S}.parquet"
    metadata = source_metadata(conn, code, ref, period=rows.period)
    metadata["datawarp.retention"] = {"period": rows.period, "before": rows.unperiodised_before}
    exported = px.export_verified(
        conn, ref, rows, run.store, name, metadata,
        row_group_rows=run.settings.lifecycle.row_group_rows, written=written,
        in_database=run.settings.lifecycle.verify == "database",
    )  # fmt: skip
    archives.record_archive(conn, kind=ArchiveKind.RETENTION, source_code=code,
                            source_table=str(ref), period=rows.period, **exported)  # fmt: skip
    deleted = archives.delete_rows(conn, ref, rows)
    if deleted != exported["row_count"]:
        raise ArchiveFailed(
            f"Retention of {code}: {deleted} rows to delete, {exported['row_count']} exported"
        )
    return exported["path"]
