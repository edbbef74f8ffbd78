"""`datawarp demo`: a first run on the embedded database, no configuration needed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from datawarp.cli.output import console, print_json
from datawarp.cli.state import state
from datawarp.db.info import server_info
from datawarp.demo import run_demo


def demo(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Register the demo sources and show them (safe to re-run)."""
    app_state = state(ctx)
    database = app_state.database()
    with database.connect() as conn:
        result = run_demo(conn)
    details = server_info(database)
    if json_output:
        print_json({"database": details, "result": result})
        return
    where = "embedded" if details.embedded else "external"
    console.print(f"DataWarp demo on {where} PostgreSQL {details.server_version} ({details.url})")
    table = Table(title="Demo sources")
    for column in ("source", "status", "publication", "mode", "this run"):
        table.add_column(column)
    for s in result.sources:
        fresh = "new" if s.source_code in result.registered else "existing"
        table.add_row(s.source_code, s.status, s.publication, s.load_mode, fresh)
    console.print(table)
    console.print("Next: datawarp sources show adhd_mi   ·   datawarp audit log")


def install(app: typer.Typer) -> None:
    app.command(epilog="Example: datawarp demo")(demo)
