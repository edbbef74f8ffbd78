"""`datawarp maintenance weekly|monthly|quarterly`: the scheduled upkeep, for cron."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state

maintenance_app = typer.Typer(
    help="Scheduled upkeep: weekly, monthly and quarterly runs, each step recorded.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Report what each step would do; change nothing.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
OUTCOME_STYLE = {"ok": "green", "warning": "yellow", "failed": "red", "skipped": "dim"}
STEPS = {
    "weekly": "VACUUM (ANALYZE), orphan check, failed loads, stale sources, test-load purge,"
    " usage sample, the health report by e-mail",
    "monthly": "archive deprecated sources past their date, retention, capacity forecast,"
    " schema-change summary",
    "quarterly": "audit chain check, load events older than a year to Parquet, query and"
    " index hints",
}


def _run(ctx: typer.Context, schedule: str, dry_run: bool, json_output: bool) -> None:
    from datawarp.ops.maintenance import run_maintenance

    app_state = state(ctx)
    run = run_maintenance(app_state.ready_database(), app_state.settings(), schedule,
                          dry_run=dry_run)  # fmt: skip
    if json_output:
        print_json(run)
    elif run.skipped:
        console.print(f"Skipped: {run.skipped} (run {run.run_id} recorded as skipped)")
    else:
        table = listing(f"{schedule} maintenance, run {run.run_id}" + (" (dry run)" * dry_run),
                        "step", "outcome", "seconds", "details")  # fmt: skip
        for step in run.steps:
            style = OUTCOME_STYLE.get(step.outcome, "")
            details = json.dumps(step.details, default=str)
            table.add_row(step.step, f"[{style}]{step.outcome}[/]", f"{step.seconds:.2f}",
                          escape(details[:300]))  # fmt: skip
        console.print(table)
    if not run.ok and not run.skipped:
        raise typer.Exit(1)


def _command(schedule: str):
    def command(
        ctx: typer.Context, dry_run: DryRunOption = False, json_output: JsonOption = False
    ) -> None:
        _run(ctx, schedule, dry_run, json_output)

    command.__doc__ = f"The {schedule} run: {STEPS[schedule]}."
    return command


for _schedule in STEPS:
    maintenance_app.command(
        _schedule, epilog=f"Example: datawarp maintenance {_schedule} --dry-run"
    )(_command(_schedule))


@maintenance_app.command("history", epilog="Example: datawarp maintenance history --json")
def history_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="Newest N steps.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """The steps of recent runs: when, how long, outcome."""
    from datawarp.catalog.maintenance import recent_runs

    with state(ctx).reading() as conn:
        rows = recent_runs(conn, limit)
    if json_output:
        print_json(rows)
        return
    table = listing("Maintenance steps", "run", "schedule", "step", "started", "outcome")
    for r in rows:
        table.add_row(str(r["run_id"]), r["schedule"], r["step"], local_time(r["started_at"]),
                      r["outcome"])  # fmt: skip
    console.print(table)


def install(app: typer.Typer) -> None:
    app.add_typer(maintenance_app, name="maintenance")
