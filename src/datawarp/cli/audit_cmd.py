"""`datawarp audit log|verify`: the trigger-written, hash-chained audit trail."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state

audit_app = typer.Typer(
    help="The immutable audit trail of registry changes.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@audit_app.command("log", epilog="Example: datawarp audit log adhd_mi --limit 20")
def log_command(
    ctx: typer.Context,
    source_code: Annotated[str | None, typer.Argument(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N entries.")] = 200,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show who changed what and when, including changes made outside DataWarp."""
    from datawarp.catalog import audit

    with state(ctx).reading() as conn:
        entries = audit.read_audit_log(conn, source_code, limit=limit)
    if json_output:
        print_json(entries)
        return
    table = listing(
        f"Audit log ({len(entries)} entries)",
        "id",
        "when",
        "table",
        "key",
        "action",
        "by",
        "client",
        "changes",
    )
    for e in entries:
        changes = "; ".join(
            f"{field}: {json.dumps(old)} → {json.dumps(new)}"
            if e.action == "UPDATE"
            else f"{field}={json.dumps(new if new is not None else old)}"
            for field, (old, new) in e.changed_fields().items()
        )
        who = e.changed_by_db_user + (f" ({e.changed_by_os_user})" if e.changed_by_os_user else "")
        table.add_row(
            str(e.audit_id),
            local_time(e.changed_at),
            e.table_name.removeprefix("datawarp."),
            e.record_key or "",
            e.action,
            who,
            e.client_application or "",
            changes,
        )
    console.print(table)


@audit_app.command("verify", epilog="Example: datawarp audit verify --json")
def verify_command(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Recompute the hash chain; exit 1 and name the first broken entry if it was tampered with."""
    from datawarp.catalog import audit

    with state(ctx).reading() as conn:
        result = audit.verify_chain(conn)
    if json_output:
        print_json(result)
    elif result.ok:
        console.print(
            f"[green]✓[/] Audit chain intact: {result.rows_checked} entries; head {result.head_hash}"
        )
    else:
        console.print(f"[red]✗ Audit chain broken:[/] {result.problem}")
    if not result.ok:
        raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
