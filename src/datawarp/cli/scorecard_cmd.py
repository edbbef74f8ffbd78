"""`datawarp scorecard`: DataWarp's success criteria, measured from the catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    number = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{number}{unit}" if unit in ("%", "h") else number  # a count: the name says of what


def scorecard(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any criterion fails (for CI and cron).")
    ] = False,
) -> None:
    """Measure the success criteria (load success, orphans, documentation, validation, ...)."""
    from datawarp.ops.scorecard import scorecard as measure

    app_state = state(ctx)
    with app_state.reading() as conn:
        card = measure(conn, app_state.settings().monitoring)
    if json_output:
        print_json(card.to_dict())
    else:
        table = listing(
            f"Success criteria at {local_time(card.as_of)} (last {card.days} days)",
            "criterion", "value", "target", "result", "detail",
        )  # fmt: skip
        for c in card.criteria:
            result = "[green]✓ pass[/]" if c.passed else "[red]✗ fail[/]"
            target = f"{c.target}{c.unit}" if c.unit in ("%", "h") else c.target
            table.add_row(c.name, _shown(c.value, c.unit), target, result, c.detail)
        console.print(table)
        failed = sum(not c.passed for c in card.criteria)
        console.print(f"{len(card.criteria) - failed} of {len(card.criteria)} criteria met")
    if strict and not card.passed:
        raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.command(epilog="Example: datawarp scorecard --strict --json")(scorecard)
