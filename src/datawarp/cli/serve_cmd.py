"""`datawarp serve`: the read-only dashboard in a browser, on this machine by default."""

from __future__ import annotations

from typing import Annotated

import typer

from datawarp.cli.output import console
from datawarp.cli.state import state


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; 0.0.0.0 opens it to the network.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")
    ] = 8000,
) -> None:
    """Serve the dashboards, sources, alerts and scorecard as web pages, JSON and /metrics."""
    from datawarp.web.app import create_app
    from datawarp.web.server import bind, is_loopback, serve

    sock = bind(host, port)  # first: a taken port is reported before anything starts
    app_state = state(ctx)
    app = create_app(app_state.database(), app_state.settings())
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    console.print(f"DataWarp dashboard on http://{shown}:{bound_port}/ (Ctrl+C to stop)")
    if not is_loopback(host):
        console.print(
            "[yellow]Warning:[/] the dashboard has no login; anyone who can reach"
            f" {host}:{bound_port} can read the catalog's figures."
        )
    serve(app, sock)


def install(app: typer.Typer) -> None:
    app.command(epilog="Example: datawarp serve --port 8000")(serve)
