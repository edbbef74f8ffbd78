"""`datawarp alerts [list] | check | ack | resolve`: alert state from the terminal and cron."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from datawarp.cli.alert_check import check_and_deliver, summary_line
from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state

alerts_app = typer.Typer(
    help="Alerts: failures in a row, slow loads, new tables, stale or overdue sources, failed"
    " validation, old schema reviews.",
    rich_markup_mode="rich",
    invoke_without_command=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SEVERITY_STYLE = {"critical": "red", "warning": "yellow", "info": "cyan"}


@alerts_app.callback()
def alerts_default(ctx: typer.Context) -> None:
    """Alerts (no subcommand: list them)."""
    if ctx.invoked_subcommand is None:
        list_command(ctx, open_only=False, json_output=False)


@alerts_app.command("list", epilog="Example: datawarp alerts list --open --json")
def list_command(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Open and acknowledged only.")] = False,
    json_output: JsonOption = False,
) -> None:
    """List alerts, live ones first, the most severe first."""
    from datawarp.catalog.alerts import list_alerts

    with state(ctx).reading() as conn:
        found = list_alerts(conn, open_only=open_only)
    if json_output:
        print_json(found)
        return
    table = listing(f"{len(found)} alert(s)", "id", "severity", "status", "count", "last seen",
                    "message")  # fmt: skip
    for a in found:
        style = SEVERITY_STYLE.get(a.severity, "")
        table.add_row(str(a.alert_id), f"[{style}]{a.severity}[/]", a.status, str(a.occurrences),
                      local_time(a.last_seen_at), escape(a.message))  # fmt: skip
    console.print(table)


@alerts_app.command("check", epilog="Example: datawarp alerts check   (from cron, hourly)")
def check_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Evaluate every alert rule now, then deliver the notifications waiting in the outbox."""
    check, delivery = check_and_deliver(state(ctx))
    if json_output:
        print_json({"check": check, "delivery": delivery})
        return
    console.print(summary_line(check))


@alerts_app.command("ack", epilog="Example: datawarp alerts ack 12 --note 'NHSE delayed it'")
def ack_command(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="The alert's id (datawarp alerts list).")],
    note: Annotated[str, typer.Option("--note", help="Why it is acknowledged (required).")],
) -> None:
    """Acknowledge an open alert: it stays live, with your note, until its condition clears."""
    from datawarp.core.errors import BadInputError
    from datawarp.ops.alerts import acknowledge

    if not note.strip():
        raise BadInputError("Invalid --note '': say why the alert is acknowledged")
    with state(ctx).writing(autocommit=True) as conn:
        acknowledge(conn, alert_id, note.strip())
    console.print(f"[green]✓[/] Acknowledged alert {alert_id}")


@alerts_app.command("resolve", epilog="Example: datawarp alerts resolve 12")
def resolve_command(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="The alert's id (datawarp alerts list).")],
) -> None:
    """Resolve an alert by hand (if its condition still holds, the next check raises it again)."""
    from datawarp.ops.alerts import resolve

    with state(ctx).writing(autocommit=True) as conn:
        resolve(conn, alert_id)
    console.print(f"[green]✓[/] Resolved alert {alert_id}")


def install(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
