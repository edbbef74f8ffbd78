"""The four dashboards: load health, freshness, storage and growth, schema evolution.

Each is built from the catalog's dashboard functions (``catalog.monitoring``) at one moment
(the injectable clock) over a window of days, and is plain data: the CLI renders it as tables,
the HTML report and the web pages as pages with charts, ``--json`` and ``/api`` as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from datawarp.catalog import monitoring as queries
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.errors import BadInputError

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.monitoring_settings import MonitoringSettings

Row = dict[str, Any]


@dataclass
class Dashboard:
    """One dashboard: headline figures, then named panels of rows."""

    name: str
    title: str
    as_of: datetime
    days: int
    summary: dict[str, Any] = field(default_factory=dict)
    panels: dict[str, list[Row]] = field(default_factory=dict)


def load_health(conn: psycopg.Connection, as_of: datetime, days: int, _s) -> Dashboard:
    daily = queries.load_health_daily(conn, as_of, days)
    by_source = queries.load_health_by_source(conn, as_of, days)
    finished = sum(d["loads"] for d in daily)
    completed = sum(d["completed"] for d in daily)
    slowest = max(by_source, key=lambda r: r["avg_seconds"] or 0, default=None)
    return Dashboard(
        "load", "Load health", as_of, days,
        summary={
            "loads": finished,
            "completed": completed,
            "failed": finished - completed,
            "success_rate": round(100 * completed / finished, 1) if finished else None,
            "slowest_source": slowest["source_code"] if slowest else None,
        },
        panels={
            "daily": daily,
            "by_source": by_source,
            "failed_loads": queries.failed_loads(conn, as_of, days),
        },
    )  # fmt: skip


def freshness(
    conn: psycopg.Connection, as_of: datetime, days: int, settings: MonitoringSettings
) -> Dashboard:
    """``days`` is the default staleness threshold (a source's own setting wins)."""
    rows = queries.freshness(conn, as_of, days, settings.overdue_grace_days)
    return Dashboard(
        "freshness", "Data freshness", as_of, days,
        summary={
            "sources": len(rows),
            "stale": sum(bool(r["stale"]) for r in rows),
            "overdue": sum(bool(r["overdue"]) for r in rows),
            "never_loaded": sum(r["last_loaded_at"] is None for r in rows),
        },
        panels={"sources": rows},
    )  # fmt: skip


def storage(conn: psycopg.Connection, as_of: datetime, days: int, _s) -> Dashboard:
    totals = queries.storage_totals(conn)
    growth = queries.row_growth(conn, as_of, days)
    staging = sum(r["total_bytes"] for r in totals["by_schema"] if r["schema_name"] == "staging")
    return Dashboard(
        "storage", "Storage and growth", as_of, days,
        summary={
            "staging_bytes": staging,
            "total_bytes": sum(r["total_bytes"] for r in totals["by_schema"]),
            "tables": sum(r["tables"] for r in totals["by_schema"]),
            "fastest_growing": growth[0]["source_code"] if growth else None,
        },
        panels={
            "largest_tables": queries.table_sizes(conn, 20),
            "by_domain": totals["by_domain"],
            "by_schema": totals["by_schema"],
            "row_growth": growth,
        },
    )  # fmt: skip


def schema(
    conn: psycopg.Connection, as_of: datetime, days: int, settings: MonitoringSettings
) -> Dashboard:
    evolution = queries.schema_evolution(conn, as_of, days, settings.high_drift_changes)
    pending = queries.pending_reviews(conn, as_of)
    return Dashboard(
        "schema", "Schema evolution", as_of, days,
        summary={
            "tables_created": sum(r["tables_created"] for r in evolution),
            "columns_added": sum(r["columns_added"] for r in evolution),
            "pending_reviews": len(pending),
            "high_drift_sources": sum(bool(r["high_drift"]) for r in evolution),
        },
        panels={"sources": evolution, "pending_reviews": pending},
    )  # fmt: skip


Builder = Callable[[Any, datetime, int, Any], Dashboard]
# name → (builder, default window in days)
DASHBOARDS: dict[str, tuple[Builder, int]] = {
    "load": (load_health, 7),
    "freshness": (freshness, 30),
    "storage": (storage, 7),
    "schema": (schema, 30),
}


def dashboard(
    conn: psycopg.Connection,
    name: str,
    settings: MonitoringSettings,
    *,
    days: int | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Dashboard:
    if name not in DASHBOARDS:
        raise BadInputError(f"Unknown dashboard {name!r}: use one of {', '.join(DASHBOARDS)}")
    if days is not None and not 1 <= days <= 3650:
        raise BadInputError(f"Invalid --days {days}: use 1 to 3650")
    build, default_days = DASHBOARDS[name]
    if name == "freshness" and days is None:
        default_days = settings.stale_after_days
    return build(conn, clock.now(), days or default_days, settings)


def all_dashboards(
    conn: psycopg.Connection,
    settings: MonitoringSettings,
    *,
    days: int | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[Dashboard]:
    return [dashboard(conn, name, settings, days=days, clock=clock) for name in DASHBOARDS]
