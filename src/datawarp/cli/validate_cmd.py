"""`datawarp validate`, `datawarp validation show` and `datawarp describe`."""

from __future__ import annotations

from typing import Annotated

import typer

from datawarp.cli.lifecycle_cmd import warn_if_deprecated
from datawarp.cli.output import console, print_json
from datawarp.cli.state import state
from datawarp.core.errors import NotFoundError

validation_app = typer.Typer(
    help="Past validation reports.", no_args_is_help=True, rich_markup_mode="rich"
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _print(load_id: int, results, json_output: bool, heading: str) -> None:
    from datawarp.pipeline.validation_report import rich_report, worst

    if json_output:
        print_json({"load_id": load_id, "status": worst(results), "results": results})
        return
    console.print(heading)
    console.print(rich_report(results))


def validate(
    ctx: typer.Context,
    source_code: Annotated[str, typer.Argument(help="A source with completed loads.")],
    load_id: Annotated[
        int | None, typer.Option("--load-id", help="Which load (default: the latest completed).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Run the validation gates again on loaded data; exit 1 when a gate fails."""
    from datawarp.pipeline.validation import revalidate
    from datawarp.pipeline.validation_report import worst

    app_state = state(ctx)
    settings = app_state.settings().validation.for_source(source_code)
    with app_state.writing(autocommit=True) as conn:
        found, results = revalidate(conn, source_code, load_id, settings)
        warn_if_deprecated(conn, source_code)
    _print(found, results, json_output, f"Validation of {source_code}, load {found}:")
    if worst(results) == "fail":
        raise typer.Exit(1)


@validation_app.command("show", epilog="Example: datawarp validation show 42 --json")
def show(ctx: typer.Context, load_id: int, json_output: JsonOption = False) -> None:
    """Print the latest validation report recorded for a load."""
    from datawarp.catalog.validation_results import read_results

    with state(ctx).reading() as conn:
        run_id, results = read_results(conn, load_id)
    if run_id is None:
        raise NotFoundError(f"No validation results for load {load_id}")
    _print(load_id, results, json_output, f"Validation of load {load_id} (run {run_id}):")


def describe(
    ctx: typer.Context,
    source_code: Annotated[str, typer.Argument(help="A registered source.")],
    column: Annotated[str, typer.Argument(help="A column of its table (clean name).")],
    text: Annotated[str, typer.Argument(help="The description.")],
    search_terms: Annotated[
        str | None, typer.Option("--search-terms", help="Comma-separated, e.g. trust,provider")
    ] = None,
) -> None:
    """Describe a column: stored in the catalog and as a PostgreSQL column comment."""
    from datawarp.catalog.column_metadata import describe_column

    terms = [t.strip() for t in search_terms.split(",") if t.strip()] if search_terms else None
    with state(ctx).writing() as conn:
        describe_column(conn, source_code, column, text, terms)
        warn_if_deprecated(conn, source_code)
    console.print(f"[green]✓[/] Described {source_code}.{column}")


def install(app: typer.Typer) -> None:
    app.command(epilog="Example: datawarp validate ae_attendances --load-id 42")(validate)
    app.add_typer(validation_app, name="validation")
    app.command(
        epilog="Example: datawarp describe ae_attendances org_code 'ODS code of the provider'"
        " --search-terms trust,provider"
    )(describe)
