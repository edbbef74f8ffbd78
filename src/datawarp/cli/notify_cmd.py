"""`datawarp notify send|list`: deliver the notification outbox, and see what it holds."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.markup import escape

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state

notify_app = typer.Typer(
    help="The notification outbox: deliver it by e-mail and webhook, list what it holds.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@notify_app.command("send", epilog="Example: datawarp notify send   (from cron, every 5 minutes)")
def send_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Deliver every notification due now; exit 1 if a delivery failed (it is retried later)."""
    from datawarp.ops.notify import deliver_pending

    app_state = state(ctx)
    report = deliver_pending(app_state.ready_database(), app_state.settings())
    if json_output:
        print_json({**dataclasses.asdict(report), "ok": report.ok, "summary": report.summary})
    else:
        mark = "[green]✓[/]" if report.configured and report.ok else "[yellow]![/]"
        console.print(f"{mark} {escape(report.summary)}")
        for error in report.errors:
            typer.echo(f"Error: {error}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@notify_app.command("list", epilog="Example: datawarp notify list --pending --limit 20")
def list_command(
    ctx: typer.Context,
    pending: Annotated[bool, typer.Option("--pending", help="Only those not yet sent.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Newest N notifications.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """List the notifications in the outbox, newest first, with their delivery state."""
    from datawarp.catalog import outbox

    with state(ctx).reading() as conn:
        found = outbox.list_entries(conn, pending_only=pending, limit=limit)
    if json_output:
        print_json(found)
        return
    table = listing(f"{len(found)} notification(s)", "id", "created", "kind", "recipient",
                    "source", "subject", "status", "delivered by", "attempts",
                    "next attempt / sent", "last error")  # fmt: skip
    for n in found:
        status = "[green]sent[/]" if n.status == "sent" else "[yellow]pending[/]"
        when = n.sent_at if n.status == "sent" else n.next_attempt_at
        table.add_row(str(n.notification_id), local_time(n.created_at), n.kind,
                      escape(n.recipient), n.source_code or "", escape(n.subject), status,
                      ", ".join(n.delivered_by), str(n.attempts), local_time(when),
                      escape(n.last_error or ""))  # fmt: skip
    console.print(table)


def install(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
