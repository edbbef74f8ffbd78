"""The report as plain text: the e-mail part for clients that show no HTML, and the terminal.

Same figures as the HTML page (the same ``formatting`` functions), in aligned columns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from datawarp.ops.formatting import criterion_figures, format_cell, format_when, heading
from datawarp.ops.presentation import PANEL_TITLES

if TYPE_CHECKING:
    from datawarp.ops.monitoring import Dashboard
    from datawarp.ops.report import ReportData

Row = dict[str, Any]

# Panels worth reading in an e-mail; the full tables are on the HTML page.
_TEXT_PANELS = {
    "load": [("by_source", ("source_code", "loads", "completed", "failed", "avg_seconds")),
             ("failed_loads", ("load_id", "source_code", "load_status", "started_at",
                               "error_message"))],
    "freshness": [("sources", ("source_code", "status", "days_since_load", "stale", "overdue",
                               "next_expected_by"))],
    "storage": [("largest_tables", ("schema_name", "table_name", "total_bytes")),
                ("row_growth", ("source_code", "rows_now", "growth_rows", "growth_percent"))],
    "schema": [("sources", ("source_code", "columns_added", "changes", "pending_reviews")),
               ("pending_reviews", ("change_id", "source_code", "target_table", "age_days"))],
}  # fmt: skip
_MAX_ROWS = 15
_MAX_CELL = 60


def _cell(key: str, value: Any) -> str:
    text = format_cell(key, value).replace("\n", " ")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def table(rows: Sequence[Row], columns: Sequence[str], indent: str = "  ") -> list[str]:
    """Aligned columns with a heading line; at most ``_MAX_ROWS`` rows and a note of the rest."""
    if not rows:
        return [f"{indent}(none)"]
    shown = [[_cell(c, r.get(c)) for c in columns] for r in rows[:_MAX_ROWS]]
    headings = [heading(c) for c in columns]
    widths = [max(len(h), *(len(r[i]) for r in shown)) for i, h in enumerate(headings)]
    lines = [indent + "  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True)).rstrip()]
    lines += [
        indent + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in shown
    ]
    if len(rows) > _MAX_ROWS:
        lines.append(f"{indent}… and {len(rows) - _MAX_ROWS} more")
    return lines


def summary_line(summary: Row) -> str:
    return " · ".join(f"{heading(k)}: {format_cell(k, v)}" for k, v in summary.items())


def _dashboard(d: Dashboard) -> list[str]:
    window = f"stale after {d.days} days" if d.name == "freshness" else f"last {d.days} days"
    lines = [f"{d.title.upper()} ({window})", "  " + summary_line(d.summary)]
    for name, columns in _TEXT_PANELS[d.name]:
        title = PANEL_TITLES.get((d.name, name), heading(name))
        lines += ["", f"  {title}:", *table(d.panels[name], columns, "    ")]
    return [*lines, ""]


def _alerts(data: ReportData) -> list[str]:
    lines = [f"OPEN ALERTS ({len(data.alerts)})"]
    for a in data.alerts:
        where = f" {a.source_code}" if a.source_code else ""
        lines.append(
            f"  [{a.severity}] {a.rule}{where}: {a.message}"
            f" (×{a.occurrences}, last seen {format_when(a.last_seen_at)})"
        )
    return [*lines, *([] if data.alerts else ["  (none)"]), ""]


def _validation(data: ReportData) -> list[str]:
    columns = ("validation_type", "check_name", "pass", "warn", "fail")
    failures = ("load_id", "source_code", "check_name", "message", "validated_at")
    return [
        f"VALIDATION (latest results of the loads of the last {data.days} days)",
        *table(data.validation, columns),
        "",
        "  Latest failures:",
        *table(data.validation_failures, failures, "    "),
        "",
    ]


def _scorecard(data: ReportData) -> list[str]:
    card = data.scorecard
    if card is None:
        return []
    met = sum(c.passed for c in card.criteria)
    lines = [f"SCORECARD ({met} of {len(card.criteria)} criteria met, last {card.days} days)"]
    for c in card.criteria:
        value, target = criterion_figures(c)
        mark = "✓" if c.passed else "✗"
        lines.append(f"  {mark} {c.name}: {value} (target {target}) — {c.detail}")
    return [*lines, ""]


def plain_text(data: ReportData) -> str:
    lines = [f"DataWarp report at {format_when(data.as_of)}, last {data.days} days", ""]
    for d in data.dashboards:
        lines += _dashboard(d)
    lines += [*_alerts(data), *_validation(data), *_scorecard(data), *anchor_lines(data.anchor)]
    return "\n".join(lines).rstrip() + "\n"


def anchor_lines(anchor: dict | None) -> list[str]:
    """The audit anchor, for `datawarp audit verify --anchor` against this e-mail later."""
    if not anchor:
        return []
    return ["", "Audit anchor (keep outside the database; `datawarp audit verify --anchor`):",
            json.dumps(anchor, default=str, sort_keys=True)]  # fmt: skip
