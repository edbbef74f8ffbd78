"""`duplicates`, `storage growth` and `test-loads purge`: keeping the warehouse tidy."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state
from datawarp.ops.formatting import format_bytes

if TYPE_CHECKING:
    from datawarp.ops.incidents import DuplicateReport, Growth

storage_app = typer.Typer(
    help="How the warehouse's tables grow.", no_args_is_help=True, rich_markup_mode="rich"
)
test_loads_app = typer.Typer(
    help="Tables of test loads (staging_test).", no_args_is_help=True, rich_markup_mode="rich"
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DUPLICATES_EXAMPLE = (
    "Example: datawarp duplicates adhd_mi   then   datawarp duplicates adhd_mi --fix --dry-run"
    "   then   datawarp duplicates adhd_mi --fix --yes"
)


def duplicates(
    ctx: typer.Context,
    source_code: Annotated[str, typer.Argument(help="A registered source code.")],
    fix: Annotated[
        bool, typer.Option("--fix", help="Delete later copies, keeping each row's earliest load.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --fix: show what would go, delete nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="With --fix: really delete.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Find identical data rows loaded more than once into a source's table.

    Rows are compared on their data columns only (not on which load, period or line they came
    from). --fix deletes the copies from later loads in one transaction and notes it for the
    DBAs; it needs --yes, so that a fix is always a decision made after reading the report
    (--fix --dry-run shows exactly what it would delete).
    """
    from datawarp.core.errors import BadInputError
    from datawarp.ops import incidents

    app_state = state(ctx)
    if fix and not (dry_run or yes):
        raise BadInputError(
            "--fix deletes rows: review them with --fix --dry-run, then run --fix --yes"
        )
    fixing = fix and not dry_run
    if fixing:
        timeout = app_state.settings().lock_timeout_seconds
        with app_state.writing() as conn:
            report = incidents.remove_duplicates(conn, source_code, lock_timeout=timeout)
    else:
        with app_state.reading() as conn:
            report = incidents.find_duplicates(conn, source_code)
    if json_output:
        print_json({**dataclasses.asdict(report), "removable_rows": report.removable_rows,
                    "other_period_rows": report.other_period_rows,
                    "removed_rows": report.removed_rows, "dry_run": not fixing})  # fmt: skip
        return
    _print_duplicates(report, fix=fixing)


def _print_duplicates(report: DuplicateReport, *, fix: bool) -> None:
    console.print(
        f"{report.table}: {report.total_rows:,} rows; {report.groups:,} distinct rows appear in"
        f" more than one load ({report.removable_rows:,} later copies)"
    )
    for item in report.later_copies:
        where = f"load {item['load_id']} [{item['period'] or '-'}]"
        console.print(f"  {where}: {item['rows']:,} later copies")
    if report.other_period_rows:
        console.print(
            f"[yellow]warning:[/] {report.other_period_rows:,} of them repeat a row of another"
            " period; if the file has no period column of its own they may be real data"
        )
    for example in report.examples:
        copies = ", ".join(
            f"load {row['load_id']} [{row['period'] or '-'}] row {row['row_number']}"
            for row in example["rows"]
        )
        console.print(f"  e.g. {example['copies']} copies: {escape(copies)}")
    if report.suggestion:
        console.print(f"[yellow]suggestion:[/] {escape(report.suggestion)}")
    if fix and report.removed_rows:
        console.print(
            f"[green]✓[/] Removed {report.removed_rows:,} rows from {report.table}; a note for"
            f" the DBAs waits in the notification outbox ({report.notification_id})"
        )
    elif fix:
        console.print("Nothing to remove.")
    elif report.removable_rows:
        console.print(f"--fix --yes would delete {report.removable_rows:,} rows")


@storage_app.command("growth", epilog="Example: datawarp storage growth --days 28")
def growth_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", help="Measure growth over this many days.")] = 7,
    json_output: JsonOption = False,
) -> None:
    """Sources growing more than 20% a week, their table size, and whether they hold rows
    loaded longer ago than their retention."""
    from datawarp.ops.incidents import GROWTH_LIMIT_PERCENT, storage_growth

    with state(ctx).reading() as conn:
        found = storage_growth(conn, days=days)
    if json_output:
        print_json({"days": days, "limit_percent_per_week": GROWTH_LIMIT_PERCENT,
                    "growing": found})  # fmt: skip
        return
    if not found:
        console.print(f"No source grew more than {GROWTH_LIMIT_PERCENT:g}% a week in {days} days.")
        return
    table = listing(
        f"{len(found)} source(s) growing more than {GROWTH_LIMIT_PERCENT:g}% a week",
        "source", "rows before", "rows now", "a week", "size", "mode", "retention", "past it",
    )  # fmt: skip
    for item in found:
        table.add_row(
            item.source_code, f"{item.rows_before or 0:,}", f"{item.rows_now:,}",
            f"{item.weekly_growth_percent:+g}%", format_bytes(item.total_bytes), item.load_mode,
            f"{item.retention_days} d", _past_retention(item),
        )  # fmt: skip
    console.print(table)


def _past_retention(item: Growth) -> str:
    if item.holds_data_past_retention is None:
        return ""
    if item.holds_data_past_retention:
        return f"yes, since {local_time(item.oldest_load_at)}"
    return "no"


@test_loads_app.command("purge", epilog="Example: datawarp test-loads purge --older-than 2w")
def purge_command(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age limit: hours, days or weeks (48h, 7d, 2w).")
    ] = "7d",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be dropped; drop nothing.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Drop tables of test loads (staging_test) older than a limit; staging is never touched.

    A table's age is its creation time from the DDL log, else its newest loaded row, else its
    newest load. Tables nothing dates are kept. Exit code 1 if a table could not be dropped.
    """
    from datawarp.ops.incidents import parse_age, purge_test_loads

    limit = parse_age(older_than)
    with state(ctx).writing(autocommit=True) as conn:
        found = purge_test_loads(conn, limit, dry_run=dry_run)
    over_limit = [item for item in found if item.created_at is not None]
    gone = [item for item in over_limit if item.dropped]
    freed = sum(item.total_bytes for item in gone)
    if json_output:
        print_json({"older_than": older_than, "dry_run": dry_run, "bytes_freed": freed,
                    "tables": found})  # fmt: skip
    elif not found:
        console.print(f"No staging_test table is older than {older_than.strip()}.")
    else:
        _print_purge(found)
        if dry_run:
            total = sum(item.total_bytes for item in over_limit)
            console.print(
                f"Dry run: {len(over_limit)} table(s) would go, freeing {format_bytes(total)}"
            )
        else:
            console.print(f"{len(gone)} table(s) dropped, {format_bytes(freed)} freed")
    raise typer.Exit(0 if dry_run or len(gone) == len(over_limit) else 1)


def _print_purge(found) -> None:
    for item in found:
        mark = "[green]✓[/] dropped" if item.dropped else f"kept ({item.kept_because})"
        age = "" if item.age_days is None else f", {item.age_days:g} days old ({item.dated_by})"
        console.print(f"{mark} {item.table}: {format_bytes(item.total_bytes)}{age}")


def install(app: typer.Typer) -> None:
    app.command("duplicates", epilog=DUPLICATES_EXAMPLE)(duplicates)
    app.add_typer(storage_app, name="storage")
    app.add_typer(test_loads_app, name="test-loads")
