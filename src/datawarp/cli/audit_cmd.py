"""`datawarp audit log|verify`: the trigger-written, hash-chained audit trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

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
        # The login and the address are the server's; the OS user is what the client claimed.
        who = e.changed_by_db_user + (f" (os claims {e.changed_by_os_user})"
                                      if e.changed_by_os_user else "")  # fmt: skip
        who += f" from {e.client_addr}" if e.client_addr else " (local socket)"
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


@audit_app.command("anchor", epilog="Example: datawarp audit anchor --out /secure/anchor.json")
def anchor_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the anchor to this file.")
    ] = None,
) -> None:
    """Print the audit chain's head (entry, hash, count, time) to keep outside the database;
    `audit verify --anchor FILE` later proves nothing up to it changed."""
    from datawarp.catalog import audit

    with state(ctx).reading() as conn:
        head = audit.anchor(conn)
    text = json.dumps(head, default=str, indent=1)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    console.print(f"[green]✓[/] Anchor of entry {head['audit_id']} written to {escape(str(out))}")


@audit_app.command("verify", epilog="Example: datawarp audit verify --anchor /secure/anchor.json")
def verify_command(
    ctx: typer.Context,
    anchor_file: Annotated[
        Path | None, typer.Option("--anchor", help="An anchor kept from `audit anchor`.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Recompute the audit log's and the load history's hash chains and look for registry rows
    changed with the audit triggers off; exit 1 naming the first problem. With --anchor, also
    fail if anything up to the anchored entries changed or was removed."""
    from datawarp.catalog import audit
    from datawarp.core.errors import BadInputError

    kept = None
    if anchor_file is not None:
        try:
            kept = json.loads(anchor_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInputError(f"Cannot read the anchor {anchor_file}: {exc}") from None
        kept = kept if isinstance(kept, dict) else {}  # then named as lacking its fields
    with state(ctx).reading() as conn:
        result, loads = audit.verify_all(conn, kept)
        gaps = audit.identity_gaps(conn)
    if json_output:
        print_json({**result.to_dict(), "finished_loads": loads.rows_checked, **gaps})
    elif result.ok:
        console.print(
            f"[green]✓[/] Audit chain intact: {result.rows_checked} entries; head {result.head_hash}"
        )
        console.print(f"[green]✓[/] Load history intact: {loads.rows_checked} finished loads")
        if gaps["audit_ids_unused"] or gaps["load_ids_unused"]:
            console.print(
                f"Note: {gaps['audit_ids_unused']} audit and {gaps['load_ids_unused']} load ids"
                " were never used or are gone (rolled-back transactions leave such gaps)"
            )
    else:
        console.print(f"[red]✗ Audit chain broken:[/] {result.problem}")
    if not result.ok:
        raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
