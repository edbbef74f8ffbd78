"""`datawarp access setup|grant|revoke|list|check`: who may do what (docs/access.md)."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

from datawarp.cli.output import console, field_table, listing, local_time, print_json
from datawarp.cli.state import state

PASSWORD_ENV = "DATAWARP_LOGIN_PASSWORD"

access_app = typer.Typer(
    help="Roles, authorised users and what each may do (see docs/access.md).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class Role(StrEnum):
    analyst = "analyst"
    engineer = "engineer"
    dba = "dba"


@access_app.command("setup", epilog="Example: datawarp access setup --prefix nhs")
def setup(
    ctx: typer.Context,
    prefix: Annotated[
        str | None, typer.Option(help="Prefix for the group roles, on a shared cluster.")
    ] = None,
) -> None:
    """Create the analyst, engineer and DBA group roles and their grants (idempotent)."""
    from datawarp.catalog import access

    with state(ctx).writing() as conn:
        groups = access.setup(conn, prefix)
    for role, group in groups.items():
        console.print(f"[green]✓[/] {role}: group role [bold]{group}[/]")


def _password() -> str | None:
    """From the environment for scripts, else a hidden prompt; never echoed or kept."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    return typer.prompt("Password for the new login", hide_input=True, confirmation_prompt=True)


@access_app.command(
    "grant", epilog="Example: datawarp access grant jo.bloggs@nhs.net --role engineer"
)
def grant(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    role: Annotated[Role, typer.Option("--role", case_sensitive=False, help="Their role.")],
    login: Annotated[
        str | None, typer.Option("--login", help="Their login (default: from the e-mail).")
    ] = None,
    adopt: Annotated[
        bool, typer.Option("--adopt", help="The login exists already and is this person's.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Authorise a person: their own login, a member of their role's group."""
    from datawarp.catalog import access

    with state(ctx).writing() as conn:
        user = access.grant_user(
            conn, email, role.value, login=login, password=_password, adopt=adopt
        )
    if json_output:
        print_json(user)
        return
    console.print(
        f"[green]✓[/] {user['email']} may now act as {user['datawarp_role']}"
        f" (login [bold]{user['db_role']}[/])"
    )


@access_app.command("revoke", epilog="Example: datawarp access revoke jo.bloggs@nhs.net")
def revoke(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="An authorised user's e-mail.")],
) -> None:
    """Take a person's role away; their next statement is refused."""
    from datawarp.catalog import access

    with state(ctx).writing() as conn:
        user = access.revoke_user(conn, email)
    console.print(f"[green]✓[/] {user['email']} (login {user['db_role']}) has no role any more")


@access_app.command("list", epilog="Example: datawarp access list --json")
def list_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Authorised users, active first."""
    from datawarp.catalog import access

    with state(ctx).reading() as conn:
        users = access.list_users(conn)
    if json_output:
        print_json(users)
        return
    table = listing(f"Authorised users ({len(users)})", "e-mail", "login", "role", "added", "by")
    for user in users:
        role = user["datawarp_role"] if user["active"] else f"revoked ({user['datawarp_role']})"
        when = local_time(user["added_at"])
        table.add_row(user["email"], user["db_role"], role, when, user["added_by"])
    console.print(table)


@access_app.command("check", epilog="Example: datawarp access check jo_bloggs --json")
def check(
    ctx: typer.Context,
    login: Annotated[str | None, typer.Argument(help="A login (default: yours).")] = None,
    json_output: JsonOption = False,
) -> None:
    """What a login may do, as the database answers: privileges, groups, registry policy."""
    from datawarp.catalog import access_checks
    from datawarp.ops.access import matrix

    with state(ctx).reading() as conn:
        answer = access_checks.check_user(conn, login)
    role = answer["datawarp_role"]
    answer["commands"] = sorted(
        " ".join(words) for words in matrix().required if role and matrix().allowed(role, words)
    )
    if json_output:
        print_json(answer)
        return
    _print_check(answer)


def _print_check(answer: dict) -> None:
    table = field_table(f"Access of {answer['login']}")
    table.add_row("DataWarp role", answer["datawarp_role"] or "none")
    table.add_row("catalog owner", "yes" if answer["catalog_admin"] else "no")
    for schema, rights in answer["schemas"].items():
        table.add_row(f"schema {schema}", ", ".join(k for k, ok in rights.items() if ok) or "-")
    for name, rights in answer["tables"].items():
        table.add_row(name, ", ".join(k for k, ok in rights.items() if ok) or "-")
    policy = answer["registry_policy"]
    table.add_row("registry writes", "allowed" if policy["insert_update"] else "refused")
    table.add_row("commands", ", ".join(answer["commands"]) or "-")
    console.print(table)


def install(app: typer.Typer) -> None:
    app.add_typer(access_app, name="access")
