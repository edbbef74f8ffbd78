"""The steps of the maintenance runs (``ops.maintenance``), each ``(context) -> (outcome,
details)``. A step reports in its details what it did, or under ``--dry-run`` what it would
do; it changes nothing in a dry run."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from datawarp.catalog import audit, maintenance
from datawarp.catalog import monitoring as dashboards
from datawarp.catalog.archives import RowFilter
from datawarp.core.clock import today
from datawarp.core.naming import TableRef
from datawarp.core.vocabulary import SourceStatus, StepOutcome
from datawarp.ops import incidents, lifecycle, orphans
from datawarp.ops import retention as retention_policy
from datawarp.ops.archive_store import ArchiveStore, removed_on_failure
from datawarp.ops.parquet_export import export_verified

if TYPE_CHECKING:
    from datawarp.ops.maintenance import StepContext

OK, WARNING, SKIPPED = StepOutcome.OK, StepOutcome.WARNING, StepOutcome.SKIPPED
ORPHAN_GRACE_DAYS = 7
TEST_LOAD_AGE = timedelta(days=7)
FORECAST_DAYS, FORECAST_HISTORY_DAYS = 90, 90


def _store(context: StepContext) -> ArchiveStore:
    return ArchiveStore.at(context.settings.lifecycle.archive_location(context.settings.home))


# --- weekly --------------------------------------------------------------------------------


def vacuum_analyze(context: StepContext) -> tuple[str, dict[str, Any]]:
    with context.database.connect(autocommit=True) as conn:
        tables = maintenance.tables_to_vacuum(conn)
        if not context.dry_run:
            for schema, table in tables:
                maintenance.vacuum_analyze(conn, schema, table)
    return OK, {"tables": len(tables)}


def orphan_check(context: StepContext) -> tuple[str, dict[str, Any]]:
    """The DBA is told of new orphans; orphans older than a week are archived (or, with
    ``orphans = "alert"`` under [datawarp.lifecycle], only reported)."""
    with context.database.connect(autocommit=True) as conn:
        found = orphans.find_orphans(conn, notify=not context.dry_run)
        limit = context.now - timedelta(days=ORPHAN_GRACE_DAYS)
        old = [f"{o.schema_name}.{o.table_name}" for o in found.orphans
               if o.created_at and o.created_at < limit]  # fmt: skip
        archived = []
        if context.settings.lifecycle.orphans == "archive" and not context.dry_run:
            for table in old:
                orphans.archive_orphan(conn, table, _store(context), context.settings,
                                       clock=context.clock)  # fmt: skip
                archived.append(table)
    details = {"orphans": [f"{o.schema_name}.{o.table_name}" for o in found.orphans],
               "newly_seen": found.newly_seen,
               "older_than_7_days": old, "archived": archived,
               "ghosts": [g.source_code for g in found.ghosts]}  # fmt: skip
    return (WARNING if found.orphans or found.ghosts else OK), details


def failed_loads(context: StepContext) -> tuple[str, dict[str, Any]]:
    with context.database.connect(autocommit=True) as conn:
        rows = dashboards.failed_loads(conn, context.now, 7)
    found = [{"load_id": r["load_id"], "source_code": r["source_code"],
              "error": r["error_message"]} for r in rows]  # fmt: skip
    return (WARNING if found else OK), {"failed_loads": found}


def stale_sources(context: StepContext) -> tuple[str, dict[str, Any]]:
    monitoring = context.settings.monitoring
    with context.database.connect(autocommit=True) as conn:
        rows = dashboards.freshness(conn, context.now, monitoring.stale_after_days,
                                    monitoring.overdue_grace_days)  # fmt: skip
    stale = [r["source_code"] for r in rows if r["stale"]]
    overdue = [r["source_code"] for r in rows if r["overdue"]]
    return (WARNING if stale or overdue else OK), {"stale": stale, "overdue": overdue}


def test_load_purge(context: StepContext) -> tuple[str, dict[str, Any]]:
    with context.database.connect(autocommit=True) as conn:
        purged = incidents.purge_test_loads(conn, TEST_LOAD_AGE, dry_run=context.dry_run,
                                            clock=context.clock)  # fmt: skip
    dropped = [p.table for p in purged if p.dropped]
    kept = {p.table: p.kept_because for p in purged if not p.dropped}
    return OK, {"dropped": dropped, "would_drop": [] if dropped else list(kept), "kept": kept}


def usage_sample(context: StepContext) -> tuple[str, dict[str, Any]]:
    if context.dry_run:
        return SKIPPED, {"reason": "dry run"}
    with context.database.connect(autocommit=True) as conn:
        tables = lifecycle.sample_usage(conn, context.clock)
    return OK, {"tables_sampled": tables}


def health_report(context: StepContext) -> tuple[str, dict[str, Any]]:
    from datawarp.ops.report import build_report
    from datawarp.ops.smtp import SmtpFailure, send_report

    notify = context.settings.notify
    if not (notify.smtp_host and notify.email_from and notify.dba_emails):
        return SKIPPED, {"reason": "e-mail is not configured (smtp_host, email_from, dba_emails)"}
    with context.database.connect(autocommit=True) as conn:
        report = build_report(conn, context.settings, days=7, clock=context.clock)
    if context.dry_run:
        return SKIPPED, {"reason": "dry run", "subject": report.subject}
    try:
        send_report(notify, notify.dba_emails, report.subject, report.text, report.html)
    except SmtpFailure as exc:
        return StepOutcome.FAILED, {"error": str(exc)}
    return OK, {"sent_to": notify.dba_emails, "subject": report.subject}


# --- monthly -------------------------------------------------------------------------------


def archive_due_sources(context: StepContext) -> tuple[str, dict[str, Any]]:
    from datawarp.catalog import archives, registry

    day = today(context.clock)
    with context.database.connect(autocommit=True) as conn:
        deprecated = registry.list_sources(conn, status=SourceStatus.DEPRECATED)
        rows = [archives.source_row(conn, s.source_code) for s in deprecated]
        due = [r["source_code"] for r in rows if r["archive_after"] and r["archive_after"] <= day]
        archived = []
        for code in [] if context.dry_run else due:
            lifecycle.archive_source(conn, code, _store(context), context.settings,
                                     clock=context.clock)  # fmt: skip
            archived.append(code)
    return OK, {"due": due, "archived": archived}


def retention(context: StepContext) -> tuple[str, dict[str, Any]]:
    with context.database.connect(autocommit=True) as conn:
        reports = retention_policy.apply_retention(conn, _store(context), context.settings,
                                            dry_run=context.dry_run, clock=context.clock)  # fmt: skip
    periods = {r.source_code: [p.get("period") for p in r.periods] for r in reports if r.periods}
    return OK, {"periods_moved" if not context.dry_run else "periods_to_move": periods}


def capacity_forecast(context: StepContext) -> tuple[str, dict[str, Any]]:
    """Bytes in 3 months per source and domain: a least-squares line through each source's
    table size over the last 90 days, extended 90 days (sources with two or more points)."""
    since = context.now - timedelta(days=FORECAST_HISTORY_DAYS)
    with context.database.connect(autocommit=True) as conn:
        history = maintenance.size_history(conn, since)
    by_source: dict[str, list[tuple[float, float]]] = defaultdict(list)
    domains = {}
    for row in history:
        days = (row["measured_at"] - since) / timedelta(days=1)
        by_source[row["source_code"]].append((days, float(row["table_size_bytes"] or 0)))
        domains[row["source_code"]] = row["domain"]
    forecast = {code: _project(points, FORECAST_HISTORY_DAYS + FORECAST_DAYS)
                for code, points in by_source.items()}  # fmt: skip
    by_domain: dict[str, float] = defaultdict(float)
    for code, value in forecast.items():
        by_domain[domains[code]] += value
    method = "least-squares line through each source's table size over the last 90 days"
    return OK, {"method": method, "horizon_days": FORECAST_DAYS,
                "bytes_by_source": {k: round(v) for k, v in forecast.items()},
                "bytes_by_domain": {k: round(v) for k, v in by_domain.items()}}  # fmt: skip


def _project(points: list[tuple[float, float]], at: float) -> float:
    if len(points) < 2:
        return points[-1][1] if points else 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    return max(0.0, mean_y + slope * (at - mean_x))


def schema_change_summary(context: StepContext) -> tuple[str, dict[str, Any]]:
    high = context.settings.monitoring.high_drift_changes
    with context.database.connect(autocommit=True) as conn:
        rows = dashboards.schema_evolution(conn, context.now, 30, high)
        pending = dashboards.pending_reviews(conn, context.now)
    return OK, {
        "tables_created": sum(r["tables_created"] for r in rows),
        "columns_added": sum(r["columns_added"] for r in rows),
        "high_drift": [r["source_code"] for r in rows if r["high_drift"]],
        "pending_reviews": len(pending),
    }


# --- quarterly -----------------------------------------------------------------------------


def audit_verify(context: StepContext) -> tuple[str, dict[str, Any]]:
    with context.database.connect() as conn:
        result, loads = audit.verify_all(conn)
    details = {"entries": result.rows_checked, "head_hash": result.head_hash,
               "finished_loads": loads.rows_checked}  # fmt: skip
    if not result.ok:
        return StepOutcome.FAILED, {**details, "problem": result.problem}
    return OK, details


def export_old_load_events(context: StepContext) -> tuple[str, dict[str, Any]]:
    """Load events older than a year, as verified Parquet (kind ``load_events``)."""
    before = context.now - timedelta(days=365)
    name = f"load_events/load_events_before_{before:%Y%m%d}.parquet"
    with context.database.connect() as conn, conn.transaction():
        schema, table, count = maintenance.stage_old_load_events(conn, before)
        if count == 0 or context.dry_run:
            return OK, {"events": count, "exported": False}
        store = _store(context)
        with removed_on_failure(store) as written:
            exported = export_verified(
                conn, TableRef(schema, table), RowFilter(), store, name,
                {"datawarp.kind": "load_events", "datawarp.before": before.isoformat()},
                row_group_rows=100_000, written=written,
            )  # fmt: skip
    return OK, {"events": count, "exported": True, "path": exported["path"]}


def query_hints(context: StepContext) -> tuple[str, dict[str, Any]]:
    with context.database.connect(autocommit=True) as conn:
        statements = maintenance.statement_hints(conn)
        indexes = maintenance.missing_index_hints(conn)
    details: dict[str, Any] = {"missing_index_candidates": indexes}
    if statements is None:
        details["slow_queries"] = "pg_stat_statements is not installed"
    else:
        details["slow_queries"] = statements
    return OK, details
