"""`datawarp demo`: a first run on the embedded database, no configuration needed."""

from __future__ import annotations

from typing import Annotated

import typer

from datawarp.cli.output import console, listing, print_json
from datawarp.cli.state import state


def demo(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Register demo sources, generate NHS-style files, load them and show what landed.

    Safe to re-run: existing sources are kept and files already loaded are skipped.
    """
    from datawarp.catalog.info import server_info
    from datawarp.demo.run import run_demo
    from datawarp.pipeline.validation_report import MARKS

    app_state = state(ctx)
    database = app_state.ready_database()
    result = run_demo(database, app_state.settings())
    details = server_info(database)
    if json_output:
        print_json({"database": details, "result": result})
        raise typer.Exit(result.report.exit_code)
    where = "embedded" if details.embedded else "external"
    console.print(f"DataWarp demo on {where} PostgreSQL {details.server_version} ({details.url})")
    console.print(f"Generated files and manifest: {result.manifest}")
    loads = listing("Loads", "source", "period", "status", "rows", "validation", "detail")
    for o in result.report.outcomes:
        checks = ", ".join(
            f"{MARKS[status]} {count} {status}"
            for status in ("fail", "warn", "pass")
            if (count := sum(r.status == status for r in o.validation))
        )
        done = f"load {o.load_id} → {o.target}" if o.status == "completed" else ""
        detail = o.error or "; ".join(filter(None, [done, *o.warnings]))
        loads.add_row(o.source_code, o.period or "", o.status, f"{o.rows_loaded:,}", checks, detail)
    console.print(loads)
    tables = listing("What is in the warehouse", "table", "rows", "data columns", "periods")
    for t in result.tables:
        tables.add_row(t.table, f"{t.rows:,}", str(t.columns), ", ".join(t.periods))
    console.print(tables)
    console.print(
        "Next: datawarp validation show 2 · datawarp sources list · datawarp audit log\n"
        f"      datawarp inspect {result.manifest.parent / 'Monthly-AE-September-2025.xlsx'}"
    )
    raise typer.Exit(result.report.exit_code)


def install(app: typer.Typer) -> None:
    app.command(epilog="Example: datawarp demo")(demo)
