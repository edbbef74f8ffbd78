"""`datawarp db info|status|upgrade|stop`: the server and the catalog migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from datawarp.cli.output import console, field_table, listing, local_time, print_json
from datawarp.cli.state import state

db_app = typer.Typer(
    help="The PostgreSQL server DataWarp uses and its catalog migrations.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@db_app.command("info", epilog="Example: datawarp db info --json")
def info_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Which server is used: version, where, embedded or not (passwords are masked)."""
    from datawarp.catalog.info import server_info

    details = server_info(state(ctx).database())
    if json_output:
        print_json(details)
        return
    table = field_table("DataWarp database")
    table.add_row("server", "embedded PostgreSQL" if details.embedded else "external PostgreSQL")
    table.add_row("version", details.server_version)
    table.add_row("url", details.url)
    table.add_row("host / socket", f"{details.host}:{details.port}")
    table.add_row("database", details.database)
    table.add_row("user", details.user)
    if details.data_dir:
        table.add_row("data folder", details.data_dir)
    table.add_row(
        "catalog", f"migration {details.catalog_version}" if details.catalog_version else "empty"
    )
    console.print(table)


@db_app.command("status", epilog="Example: datawarp db status")
def status_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List catalog migrations, applied and pending."""
    from datawarp.catalog import migrate

    with state(ctx).database().connect(autocommit=True) as conn:
        states = migrate.migration_status(conn)
    if json_output:
        print_json([{**s.__dict__, "status": s.status} for s in states])
        return
    table = listing("Catalog migrations", "version", "name", "status", "applied at")
    for s in states:
        table.add_row(f"{s.version:04d}", s.name, s.status, local_time(s.applied_at))
    console.print(table)


@db_app.command("upgrade", epilog="Example: datawarp db upgrade")
def upgrade_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Apply pending catalog migrations (also done automatically on first use)."""
    from datawarp.catalog import migrate

    app_state = state(ctx)
    with app_state.database().connect(autocommit=True) as conn:
        app_state.require_role(conn)
        applied = migrate.upgrade(conn)
    if json_output:
        print_json([{"version": m.version, "name": m.name} for m in applied])
    elif applied:
        for m in applied:
            console.print(f"[green]✓[/] applied {m.version:04d}_{m.name}")
    else:
        console.print("Catalog is up to date; nothing to apply.")


@db_app.command("stop", epilog="Example: datawarp db stop")
def stop_command(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL server (it restarts on the next command)."""
    from datawarp.catalog.connect import stop_embedded

    settings = state(ctx).settings()
    if settings.database_url:
        console.print("An external server is configured; DataWarp does not stop it.")
        return
    stopped = stop_embedded(settings.embedded_data_dir)
    console.print("Embedded server stopped." if stopped else "Embedded server was not running.")


def install(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
