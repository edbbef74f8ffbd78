"""The validation report: one line per gate, worst status first to the eye.

✓ Row count: 1,234 (within 10% of previous: 1,150)
✓ Schema: 12 columns (no changes)
✓ Data quality: No NULL columns, 0 duplicate keys, 0 duplicate rows
⚠ Metadata: 8/12 columns have descriptions (67%)
"""

from __future__ import annotations

from datawarp.core.checks import METADATA, QUALITY, ROW_COUNT, SCHEMA, CheckResult
from datawarp.core.vocabulary import CheckStatus

LABELS = {ROW_COUNT: "Row count", SCHEMA: "Schema", QUALITY: "Data quality", METADATA: "Metadata"}
MARKS = {CheckStatus.PASS: "✓", CheckStatus.WARN: "⚠", CheckStatus.FAIL: "✗"}
COLOURS = {CheckStatus.PASS: "green", CheckStatus.WARN: "yellow", CheckStatus.FAIL: "red"}
RANK = {CheckStatus.PASS: 0, CheckStatus.WARN: 1, CheckStatus.FAIL: 2}


def worst(results: list[CheckResult]) -> str:
    return max((r.status for r in results), key=RANK.__getitem__, default=CheckStatus.PASS)


def report_lines(results: list[CheckResult]) -> list[tuple[str, str]]:
    """(status, line) per gate, in DataWarp's fixed gate order."""
    lines = []
    for gate, label in LABELS.items():
        checks = [r for r in results if r.validation_type == gate]
        if not checks:
            continue
        checks.sort(key=lambda r: -RANK[r.status])
        status = worst(checks)
        lines.append((status, f"{MARKS[status]} {label}: {_summary(gate, checks)}"))
    return lines


def _summary(gate: str, checks: list[CheckResult]) -> str:
    if gate == ROW_COUNT and all("note" in r.details for r in checks):
        notes = "; ".join(r.details["note"] for r in checks)
        return f"{checks[0].details['rows']:,} ({notes})"
    return ", ".join(r.message for r in checks)


def plain_report(results: list[CheckResult]) -> str:
    return "\n".join(line for _status, line in report_lines(results))


def rich_report(results: list[CheckResult]) -> str:
    from rich.markup import escape  # for a terminal's report only: a plain one needs no rich

    return "\n".join(
        f"[{COLOURS[status]}]{escape(line)}[/]" for status, line in report_lines(results)
    )


def results_to_dicts(results: list[CheckResult]) -> list[dict]:
    return [
        {
            "validation_type": r.validation_type,
            "check_name": r.check_name,
            "status": r.status,
            "message": r.message,
            "details": r.details,
        }
        for r in results
    ]
