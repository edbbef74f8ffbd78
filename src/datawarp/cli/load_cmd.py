"""`datawarp load-batch MANIFEST`: governed loading, one transaction per file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from datawarp.cli import collector
from datawarp.cli.state import state
from datawarp.cli.unused_imports import without_numpy

if TYPE_CHECKING:
    from datawarp.pipeline.batch import BatchReport, FileOutcome

EXAMPLE = "Example: datawarp load-batch manifest.yaml --validate   (see docs/manifest.md)"
STATUS_MARK = {
    "completed": "[green]✓[/]",
    "skipped": "[yellow]↷[/]",
    "planned": "[cyan]…[/]",
    "failed": "[red]✗[/]",
    "rolled_back": "[red]↺[/]",
}


def load_batch(
    ctx: typer.Context,
    manifest_path: Annotated[Path, typer.Argument(metavar="MANIFEST", help="The manifest YAML.")],
    validate: Annotated[
        bool, typer.Option("--validate", help="Run the validation gates on every source.")
    ] = False,
    test: Annotated[
        bool,
        typer.Option("--test", help="Load into staging_test; unregistered sources allowed."),
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="Only this source of the manifest.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Reload files already loaded (same SHA-256, period).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and extract, load nothing.")
    ] = False,
    lock_timeout: Annotated[
        float | None,
        typer.Option(help="Seconds to wait for another load of the same source (0: don't)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Details per file; tracebacks on errors.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Load every file of a manifest into its registered source's staging table.

    Pre-load checks run first and report every problem at once; then each file loads in one
    transaction (table changes, COPY, validation) and is recorded as a load event. A failed
    file is rolled back, its owner notified, and the batch goes on; the exit code is 1 if any
    file failed.
    """
    without_numpy()  # before the read-ahead imports pyarrow
    from datawarp.pipeline.manifest import load_manifest
    from datawarp.pipeline.read_ahead import read_first_file_ahead

    app_state = state(ctx)
    app_state.verbose = app_state.verbose or verbose
    manifest = load_manifest(manifest_path)
    read_first_file_ahead(manifest, source, loading=not dry_run)  # on the other core
    from datawarp.pipeline.batch import BatchOptions

    settings = app_state.settings()
    if lock_timeout is not None:
        settings = settings.model_copy(update={"lock_timeout_seconds": lock_timeout})
    options = BatchOptions(
        test=test, force=force, dry_run=dry_run, validate=validate, only_source=source
    )
    run_and_report(app_state, settings, manifest, options, json_output=json_output)


def run_and_report(app_state, settings, manifest, options, *, json_output: bool) -> None:
    """Run a batch and print it as load-batch does (`loads retry` too); exits with its code."""
    from datawarp.pipeline.batch import Hooks, run_batch

    database = app_state.ready_database()
    collector.resume()  # the command's start is over (collector.py)
    _note_interrupted(app_state.interrupted_loads)
    show_progress = sys.stdout.isatty() and not json_output
    if show_progress:
        report = _run_with_progress(database, settings, manifest, options)
    else:
        hooks = Hooks(on_file_done=None if json_output else _plain_line)
        report = run_batch(database, settings, manifest, options, hooks=hooks)
    after = {} if options.dry_run else _after_batch(app_state)
    _print_report(report, after, json_output=json_output, verbose=app_state.verbose,
                  rich_lines=show_progress)  # fmt: skip
    raise typer.Exit(report.exit_code)


def _after_batch(app_state) -> dict:
    """Alert rules and delivery once every transaction of the batch has ended. A problem here
    is reported and never changes the batch's exit code: the loads themselves are done."""
    from datawarp.cli.alert_check import check_and_deliver
    from datawarp.core.errors import DataWarpError

    try:
        check, delivery = check_and_deliver(app_state)
    except DataWarpError as exc:
        typer.echo(f"warning: alerts not checked: {exc.message}", err=True)
        return {}
    return {"alerts": check, "delivery": delivery}


def _note_interrupted(load_ids: list[int]) -> None:
    for load_id in load_ids:
        typer.echo(f"Note: load {load_id} was interrupted; marked failed.", err=True)


def _print_report(
    report: BatchReport, after: dict, *, json_output: bool, verbose: bool,
    rich_lines: bool,
) -> None:  # fmt: skip
    if json_output:
        from datawarp.cli.output import print_json

        summary = {"outcomes": report.outcomes, "warnings": report.warnings}
        print_json({**summary, "notifications": report.notifications, **after})
        return
    if verbose:
        _details(report)
    if "alerts" in after:  # before the summary, which stays the last line for scripts
        from datawarp.cli.alert_check import summary_line

        typer.echo(summary_line(after["alerts"]))
    _summary(report, rich_lines=rich_lines)


