"""`datawarp report`: the four dashboards, open alerts, validation and the scorecard in one
report, as text, as a self-contained HTML page, or as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from datawarp.cli.output import console, print_json
from datawarp.cli.state import state


def report(
    ctx: typer.Context,
    days: Annotated[
        int, typer.Option("--days", min=1, max=3650, help="Window in days for loads and changes.")
    ] = 7,
    html: Annotated[
        Path | None,
        typer.Option("--html", dir_okay=False, help="Write the HTML page (charts inline) here."),
    ] = None,
    email: Annotated[
        bool, typer.Option("--email", help="Send it to the DBA list (dba_emails under [notify]).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Build the monitoring report; without --html or --json, print its plain text.

    With --email the report goes to every address of dba_emails as one e-mail with a
    plain-text and an HTML part (the weekly maintenance sends it this way).
    """
    from datawarp.ops.report import build_report

    app_state = state(ctx)
    with app_state.reading() as conn:
        built = build_report(conn, app_state.settings(), days=days)
    if html is not None:
        html.write_text(built.html, encoding="utf-8")
    if email:
        _send(app_state.settings(), built)
    if json_output:
        print_json({"subject": built.subject, **vars(built.data)})
    elif html is not None:
        console.print(f"Report written to {html} ({built.subject})")
    else:
        typer.echo(built.text, nl=False)


def _send(settings, built) -> None:
    from datawarp.core.errors import DataWarpError
    from datawarp.ops.smtp import SmtpFailure, send_report

    recipients = settings.notify.dba_emails
    try:
        send_report(settings.notify, recipients, built.subject, built.text, built.html)
    except SmtpFailure as exc:
        failure = DataWarpError(f"The report was not sent: {exc}")
        failure.exit_code = 1
        raise failure from None
    typer.echo(f"Report e-mailed to {', '.join(recipients)}", err=True)


def install(app: typer.Typer) -> None:
    app.command(epilog="Example: datawarp report --days 7 --html report.html")(report)
