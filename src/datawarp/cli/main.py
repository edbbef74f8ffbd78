"""The `datawarp` command: a thin layer over the library modules.

Errors raised as ``DataWarpError`` are printed on one line and turned into the exit code the
error carries (2 bad input, 1 a failed load); tracebacks only with ``--verbose``.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

import datawarp
from datawarp.cli import (
    access_cmd,
    alerts_cmd,
    allocator,
    audit_cmd,
    collector,
    db_cmd,
    demo_cmd,
    health_cmd,
    hygiene_cmd,
    inspect_cmd,
    lifecycle_cmd,
    load_cmd,
    loads_cmd,
    maintenance_cmd,
    notify_cmd,
    orphans_cmd,
    process_end,
    report_cmd,
    schema_cmd,
    scorecard_cmd,
    serve_cmd,
    sources_cmd,
    unused_imports,
    validate_cmd,
)
from datawarp.cli.state import AppState, state
from datawarp.core.errors import DataWarpError


class DataWarpGroup(TyperGroup):
    """Root command group that reports DataWarp errors the way cron and people both want."""

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
        # Kept to name the command in a permission refusal, once the command's context is gone.
        ctx.meta["datawarp.args"] = list(args)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            problems, code = _reported(ctx, exc)
            if problems is None:
                raise
            if isinstance(ctx.obj, AppState) and ctx.obj.verbose:
                traceback.print_exc()
            for problem in problems:
                typer.echo(f"Error: {problem}", err=True)
            raise typer.Exit(code) from None


def _reported(ctx: typer.Context, exc: Exception) -> tuple[list[str] | None, int]:
    """The lines and exit code for an error DataWarp reports; (None, 0) for anything else.

    A database refusal of a privilege, wherever it surfaces, becomes the one permission line.
    """
    if isinstance(exc, typer.Exit | typer.Abort | typer.TyperException):  # typer's own usage
        return None, 0
    from datawarp.catalog.access_checks import group_names_at, refusal_login
    from datawarp.core.errors import PermissionDenied

    url = ctx.obj._database.url if isinstance(ctx.obj, AppState) and ctx.obj._database else None
    login = None if isinstance(exc, PermissionDenied) else refusal_login(exc, url)
    if login is not None:
        from datawarp.ops.access import command_words, denial_message

        words = command_words(ctx.meta.get("datawarp.args", []))
        return [denial_message(words, login, group_names_at(url))], 1
    if isinstance(exc, DataWarpError):
        return getattr(exc, "problems", None) or [exc.message], exc.exit_code
    return None, 0


app = typer.Typer(
    cls=DataWarpGroup,
    help="Load NHS England statistical publications into a governed PostgreSQL warehouse.",
    epilog="Start with: datawarp demo   ·   Docs: README.md and docs/",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"datawarp {datawarp.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="DATAWARP_DATABASE_URL",
            show_envvar=True,
            help="PostgreSQL URL. Unset: an embedded PostgreSQL in your data folder.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Settings file (default: ./datawarp.toml if present)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks and debug detail.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Load NHS England statistical publications into a governed PostgreSQL warehouse."""
    ctx.obj = AppState(database_url=database_url, config_file=config, verbose=verbose)
    state(ctx)
    if ctx.invoked_subcommand not in collector.RESUME_THEMSELVES:
        collector.resume()


sources_cmd.install(app)
db_cmd.install(app)
audit_cmd.install(app)
demo_cmd.install(app)
load_cmd.install(app)
schema_cmd.install(app)
validate_cmd.install(app)
scorecard_cmd.install(app)
health_cmd.install(app)
alerts_cmd.install(app)
maintenance_cmd.install(app)
notify_cmd.install(app)
lifecycle_cmd.install(app)
orphans_cmd.install(app)
loads_cmd.install(app)
hygiene_cmd.install(app)
report_cmd.install(app)
serve_cmd.install(app)
access_cmd.install(app)
app.command("inspect", epilog="Example: datawarp inspect Monthly-AE-September-2023.csv --json")(
    inspect_cmd.inspect
)


def run() -> None:
    """The ``datawarp`` command's entry point (its own process; ``app`` is the library's): the
    process ends with the command's exit code once its exit handlers have run."""
    unused_imports.command_process()
    allocator.set_arrow_memory_defaults()
    collector.pause_for_start()  # resumed as the command is invoked (collector.py)
    ending = process_end.ProcessEnd()  # first registered: the last exit handler to run
    try:
        app()
    except SystemExit as exit_request:
        ending.record(exit_request)
        raise
