"""The dashboards made ready to show: panel titles, charts, and the template environment.

Shared by the HTML report and the web pages so that both show the same tables and charts.
Rows stay as the catalog returned them; a view adds only what a page draws (charts, and a
row-growth sparkline per source).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from datawarp.ops import charts
from datawarp.ops.formatting import (
    criterion_figures,
    format_bytes,
    format_cell,
    format_number,
    format_when,
    heading,
)
from datawarp.ops.monitoring import Dashboard

Row = dict[str, Any]

PANEL_TITLES = {
    ("load", "daily"): "Loads per day",
    ("load", "by_source"): "Loads by source",
    ("load", "failed_loads"): "Failed and rolled-back loads",
    ("freshness", "sources"): "Sources by freshness",
    ("storage", "largest_tables"): "Largest tables",
    ("storage", "by_domain"): "Storage by domain",
    ("storage", "by_schema"): "Storage by schema",
    ("storage", "row_growth"): "Row growth by source",
    ("schema", "sources"): "Schema changes by source",
    ("schema", "pending_reviews"): "Schema changes waiting for review",
}


@dataclass
class Panel:
    name: str
    title: str
    rows: list[Row]


@dataclass
class DashboardView:
    dashboard: Dashboard
    charts: list[Markup] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)


def template_environment(*loaders: BaseLoader) -> Environment:
    """Templates of ``loaders`` first, then the report's own; autoescaped except ``.txt``."""
    env = Environment(
        loader=ChoiceLoader([*loaders, PackageLoader("datawarp.ops", "templates")]),
        autoescape=select_autoescape(
            enabled_extensions=("html", "svg"), disabled_extensions=("txt",), default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cell=_cell, number=format_number, bytes=format_bytes, when=format_when, heading=heading
    )
    env.filters["criterion_figures"] = criterion_figures
    return env


def _cell(value: Any, key: str = "") -> str:
    """The ``cell`` filter: charts drawn for a cell (Markup) pass through unescaped."""
    return value if isinstance(value, Markup) else format_cell(key, value)


def _daily_chart(d: Dashboard) -> str:
    daily = d.panels["daily"]
    return charts.stacked_bar_chart(
        f"Loads per day by status, last {d.days} days",
        [r["day"].strftime("%m-%d") for r in daily],
        [
            charts.Series("completed", [r["completed"] for r in daily], charts.COMPLETED),
            charts.Series("failed", [r["failed"] for r in daily], charts.FAILED),
            charts.Series("rolled back", [r["rolled_back"] for r in daily], charts.ROLLED_BACK),
        ],
        empty_message="No loads in this window",
    )


def _seconds(value: float) -> str:
    return f"{format_number(value)} s"


def _load_charts(d: Dashboard, _history: list[Row]) -> list[str]:
    timed = [(r["source_code"], r["avg_seconds"]) for r in d.panels["by_source"]]
    return [
        _daily_chart(d),
        charts.horizontal_bar_chart(
            f"Average duration of completed loads by source, last {d.days} days",
            [(code, seconds) for code, seconds in timed if seconds is not None][:15],
            value_format=_seconds,
            empty_message="No completed loads in this window",
        ),
    ]


def _freshness_charts(d: Dashboard, _history: list[Row]) -> list[str]:
    rows = [r for r in d.panels["sources"] if r["days_since_load"] is not None]
    return [
        charts.horizontal_bar_chart(
            "Days since the last completed load (stale sources in red)",
            [(r["source_code"], r["days_since_load"]) for r in rows][:20],
            highlight={r["source_code"] for r in rows if r["stale"]},
            value_format=lambda v: f"{format_number(v)} d",
            empty_message="No source has completed a load yet",
        )
    ]


def total_rows_over_time(history: list[Row], d: Dashboard) -> list[tuple[str, float]]:
    """Rows in the warehouse (all sources' latest counts) after each load of the window."""
    start = d.as_of - timedelta(days=d.days)
    latest: dict[str, int] = {}
    points: list[tuple[str, float]] = []
    for row in sorted(history, key=lambda r: r["measured_at"]):
        latest[row["source_code"]] = row["row_count"]
        if row["measured_at"] > start:
            points.append((format_when(row["measured_at"]), sum(latest.values())))
    seeded = [r["row_count"] for r in history if r["measured_at"] <= start]
    if points and seeded:
        points.insert(0, (format_when(start), sum(seeded)))
    return points


def _storage_charts(d: Dashboard, history: list[Row]) -> list[str]:
    tables = d.panels["largest_tables"][:10]
    return [
        charts.horizontal_bar_chart(
            "Largest tables",
            [(f"{r['schema_name']}.{r['table_name']}", r["total_bytes"]) for r in tables],
            value_format=format_bytes,
            empty_message="No tables yet",
        ),
        charts.line_chart(
            f"Rows in staging after each load, last {d.days} days",
            total_rows_over_time(history, d),
            empty_message="No completed loads in this window",
        ),
    ]


def _schema_charts(d: Dashboard, _history: list[Row]) -> list[str]:
    return [
        charts.horizontal_bar_chart(
            f"Schema changes by source, last {d.days} days",
            [(r["source_code"], r["changes"]) for r in d.panels["sources"]][:15],
            empty_message="No schema changes in this window",
        )
    ]


_CHARTS = {
    "load": _load_charts,
    "freshness": _freshness_charts,
    "storage": _storage_charts,
    "schema": _schema_charts,
}


def _with_trends(rows: list[Row], history: list[Row]) -> list[Row]:
    by_source: dict[str, list[float]] = defaultdict(list)
    for row in history:
        by_source[row["source_code"]].append(row["row_count"])
    return [
        {**r, "trend": Markup(charts.sparkline(f"Rows of {r['source_code']}",
                                               by_source[r["source_code"]]))}
        for r in rows
    ]  # fmt: skip


def dashboard_view(d: Dashboard, history: list[Row]) -> DashboardView:
    """``history``: ``catalog.report_queries.row_history`` over the dashboard's window."""
    panels = []
    for name, rows in d.panels.items():
        if (d.name, name) == ("storage", "row_growth"):
            rows = _with_trends(rows, history)
        panels.append(Panel(name, PANEL_TITLES.get((d.name, name), heading(name)), rows))
    return DashboardView(d, [Markup(svg) for svg in _CHARTS[d.name](d, history)], panels)


def panel(view: DashboardView, name: str) -> Panel | None:
    return next((p for p in view.panels if p.name == name), None)
