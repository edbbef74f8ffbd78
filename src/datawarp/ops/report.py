"""The monitoring report: ``datawarp report``, and the e-mail that will carry it.

One self-contained HTML page (inline CSS and SVG, nothing fetched, so it reads the same
attached to an e-mail, opened from disk or archived) with the four dashboards, the open
alerts, the window's validation results and the scorecard; a plain-text part with the same
figures for e-mail clients that show no HTML; and a subject line with the headline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from datawarp.catalog import audit, report_queries
from datawarp.catalog.alerts import Alert, list_alerts
from datawarp.core.clock import SYSTEM_CLOCK, Clock, FixedClock
from datawarp.core.errors import BadInputError
from datawarp.ops.monitoring import DASHBOARDS, Dashboard, dashboard
from datawarp.ops.presentation import DashboardView, dashboard_view, template_environment
from datawarp.ops.report_text import plain_text
from datawarp.ops.scorecard import Scorecard, scorecard

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.settings import Settings

Row = dict[str, Any]


@dataclass
class ReportData:
    """Everything the report shows, as plain data (``datawarp report --json`` prints it)."""

    as_of: datetime
    days: int
    dashboards: list[Dashboard]
    alerts: list[Alert]
    validation: list[Row]
    validation_failures: list[Row]
    scorecard: Scorecard | None
    row_history: list[Row]
    anchor: dict | None = None  # the audit chains' heads, to keep outside the database

    def headline(self) -> dict[str, int]:
        load = self.dashboard("load").summary
        return {
            "loads": load["loads"],
            "failed": load["failed"],
            "open_alerts": len(self.alerts),
            "stale_sources": self.dashboard("freshness").summary["stale"],
        }

    def dashboard(self, name: str) -> Dashboard:
        return next(d for d in self.dashboards if d.name == name)


@dataclass(frozen=True)
class Report:
    html: str
    text: str
    subject: str
    data: ReportData


def window_dashboards(
    conn: psycopg.Connection, settings: Settings, days: int | None, clock: Clock
) -> list[Dashboard]:
    """The four dashboards over ``days``; freshness keeps its own staleness threshold.

    The freshness dashboard's "days" is how old a last load may be, not a window: a weekly
    report must not call a monthly publication stale after seven days.
    """
    return [
        dashboard(conn, name, settings.monitoring, clock=clock,
                  days=None if name == "freshness" else days)
        for name in DASHBOARDS
    ]  # fmt: skip


def gather(
    conn: psycopg.Connection, settings: Settings, *, days: int = 7, clock: Clock = SYSTEM_CLOCK
) -> ReportData:
    if not 1 <= days <= 3650:
        raise BadInputError(f"Invalid --days {days}: use 1 to 3650")
    as_of = clock.now()
    fixed = FixedClock(as_of)  # every part judged at the same instant
    return ReportData(
        as_of=as_of,
        days=days,
        dashboards=window_dashboards(conn, settings, days, fixed),
        alerts=list_alerts(conn, open_only=True),
        validation=report_queries.validation_summary(conn, as_of, days),
        validation_failures=report_queries.validation_failures(conn, as_of, days),
        scorecard=scorecard(conn, settings.monitoring, clock=fixed),
        row_history=report_queries.row_history(conn, as_of, days),
        anchor={
            k: v if isinstance(v, int | str | None) else str(v)
            for k, v in audit.anchor(conn).items()
        },  # fmt: skip
    )


def subject_line(data: ReportData) -> str:
    h = data.headline()
    return (
        f"DataWarp report {data.as_of:%Y-%m-%d}, last {data.days} days: {h['loads']} loads,"
        f" {h['failed']} failed, {h['stale_sources']} stale sources,"
        f" {h['open_alerts']} open alerts"
    )


def views(data: ReportData) -> list[DashboardView]:
    return [dashboard_view(d, data.row_history) for d in data.dashboards]


def render_html(data: ReportData) -> str:
    template = template_environment().get_template("report.html")
    return template.render(data=data, views=views(data), subject=subject_line(data))


def build_report(
    conn: psycopg.Connection, settings: Settings, *, days: int = 7, clock: Clock = SYSTEM_CLOCK
) -> Report:
    """The report of the last ``days`` days as of ``clock.now()``."""
    data = gather(conn, settings, days=days, clock=clock)
    return Report(render_html(data), plain_text(data), subject_line(data), data)
