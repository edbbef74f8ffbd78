"""`deprecate`, `undeprecate`, `lifecycle`, `archive` and `retention`: a source's end of life.

``warn_if_deprecated`` is for every command that names a source: ``sources show`` calls it;
``validate`` and ``describe`` (cli/validate_cmd.py) should too.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from datawarp.cli.output import console, listing, print_json, print_result
from datawarp.cli.state import AppState, state
from datawarp.ops.formatting import format_bytes

if TYPE_CHECKING:
    import psycopg

    from datawarp.ops.archive_store import ArchiveStore

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SourceArgument = Annotated[str, typer.Argument(help="A registered source code.")]


def warn_if_deprecated(conn: psycopg.Connection, code: str) -> None:
    """One line on stderr (JSON on stdout stays clean) when the source is deprecated."""
    from datawarp.catalog.archives import source_row
    from datawarp.core.errors import NotFoundError

    try:
        row = source_row(conn, code)
    except NotFoundError:
        return
    if row["status"] == "deprecated":
        typer.echo(
            f"Warning: source {code} is deprecated ({row['deprecation_reason']}); it will be"
            f" archived on or after {row['archive_after']}",
            err=True,
        )


def archive_store(app_state: AppState) -> ArchiveStore:
    from datawarp.ops.archive_store import ArchiveStore

    settings = app_state.settings()
    return ArchiveStore.at(settings.lifecycle.archive_location(settings.home))


# --- deprecate / undeprecate -----------------------------------------------------------------


def deprecate(
    ctx: typer.Context,
    source_code: SourceArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why it is deprecated (required).")],
    archive_date: Annotated[
        datetime | None,
        typer.Option(
            "--archive-date",
            formats=["%Y-%m-%d"],
            help="Archive on or after this day (default: today + deprecation_grace_days).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Deprecate an active source: still loaded and queryable, archived after its grace period."""
    from datawarp.ops.lifecycle import deprecate as run

    app_state = state(ctx)
    day = archive_date.date() if archive_date else None
    with app_state.writing() as conn:
        row = run(conn, source_code, reason, app_state.settings(), archive_date=day)
    if json_output:
        print_json(row)
        return
    console.print(
        f"[green]✓[/] Deprecated [bold]{source_code}[/]: {escape(row['deprecation_reason'])};"
        f" archive on or after {row['archive_after']}"
    )


def undeprecate(ctx: typer.Context, source_code: SourceArgument, json_output: JsonOption = False):
    """Return a deprecated source to active."""
    from datawarp.ops.lifecycle import undeprecate as run

    with state(ctx).writing() as conn:
        row = run(conn, source_code)
    if json_output:
        print_json(row)
        return
    console.print(f"[green]✓[/] {source_code} is active again")


# --- lifecycle -------------------------------------------------------------------------------

lifecycle_app = typer.Typer(
    help="Which sources look ready to deprecate.", no_args_is_help=True, rich_markup_mode="rich"
)


@lifecycle_app.command("candidates", epilog="Example: datawarp lifecycle candidates --json")
def candidates_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Active sources whose publication stopped, or whose table nobody reads."""
    from datawarp.ops.lifecycle import candidates

    app_state = state(ctx)
    with app_state.reading() as conn:
        found = candidates(conn, app_state.settings())
    if json_output:
        print_json(found)
        return
    table = listing(f"{len(found)} candidate(s) for deprecation", "source", "owner", "why")
    for c in found:
        table.add_row(c.source_code, c.owner, escape("; ".join(c.reasons)))
    console.print(table)


@lifecycle_app.command("sample-usage", epilog="Example: datawarp lifecycle sample-usage")
def sample_usage_command(ctx: typer.Context) -> None:
    """Record how often each table is read (weekly, from cron or the maintenance run)."""
    from datawarp.ops.lifecycle import sample_usage

    with state(ctx).writing() as conn:
        count = sample_usage(conn)
    console.print(f"[green]✓[/] Sampled the reads of {count} table(s)")


# --- archive ---------------------------------------------------------------------------------


class _ArchiveGroup(TyperGroup):
    """`datawarp archive CODE` archives; `purge` and `restore` are subcommands beside it."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["source", *args]
        return super().parse_args(ctx, args)