PERIOD_FROM = {"title": "from the title block", "file_name": "from the file name"}


def _period(outcome: FileOutcome) -> str:
    """``[2023-10]``, ``[week ending 2023-10-01 from the title block]``, ``[no period]``."""
    if outcome.period is None:
        return " [no period]" if outcome.status in ("completed", "planned") else ""
    shown = outcome.period
    if outcome.period_kind == "week_ending":
        shown = f"week ending {shown}"
    origin = PERIOD_FROM.get(outcome.period_source or "")
    return f" [{shown}{' ' + origin if origin else ''}]"


def _describe(outcome: FileOutcome) -> str:
    where = f" → {outcome.target}" if outcome.target else ""
    period = _period(outcome)
    replacing = f" (replacing {outcome.rows_replaced:,})" if outcome.rows_replaced else ""
    detail = {
        "completed": f"{outcome.rows_loaded:,} rows{replacing}, {outcome.columns_added} new"
        " columns",
        "planned": f"would load {outcome.rows_loaded:,} rows",
        "skipped": "skipped",
    }.get(outcome.status, outcome.error or outcome.status)
    load = f" (load {outcome.load_id})" if outcome.load_id else ""
    return f"{outcome.source_code}{period}: {outcome.location}{where}{load}: {detail}"


def _plain_line(outcome: FileOutcome) -> None:
    from datawarp.pipeline.validation_report import plain_report

    typer.echo(f"{outcome.status.upper():<9} {_describe(outcome)}")
    for note in outcome.notes:
        typer.echo(f"  note: {note}")
    for warning in outcome.warnings:
        typer.echo(f"  warning: {warning}")
    for line in plain_report(outcome.validation).splitlines():
        typer.echo(f"  {line}")


def _run_with_progress(database, settings, manifest, options) -> BatchReport:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from datawarp.cli.output import console
    from datawarp.pipeline.batch import Hooks, run_batch
    from datawarp.pipeline.validation_report import rich_report

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        current: dict[str, int] = {}

        def start(task, total: int | None) -> None:
            current.pop("download", None)
            label = f"{task.source.source_code} {task.entry.period or ''}".strip()
            current["id"] = progress.add_task(label, total=total)

        def download(task, done: int, total: int | None) -> None:
            if "download" not in current:
                name = task.location.rsplit("/", 1)[-1]
                current["download"] = progress.add_task(f"fetch {name}", total=total)
            progress.update(current["download"], completed=done, total=total)

        def rows(count: int) -> None:
            progress.advance(current["id"], count)

        def done(outcome: FileOutcome) -> None:
            current.pop("download", None)
            for task in progress.tasks:  # a file read once learns its rows at the end
                if task.total is None:
                    progress.update(task.id, total=task.completed)
            mark = STATUS_MARK.get(outcome.status, "?")
            progress.console.print(f"{mark} {escape(_describe(outcome))}")
            for note in outcome.notes:
                progress.console.print(f"  note: {escape(note)}")
            for warning in outcome.warnings:
                progress.console.print(f"  [yellow]warning:[/] {escape(warning)}")
            for line in rich_report(outcome.validation).splitlines():
                progress.console.print(f"  {line}")

        hooks = Hooks(on_download=download, on_file_start=start, on_rows=rows, on_file_done=done)
        return run_batch(database, settings, manifest, options, hooks=hooks)


def _details(report: BatchReport) -> None:
    for o in report.outcomes:
        typer.echo(
            f"detail: {o.source_code} {o.period or '-'} sheet={o.sheet or '-'} target={o.target}"
            f" load={o.load_id or '-'} status={o.status} seconds={o.seconds:.2f}"
        )
        if o.error_detail:
            typer.echo(f"traceback of load {o.load_id or '-'}:\n{o.error_detail.rstrip()}",
                       err=True)  # fmt: skip
    for n in report.notifications:
        typer.echo(f"notified {n.recipient} [{n.kind}] {n.subject}: {n.body}")


def _summary(report: BatchReport, *, rich_lines: bool) -> None:
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    counts: dict[str, int] = {}
    for outcome in report.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    rows = sum(o.rows_loaded for o in report.outcomes if o.status == "completed")
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    line = f"{len(report.outcomes)} file(s): {parts}; {rows:,} rows loaded"
    if rich_lines:
        from datawarp.cli.output import console

        console.print(line)
    else:
        typer.echo(line)


def install(app: typer.Typer) -> None:
    app.command("load-batch", epilog=EXAMPLE)(load_batch)
