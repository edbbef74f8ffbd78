"""The `datawarp` command: a thin layer over the library modules.

Errors raised as ``DataWarpError`` are printed on one line and turned into the exit code the
error carries (2 bad input, 1 a failed load); tracebacks only with ``--verbose``.
"""

from __future__ import annotations

import importlib
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

import datawarp
from datawarp.cli import allocator, collector, process_end, unused_imports
from datawarp.cli.state import AppState, state
from datawarp.core.errors import DataWarpError

# Each command's module, in the order the root's help lists them (commands, then groups). A
# module is imported, and its commands built, only when one of its commands is asked for (or
# the root's help): all of them at every start took 28 ms, whichever command ran.
COMMAND_MODULES = {
    "register": "sources_cmd", "update": "sources_cmd", "demo": "demo_cmd",
    "load-batch": "load_cmd", "validate": "validate_cmd", "describe": "validate_cmd",
    "scorecard": "scorecard_cmd", "health": "health_cmd", "deprecate": "lifecycle_cmd",
    "undeprecate": "lifecycle_cmd", "duplicates": "hygiene_cmd", "report": "report_cmd",
    "serve": "serve_cmd", "inspect": "inspect_cmd", "sources": "sources_cmd", "db": "db_cmd",
    "audit": "audit_cmd", "schema-changes": "schema_cmd", "validation": "validate_cmd",
    "alerts": "alerts_cmd", "maintenance": "maintenance_cmd", "notify": "notify_cmd",
    "lifecycle": "lifecycle_cmd", "archive": "lifecycle_cmd", "retention": "lifecycle_cmd",
    "orphans": "orphans_cmd", "loads": "loads_cmd", "storage": "hygiene_cmd",
    "test-loads": "hygiene_cmd", "access": "access_cmd",
}  # fmt: skip


def _module_commands(module_name: str) -> dict[str, Any]:
    """The commands a command module installs, built as the root would build them."""
    module = importlib.import_module(f"datawarp.cli.{module_name}")
    holder = typer.Typer(rich_markup_mode="rich")
    holder.callback()(lambda: None)  # a group, however many commands the module installs
    module.install(holder)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return dict(group.commands)


class DataWarpGroup(TyperGroup):
    """Root command group that reports DataWarp errors the way cron and people both want, and
    loads each command's module when the command is asked for (``COMMAND_MODULES``)."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [
            *COMMAND_MODULES,
            *(n for n in super().list_commands(ctx) if n not in COMMAND_MODULES),
        ]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            for name, command in _module_commands(COMMAND_MODULES[cmd_name]).items():
                self.add_command(command, name)
        return super().get_command(ctx, cmd_name)

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


def command_tree() -> TyperGroup:
    """The root command with every command loaded: for documentation, completion and tests."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    context = typer.Context(root)
    for name in root.list_commands(context):
        root.get_command(context, name)
    return root


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