archive_app = typer.Typer(
    cls=_ArchiveGroup,
    help="Archive a deprecated source to verified Parquet: datawarp archive CODE [--force]"
    " [--drop-after-export]; then purge or restore it.",
    epilog="Example: datawarp archive ae_2019   then   datawarp archive purge ae_2019",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def print_archive(record: dict, json_output: bool, verb: str = "Archived") -> None:
    if json_output:
        print_json(record)
        return
    where = "dropped" if record.get("table_dropped_at") else f"kept as {record['archive_table']}"
    console.print(
        f"[green]✓[/] {verb} {record['source_table']}: {record['row_count']} rows verified in"
        f" {escape(record['path'])} ({format_bytes(record['file_bytes'])}, sha256"
        f" {record['file_sha256'][:12]}…); table {where}"
    )


@archive_app.command(
    "source", hidden=True, epilog="Example: datawarp archive ae_2019 --drop-after-export"
)
def archive_command(
    ctx: typer.Context,
    source_code: Annotated[str, typer.Argument(help="A deprecated source code.")],
    force: Annotated[
        bool, typer.Option("--force", help="Archive before its archive date.")
    ] = False,
    drop_after_export: Annotated[
        bool, typer.Option("--drop-after-export", help="Drop the archive table once verified.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Archive a deprecated source: Parquet, verified, its table moved to the archive schema."""
    from datawarp.ops.lifecycle import archive_source

    app_state = state(ctx)
    store = archive_store(app_state)
    with app_state.writing() as conn:
        record = archive_source(conn, source_code, store, app_state.settings(), force=force,
                                drop_after_export=drop_after_export)  # fmt: skip
    print_archive(record, json_output)


@archive_app.command("purge", epilog="Example: datawarp archive purge ae_2019")
def purge_command(
    ctx: typer.Context, source_code: SourceArgument, json_output: JsonOption = False
) -> None:
    """Drop a source's archive table once its Parquet file is checked against its record."""
    from datawarp.ops.lifecycle import purge

    with state(ctx).writing() as conn:
        record = purge(conn, source_code)
    print_result(record, json_output, lambda r: f"[green]✓[/] Dropped {r['archive_table']};"
                 f" the data stays in {escape(r['path'])}")  # fmt: skip


@archive_app.command("verify", epilog="Example: datawarp archive verify ae_2019")
def verify_command(
    ctx: typer.Context, source_code: SourceArgument, json_output: JsonOption = False
) -> None:
    """Check a source's archive file end to end: its SHA-256, then its rows loaded back into the
    database against the checksum the server computed from the table (nothing is kept)."""
    from datawarp.ops.lifecycle import verify_archive

    with state(ctx).writing() as conn:
        result = verify_archive(conn, source_code)
    print_result(result, json_output, lambda r: f"[green]✓[/] {escape(r['path'])}: SHA-256 as"
                 f" recorded; {r['rows']} rows loaded back match the table's checksum"
                 f" {r['content_checksum']}")  # fmt: skip


@archive_app.command(
    "restore", epilog="Example: datawarp archive restore ae_2019 --into staging.ae_2019_back"
)
def restore_command(
    ctx: typer.Context,
    source_code: SourceArgument,
    into: Annotated[str, typer.Option("--into", help="SCHEMA.TABLE to create (must not exist).")],
    json_output: JsonOption = False,
) -> None:
    """Bring archived rows back into a new table (the source's status does not change)."""
    from datawarp.ops.lifecycle import restore

    with state(ctx).writing() as conn:
        result = restore(conn, source_code, into)
    if json_output:
        print_json(result)
        return
    console.print(
        f"[green]✓[/] Restored {result['rows']} rows of {source_code} into {result['table']}"
        f" from {escape(result['from'])}"
    )


# --- retention -------------------------------------------------------------------------------

retention_app = typer.Typer(
    help="Move data past its retention to Parquet.", no_args_is_help=True, rich_markup_mode="rich"
)


@retention_app.command(
    "apply", epilog="Example: datawarp retention apply --source ae_attendances --dry-run"
)
def retention_command(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would move.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Export periods older than each source's retention_days to Parquet, then delete them."""
    from datawarp.ops.retention import apply_retention

    app_state = state(ctx)
    store = archive_store(app_state)
    with app_state.writing() as conn:
        reports = apply_retention(conn, store, app_state.settings(), source=source,
                                  dry_run=dry_run)  # fmt: skip
    if json_output:
        print_json(reports)
        return
    verb = "would move" if dry_run else "moved"
    table = listing(f"Retention ({verb})", "source", "kept from", "periods", "rows", "size", "")
    for r in reports:
        rows = sum(p["row_count"] for p in r.periods)
        size = sum(p["bytes"] or 0 for p in r.periods)
        labels = ", ".join(p["period"] or "(no period)" for p in r.periods)
        table.add_row(
            r.source_code, str(r.cutoff), labels, str(rows), format_bytes(size), r.note or ""
        )
    console.print(table)


def install(app: typer.Typer) -> None:
    app.command(
        epilog="Example: datawarp deprecate ae_2019 --reason 'Replaced by ae_attendances'"
        " --archive-date 2026-01-31"
    )(deprecate)
    app.command(epilog="Example: datawarp undeprecate ae_2019")(undeprecate)
    app.add_typer(lifecycle_app, name="lifecycle")
    app.add_typer(archive_app, name="archive")
    app.add_typer(retention_app, name="retention")
