"""Who may do what, as the database answers it: the roles a login holds, the login a refusal
names, and ``datawarp access check`` (``catalog.access`` creates roles and users)."""

from __future__ import annotations

import psycopg
from psycopg import conninfo

from datawarp.catalog.access import (
    ALL_SCHEMAS,
    CHECKED_TABLES,
    DATAWARP_ROLES,
    configured_groups,
    role_exists,
    session_login,
    valid_role_name,
)
from datawarp.catalog.connect import os_user
from datawarp.catalog.introspect import table_exists
from datawarp.core.errors import NotFoundError


def refusal_login(exc: BaseException | None, url: str | None = None) -> str | None:
    """The login refused, if ``exc`` (or what caused it) is the database refusing a privilege.

    The connection is usually closed by then, so the login comes from the URL it used.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            return url_login(url)
        exc = exc.__cause__ or exc.__context__
    return None


def held_roles(conn: psycopg.Connection) -> set[str] | None:
    """The DataWarp roles the session's login holds, by the database's own answer; ``None``
    where no role applies: access is not set up, or the login is a superuser or owns the
    catalog (they act without any setup)."""
    unrestricted = conn.execute(
        "SELECT r.rolsuper OR pg_has_role(session_user, n.nspowner, 'MEMBER')"
        " FROM pg_roles r, pg_namespace n WHERE r.rolname = session_user"
        " AND n.nspname = 'datawarp'"
    ).fetchone()
    if unrestricted is None or unrestricted[0]:
        return None
    if not table_exists(conn, "datawarp", "tbl_access_groups") or not configured_groups(conn):
        return None
    return {role for role, member in _memberships(conn, session_login(conn)).items() if member}


def group_names_at(url: str | None) -> dict[str, str]:
    """The group roles configured in the catalog at ``url``, read on a fresh connection after a
    refusal (the failed one may be unusable); empty when they cannot be read."""
    if url is None:
        return {}
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            return configured_groups(conn)
    except psycopg.Error:
        return {}


def url_login(url: str | None) -> str:
    """The login a URL connects as; libpq's default is the operating-system user."""
    try:
        user = conninfo.conninfo_to_dict(url or "").get("user")
    except psycopg.ProgrammingError:
        user = None
    return user or os_user()


def check_user(conn: psycopg.Connection, login: str | None = None) -> dict:
    """What a login may do, as the database answers it (privileges, groups, the policies)."""
    login = valid_role_name(login, "login name") if login else session_login(conn)
    if not role_exists(conn, login):
        raise NotFoundError(f"No login {login!r} on this server")
    schemas = {
        schema: conn.execute(
            "SELECT has_schema_privilege(%s, %s, 'USAGE'), has_schema_privilege(%s, %s, 'CREATE')",
            (login, schema, login, schema),
        ).fetchone()
        for schema in ALL_SCHEMAS
    }
    tables = {
        table: conn.execute(
            "SELECT has_table_privilege(%(u)s, %(t)s, 'SELECT'), has_table_privilege(%(u)s,"
            " %(t)s, 'INSERT'), has_table_privilege(%(u)s, %(t)s, 'UPDATE'),"
            " has_table_privilege(%(u)s, %(t)s, 'DELETE')",
            {"u": login, "t": f"datawarp.{table}"},
        ).fetchone()
        for table in CHECKED_TABLES
    }
    acts = conn.execute(
        "SELECT datawarp.is_catalog_admin(%(u)s), datawarp.may_act_as(%(u)s, 'analyst'),"
        " datawarp.may_act_as(%(u)s, 'engineer'), datawarp.may_act_as(%(u)s, 'dba')",
        {"u": login},
    ).fetchone()
    return {
        "login": login,
        "catalog_admin": acts[0],
        "datawarp_role": next(
            (r for r, ok in zip(DATAWARP_ROLES[::-1], acts[:0:-1], strict=True) if ok), None
        ),
        "groups": _memberships(conn, login),
        "schemas": {s: {"usage": u, "create": c} for s, (u, c) in schemas.items()},
        "tables": {
            t: dict(zip(("select", "insert", "update", "delete"), p, strict=True))
            for t, p in tables.items()
        },
        "registry_policy": {"read": True, "insert_update": acts[2], "delete": acts[3]},
    }


def _memberships(conn: psycopg.Connection, login: str) -> dict[str, bool]:
    rows = conn.execute(
        "SELECT g.datawarp_role, coalesce(pg_has_role(%s, r.oid, 'MEMBER'), false)"
        " FROM datawarp.tbl_access_groups g LEFT JOIN pg_roles r ON r.rolname = g.group_role",
        (login,),
    ).fetchall()
    return dict(rows)
