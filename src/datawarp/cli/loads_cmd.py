"""`datawarp loads failed|retry`: what went wrong lately, and loading a failed file again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state

if TYPE_CHECKING:
    from datawarp.ops.incidents import FailedLoad, RetryPlan
    from datawarp.pipeline.manifest import Manifest

loads_app = typer.Typer(
    help="Failed loads and their retries.", no_args_is_help=True, rich_markup_mode="rich"
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@loads_app.command("failed", epilog="Example: datawarp loads failed --days 14 --source adhd_mi")
def failed_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", help="Look back this many days.")] = 7,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List failed and rolled-back loads with their error, whether the file's URL or path
    answers now, and the manifest they came from (with --verbose, each failure's traceback)."""
    from datawarp.ops.incidents import failed_loads
    from datawarp.pipeline.fetch import check_reachable

    with state(ctx).reading() as conn:
        found = failed_loads(conn, days=days, source_code=source, check=check_reachable)
    if json_output:
        print_json({"days": days, "failed_loads": found})
        return
    if not found:
        console.print(f"No failed loads in the last {days} day(s).")
        return
    table = listing(
        f"{len(found)} failed load(s) in the last {days} day(s)",
        "load", "source", "status", "started", "period", "error", "file now", "manifest",
    )  # fmt: skip
    for item in found:
        table.add_row(
            str(item.load_id), item.source_code, item.status, local_time(item.started_at),
            item.period or "", escape(item.error or ""), escape(_file_now(item)),
            escape(item.manifest_path or "not recorded"),
        )  # fmt: skip
    console.print(table)
    if state(ctx).verbose:
        for item in found:
            if item.error_detail:
                console.print(f"traceback of load {item.load_id}:", markup=False)
                console.print(item.error_detail.rstrip(), markup=False, highlight=False)
    retryable = [str(item.load_id) for item in found if item.retryable]
    if retryable:
        console.print(f"Retry one with: datawarp loads retry {retryable[0]}")


def _file_now(item: FailedLoad) -> str:
    if item.reloaded_as is not None:
        return f"loaded again as load {item.reloaded_as}"
    if item.reachable is None:
        return ""
    return "answers" if item.reachable else f"✗ {item.reachability}"


@loads_app.command("retry", epilog="Example: datawarp loads retry 1042")
def retry_command(
    ctx: typer.Context,
    load_id: Annotated[int, typer.Argument(help="A failed load's id (datawarp loads failed).")],
    test: Annotated[
        bool, typer.Option("--test", help="The load was a test load: retry it into staging_test.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Details per file; tracebacks on errors.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Load a failed load's file again, with the manifest entry it was loaded with.

    The file is reloaded even when the same bytes were loaded before, and reported as
    load-batch reports; the exit code is 1 if it fails again. Completed loads, loads whose file
    has been loaded again since, and loads recorded without their manifest entry are refused.
    """
    from datawarp.cli.load_cmd import run_and_report
    from datawarp.ops.incidents import retry_plan
    from datawarp.pipeline.batch import BatchOptions

    app_state = state(ctx)
    app_state.verbose = app_state.verbose or verbose
    with app_state.writing(autocommit=True) as conn:
        plan = retry_plan(conn, load_id, test=test)
    manifest = manifest_for_retry(plan)
    if not json_output:
        typer.echo(f"Retrying load {load_id} of {plan.source_code}")
    options = BatchOptions(test=plan.test, force=True, only_source=plan.source_code)
    run_and_report(app_state, app_state.settings(), manifest, options, json_output=json_output)


def manifest_for_retry(plan: RetryPlan) -> Manifest:
    """The one-file manifest a retry loads, rebuilt from the recorded entry with its kind of
    period, so a period such as 2025-26 means what it meant the first time."""
    from pydantic import ValidationError

    from datawarp.core.errors import BadInputError
    from datawarp.pipeline.manifest import Manifest, SourceEntry

    try:
        source = SourceEntry(**plan.manifest_entry)
    except (ValidationError, TypeError) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise BadInputError(
            f"Load {plan.load_id}'s recorded manifest entry cannot be read ({reason})"
        ) from None
    path = Path(plan.manifest_path) if plan.manifest_path else None
    return Manifest(sources=[source], path=path)


def install(app: typer.Typer) -> None:
    app.add_typer(loads_app, name="loads")
