"""`datawarp orphans [adopt | archive]`: staging tables no source owns, and sources whose table
is gone."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from datawarp.cli.output import console, listing, local_time, print_json
from datawarp.cli.state import state

orphans_app = typer.Typer(
    help="Orphans (staging tables no registered source owns) and ghosts (sources whose table"
    " is gone). The DBA is notified the first time an orphan is seen.",
    rich_markup_mode="rich",
    invoke_without_command=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TableArgument = Annotated[str, typer.Argument(help="The orphan: staging.TABLE (or TABLE).")]


@orphans_app.callback(epilog="Example: datawarp orphans --json")
def orphans_default(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List orphans and ghosts (no subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    from datawarp.ops.orphans import find_orphans

    with state(ctx).writing() as conn:
        report = find_orphans(conn)
    if json_output:
        print_json(report)
        return
    table = listing(f"{len(report.orphans)} orphan table(s)", "table", "created", "by", "rows",
                    "bytes", "clues")  # fmt: skip
    unknown = "?" if report.ddl_log_installed else "unknown (no DDL log)"
    for o in report.orphans:
        table.add_row(f"{o.schema_name}.{escape(o.table_name)}",
                      local_time(o.created_at) or unknown, escape(o.created_by or "?"),
                      str(o.row_count), str(o.total_bytes), escape("; ".join(o.clues)))  # fmt: skip
    console.print(table)
    ghosts = listing(f"{len(report.ghosts)} ghost source(s)", "source", "status", "owner",
                     "missing table", "dropped", "by")  # fmt: skip
    for g in report.ghosts:
        ghosts.add_row(g.source_code, g.status, g.owner, g.table_name, local_time(g.dropped_at),
                       g.dropped_by or "")  # fmt: skip
    console.print(ghosts)
    if report.newly_seen:
        console.print(f"Notified the DBA of {len(report.newly_seen)} new orphan(s)")


@orphans_app.command(
    "adopt",
    epilog="Example: datawarp orphans adopt staging.ae_copy --as ae_copy --owner a@nhs.net"
    " --purpose 'Ad hoc A&E extract' --publication 'A&E Attendances' --domain 'Urgent care'",
)
def adopt_command(
    ctx: typer.Context,
    table: TableArgument,
    code: Annotated[str, typer.Option("--as", help="The source code to register it as.")],
    owner: Annotated[str, typer.Option(help="Owner's e-mail.")],
    purpose: Annotated[str, typer.Option(help="Why we keep it (1-500 characters).")],
    publication: Annotated[str, typer.Option(help="Publication name.")],
    domain: Annotated[str, typer.Option(help="Domain, e.g. 'Clinical - Mental Health'.")],
    json_output: JsonOption = False,
) -> None:
    """Register an orphan as a source; it becomes staging.tbl_CODE."""
    from datawarp.ops.orphans import adopt

    with state(ctx).writing() as conn:
        record = adopt(conn, table, code, owner=owner, purpose=purpose, publication=publication,
                       domain=domain)  # fmt: skip
    if json_output:
        print_json(record)
        return
    console.print(f"[green]✓[/] Adopted {escape(table)} as [bold]{code}[/] (staging.tbl_{code})")


@orphans_app.command("archive", epilog="Example: datawarp orphans archive staging.old_copy")
def archive_command(ctx: typer.Context, table: TableArgument, json_output: JsonOption = False):
    """Archive an orphan: verified Parquet, the table moved to the archive schema."""
    from datawarp.cli.lifecycle_cmd import archive_store, print_archive
    from datawarp.ops.orphans import archive_orphan

    app_state = state(ctx)
    store = archive_store(app_state)
    with app_state.writing() as conn:
        record = archive_orphan(conn, table, store, app_state.settings())
    print_archive(record, json_output)


def install(app: typer.Typer) -> None:
    app.add_typer(orphans_app, name="orphans")
