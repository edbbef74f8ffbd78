"""`datawarp schema-changes list|show|approve|reject`: reviewing schema drift."""

from __future__ import annotations

from typing import Annotated

import typer

from datawarp.cli.output import console, field_table, listing, local_time, print_json
from datawarp.cli.state import state

schema_app = typer.Typer(
    help="Review schema changes that new files propose: many new columns wait for a DBA.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why (kept with the decision).")]


def _columns_text(change: dict) -> str:
    parts = []
    for column in change["columns"]:
        if "old_type" in column:
            parts.append(f"{column['name']} {column['old_type']}→{column['type']}")
        else:
            parts.append(f"{column['name']} {column['type']}")
    return ", ".join(parts)


@schema_app.command("list", epilog="Example: datawarp schema-changes list --status pending")
def list_command(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, approved, rejected or auto.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List proposed and applied schema changes."""
    from datawarp.catalog import schema_changes

    with state(ctx).reading() as conn:
        changes = schema_changes.list_changes(conn, status)
    if json_output:
        print_json(changes)
        return
    table = listing(
        f"{len(changes)} schema change(s)",
        "id",
        "status",
        "kind",
        "table",
        "load",
        "columns",
        "held rows",
        "when",
    )
    for c in changes:
        table.add_row(
            str(c["change_id"]), c["status"], c["kind"],
            f"{c['target_schema']}.{c['target_table']}", str(c["load_id"] or ""),
            _columns_text(c), str(c["held_rows"]), local_time(c["requested_at"]),
        )  # fmt: skip
    console.print(table)


@schema_app.command("show", epilog="Example: datawarp schema-changes show 7")
def show_command(ctx: typer.Context, change_id: int, json_output: JsonOption = False) -> None:
    """Show one schema change with its columns and decision."""
    from datawarp.catalog import schema_changes

    with state(ctx).reading() as conn:
        change = schema_changes.get_change(conn, change_id)
    if json_output:
        print_json(change)
        return
    table = field_table(f"Schema change {change_id}")
    for key, value in change.items():
        shown = local_time(value) if key.endswith("_at") else value
        if key == "columns":
            shown = _columns_text(change)
        table.add_row(key, "" if shown is None else str(shown))
    console.print(table)


@schema_app.command("approve", epilog="Example: datawarp schema-changes approve 7 --note ok")
def approve_command(ctx: typer.Context, change_id: int, note: NoteOption = None) -> None:
    """Add the held-back columns and backfill them from the values kept at load time."""
    from datawarp.catalog import schema_changes

    with state(ctx).writing() as conn:
        rows = schema_changes.approve(conn, change_id, note)
    console.print(f"[green]✓[/] Approved schema change {change_id}; {rows:,} rows backfilled")


@schema_app.command("reject", epilog="Example: datawarp schema-changes reject 7 --note 'typo'")
def reject_command(ctx: typer.Context, change_id: int, note: NoteOption = None) -> None:
    """Refuse the change; the held-back values are discarded."""
    from datawarp.catalog import schema_changes

    with state(ctx).writing() as conn:
        schema_changes.reject(conn, change_id, note)
    console.print(f"Rejected schema change {change_id}")


def install(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema-changes")
