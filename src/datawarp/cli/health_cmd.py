"""`datawarp health [load|freshness|storage|schema]`: the four dashboards in the terminal."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state
from datawarp.ops.formatting import format_bytes

if TYPE_CHECKING:
    from datawarp.ops.monitoring import Dashboard

BARS = "▁▂▃▄▅▆▇█"
# Which columns each panel shows, in order (the JSON output has every column).
PANEL_COLUMNS = {
    "load.by_source": ["source_code", "loads", "failed", "success_rate", "avg_seconds", "p95_seconds",
                  "loads_per_week"],
    "load.failed_loads": ["load_id", "source_code", "load_status", "started_at", "error_message"],
    "freshness.sources": ["source_code", "days_since_load", "stale", "cadence", "last_period",
                          "next_period", "next_expected_by", "overdue"],
    "storage.largest_tables": ["schema_name", "table_name", "source_code", "total_bytes",
                       "rows_estimate"],
    "storage.by_domain": ["domain", "tables", "total_bytes"],
    "storage.by_schema": ["schema_name", "tables", "total_bytes"],
    "storage.row_growth": ["source_code", "rows_now", "rows_before", "growth_percent",
                   "weekly_growth_percent"],
    "schema.pending_reviews": ["change_id", "source_code", "target_table", "columns", "age_days"],
}  # fmt: skip
HIDDEN = {"owner", "publication"}


def health(
    ctx: typer.Context,
    panel: Annotated[
        str | None, typer.Argument(metavar="[load|freshness|storage|schema]", help="One dashboard.")
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Window in days (freshness: the stale limit).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show load health, data freshness, storage and growth, and schema evolution.

    Every figure comes from the catalog's dashboard views (datawarp.v_load_health_daily,
    v_freshness, v_table_sizes, v_schema_evolution, ...), which SQL clients can read too.
    """
    from datawarp.ops import monitoring

    app_state = state(ctx)
    settings = app_state.settings()
    with app_state.reading() as conn:
        if panel is None:
            boards = monitoring.all_dashboards(conn, settings.monitoring, days=days)
        else:
            boards = [monitoring.dashboard(conn, panel, settings.monitoring, days=days)]
    notes = _notes(settings)
    if json_output:
        print_json({"dashboards": boards, "notes": notes})
        return
    for board in boards:
        _render(board)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")


def _notes(settings) -> list[str]:
    try:
        from datawarp.ops.notify import notifications_configured
    except ImportError:  # delivery not installed in this build
        return []
    if notifications_configured(settings):
        return []
    return [
        "notifications are not configured: they wait in the outbox (datawarp notify list);"
        " set smtp_host or webhook_url under [notify] in datawarp.toml"
    ]


def _render(board: Dashboard) -> None:
    console.rule(f"[bold]{board.title}[/] · {board.days} days to {local_time(board.as_of)}")
    summary = "  ".join(f"{key.replace('_', ' ')}: [bold]{_cell(value)}[/]"
                        for key, value in board.summary.items())  # fmt: skip
    console.print(summary)
    daily = board.panels.get("daily")
    if daily:
        rates = [row["success_rate"] for row in daily]
        console.print(f"success rate per day: {_sparkline(rates)}  (oldest → today)")
    for name, rows in board.panels.items():
        if name != "daily":
            console.print(_table(board.name, name, rows))


def _table(board: str, name: str, rows: list[dict[str, Any]]):
    columns = PANEL_COLUMNS.get(f"{board}.{name}") or [
        c for c in (rows[0] if rows else {}) if c not in HIDDEN
    ]
    table = listing(
        f"{name.replace('_', ' ')} ({len(rows)})", *(c.replace("_", " ") for c in columns)
    )
    for row in rows:
        table.add_row(*(escape(_cell(row.get(column), column)) for column in columns))
    return table


def _cell(value: Any, column: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if column.endswith("_bytes") and isinstance(value, int):
        return format_bytes(value)
    if hasattr(value, "astimezone"):
        return local_time(value)
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _sparkline(values: list) -> str:
    """One bar per day: the success rate, '·' for a day without loads."""
    return "".join(
        "·" if v is None else BARS[min(len(BARS) - 1, int(float(v) / 100 * (len(BARS) - 1)))]
        for v in values
    )


def install(app: typer.Typer) -> None:
    app.command(epilog="Example: datawarp health load --days 30 --json")(health)
