"""`register`, `update` and `sources list|show`: the source registry from the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from datawarp.cli.output import console, field_table, listing, local_time, print_json
from datawarp.cli.state import state
from datawarp.core.vocabulary import LoadMode, SourceStatus

sources_app = typer.Typer(
    help="List and show registered sources.", no_args_is_help=True, rich_markup_mode="rich"
)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
REGISTER_EXAMPLE = (
    "Example: datawarp register adhd_mi --publication 'ADHD Management Information'"
    " --domain 'Clinical - Mental Health' --owner someone@nhs.net"
    " --purpose 'Track ADHD referral waiting times'"
)


def register(
    ctx: typer.Context,
    source_code: Annotated[
        str, typer.Argument(help="lowercase_code: letters, digits, _; starts with a letter.")
    ],
    publication: Annotated[str, typer.Option(help="Publication name, as NHS England titles it.")],
    domain: Annotated[str, typer.Option(help="Domain, e.g. 'Clinical - Mental Health'.")],
    owner: Annotated[str, typer.Option(help="Owner's e-mail; alerts about this source go here.")],
    purpose: Annotated[str, typer.Option(help="Why we load it (1-500 characters).")],
    retention_days: Annotated[
        int, typer.Option(help="Keep loaded data this many days (1-36500).")
    ] = 365,
    load_mode: Annotated[
        LoadMode, typer.Option(case_sensitive=False, help="APPEND adds; REPLACE swaps a period.")
    ] = LoadMode.APPEND,
    validation_required: Annotated[
        str, typer.Option(metavar="true|false", help="A failed validation gate rolls back.")
    ] = "true",
    json_output: JsonOption = False,
) -> None:
    """Register a source before any of its data may land."""
    from datawarp.catalog import registry

    with state(ctx).writing() as conn:
        record = registry.register_source(
            conn,
            source_code=source_code,
            publication=publication,
            domain=domain,
            owner=owner,
            purpose=purpose,
            retention_days=retention_days,
            load_mode=load_mode.value,
            validation_required=registry.parse_bool(validation_required, "validation_required"),
        )
    if json_output:
        print_json(record)
    else:
        console.print(
            f"[green]✓[/] Registered [bold]{record.source_code}[/] ({record.publication});"
            f" status {record.status}, owner {record.owner}"
        )


def update(
    ctx: typer.Context,
    source_code: Annotated[str, typer.Argument(help="A registered source code.")],
    publication: Annotated[str | None, typer.Option(help="New publication name.")] = None,
    domain: Annotated[str | None, typer.Option(help="New domain.")] = None,
    owner: Annotated[str | None, typer.Option(help="New owner e-mail.")] = None,
    purpose: Annotated[str | None, typer.Option(help="New purpose (1-500 characters).")] = None,
    retention_days: Annotated[int | None, typer.Option(help="1-36500 days.")] = None,
    load_mode: Annotated[LoadMode | None, typer.Option(case_sensitive=False)] = None,
    validation_required: Annotated[str | None, typer.Option(metavar="true|false")] = None,
    json_output: JsonOption = False,
) -> None:
    """Change the editable fields of a registered source (every change is audited)."""
    from datawarp.catalog import registry
    from datawarp.cli.lifecycle_cmd import warn_if_deprecated

    with state(ctx).writing() as conn:
        record = registry.update_source(
            conn,
            source_code,
            publication=publication,
            domain=domain,
            owner=owner,
            purpose=purpose,
            retention_days=retention_days,
            load_mode=load_mode.value if load_mode else None,
            validation_required=(
                None
                if validation_required is None
                else registry.parse_bool(validation_required, "validation_required")
            ),
        )
        warn_if_deprecated(conn, source_code)
    if json_output:
        print_json(record)
    else:
        console.print(f"[green]✓[/] Updated [bold]{record.source_code}[/]")


@sources_app.command(
    "list", epilog="Example: datawarp sources list --status active --domain 'Clinical%'"
)
def list_command(
    ctx: typer.Context,
    status: Annotated[
        SourceStatus | None, typer.Option(help="Only sources in this status.")
    ] = None,
    domain: Annotated[
        str | None, typer.Option(help="Only this domain (SQL LIKE pattern, case-insensitive).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List registered sources."""
    from datawarp.catalog import registry

    with state(ctx).reading() as conn:
        records = registry.list_sources(
            conn, status=status.value if status else None, domain=domain
        )
    if json_output:
        print_json(records)
        return
    table = listing(
        f"{len(records)} source(s)",
        "source",
        "status",
        "publication",
        "domain",
        "owner",
        "mode",
        "retention",
    )
    for r in records:
        table.add_row(
            r.source_code,
            "[yellow]DEPRECATED[/]" if r.status == SourceStatus.DEPRECATED else r.status,
            r.publication,
            r.domain,
            r.owner,
            r.load_mode,
            f"{r.retention_days} d",
        )
    console.print(table)


@sources_app.command("show", epilog="Example: datawarp sources show adhd_mi")
def show_command(
    ctx: typer.Context,
    source_code: Annotated[str, typer.Argument(help="A registered source code.")],
    json_output: JsonOption = False,
) -> None:
    """Show every field of a source and its status history."""
    from datawarp.catalog import audit, registry
    from datawarp.cli.lifecycle_cmd import warn_if_deprecated

    with state(ctx).reading() as conn:
        record = registry.get_source(conn, source_code)
        history = audit.status_history(conn, source_code)
        warn_if_deprecated(conn, source_code)
    if json_output:
        print_json({**record.model_dump(mode="json"), "status_history": history})
        return
    table = field_table(f"Source {record.source_code}")
    for name, value in record.model_dump().items():
        shown = local_time(value) if name.endswith("_at") else value
        table.add_row(name, "" if shown is None else str(shown))
    console.print(table)
    history_table = listing("Status history", "when", "from", "to", "by")
    for change in history:
        history_table.add_row(
            local_time(change.changed_at),
            change.old_status or "-",
            change.new_status,
            change.changed_by,
        )
    console.print(history_table)


def install(app: typer.Typer) -> None:
    app.command(epilog=REGISTER_EXAMPLE)(register)
    app.command(epilog="Example: datawarp update adhd_mi --owner new.owner@nhs.net")(update)
    app.add_typer(sources_app, name="sources")
