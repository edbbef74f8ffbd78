"""Roles, grants and authorised users: the SQL side of access control.

Roles are cluster-wide, so creating them is ``setup`` (a command a DBA runs), not a migration.
Every name reaching SQL is validated first and then quoted with ``sql.Identifier``; e-mails are
bound values. Passwords reach the server only as a SCRAM verifier computed by libpq, so the
clear text never appears in a statement (and hence in a server log) nor in the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from datawarp.core.errors import BadInputError, ConflictError, NotFoundError, PermissionDenied

DATAWARP_ROLES = ("analyst", "engineer", "dba")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
EMAIL = re.compile(r"^[a-z0-9._%+-]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$")
LOADING_SCHEMAS = ("staging", "staging_test")
READ_SCHEMAS = ("datawarp", *LOADING_SCHEMAS)
ALL_SCHEMAS = (*READ_SCHEMAS, "archive")
# Personal data (e-mails): DBAs only. The groups table stays readable: loads consult it.
DBA_ONLY_TABLES = ("tbl_authorized_users",)


def valid_role_name(name: str, what: str = "role name") -> str:
    if not ROLE_NAME.match(name or ""):
        raise BadInputError(
            f"{name!r} is not a valid {what}: use lower-case letters, digits and _"
            " (at most 63, not starting with a digit)"
        )
    return name


def valid_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise BadInputError(f"{email!r} is not a valid e-mail address")
    return email


def valid_datawarp_role(role: str) -> str:
    if role not in DATAWARP_ROLES:
        raise BadInputError(f"Unknown role {role!r}: use one of {', '.join(DATAWARP_ROLES)}")
    return role


def group_names(prefix: str | None) -> dict[str, str]:
    head = f"{valid_role_name(prefix, 'prefix')}_" if prefix else ""
    return {role: valid_role_name(f"{head}role_{role}") for role in DATAWARP_ROLES}


def session_login(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT session_user::text").fetchone()[0]


def role_exists(conn: psycopg.Connection, name: str) -> bool:
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    return found is not None


def _require_createrole(conn: psycopg.Connection, command: str) -> None:
    row = conn.execute(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = session_user"
    ).fetchone()
    if not (row and row[0]):
        raise PermissionDenied(
            f"permission denied: {command} needs the CREATEROLE privilege"
            f" (you are {session_login(conn)})"
        )


def _require_catalog_owner(conn: psycopg.Connection, command: str) -> None:
    """Granting on every catalog table takes its owner (or a superuser), not only a DBA."""
    owner, allowed = conn.execute(
        "SELECT pg_get_userbyid(n.nspowner), r.rolsuper"
        " OR pg_has_role(session_user, n.nspowner, 'MEMBER')"
        " FROM pg_namespace n, pg_roles r WHERE n.nspname = 'datawarp'"
        " AND r.rolname = session_user"
    ).fetchone()
    if not allowed:
        raise PermissionDenied(
            f"permission denied: {command} needs the catalog's owner ({owner}) or a superuser"
            f" (you are {session_login(conn)})"
        )


def configured_groups(conn: psycopg.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT datawarp_role, group_role FROM datawarp.tbl_access_groups")
    return dict(rows.fetchall())


def setup(conn: psycopg.Connection, prefix: str | None = None) -> dict[str, str]:
    """Create the group roles and their grants; running it again changes nothing."""
    groups = group_names(prefix)
    _require_createrole(conn, "access setup")
    _require_catalog_owner(conn, "access setup")
    with conn.transaction():
        for role, group in groups.items():
            if not role_exists(conn, group):
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
            conn.execute(
                "INSERT INTO datawarp.tbl_access_groups (datawarp_role, group_role)"
                " VALUES (%s, %s) ON CONFLICT (datawarp_role) DO UPDATE"
                " SET group_role = EXCLUDED.group_role"
                " WHERE tbl_access_groups.group_role <> EXCLUDED.group_role",
                (role, group),
            )
        _grant_existing(conn, groups)
        _grant_defaults(conn, groups)
    return groups


def _ids(names) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def _grant_existing(conn: psycopg.Connection, groups: dict[str, str]) -> None:
    analyst, engineer, dba = (sql.Identifier(groups[r]) for r in DATAWARP_ROLES)
    read, loading, every = _ids(READ_SCHEMAS), _ids(LOADING_SCHEMAS), _ids(ALL_SCHEMAS)
    statements = [
        "GRANT USAGE ON SCHEMA {read} TO {analyst}, {engineer}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA {read} TO {analyst}",
        "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {read} TO {engineer}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {read} TO {engineer}",
        # Loading creates and alters tables; they are owned by the engineers' group (see
        # load_group_ddl), so every engineer, and every DBA through membership, may alter them.
        "GRANT CREATE ON SCHEMA {loading} TO {engineer}",
        "GRANT ALL ON SCHEMA {every} TO {dba}",
        "GRANT ALL ON ALL TABLES IN SCHEMA {every} TO {dba}",
        "GRANT ALL ON ALL SEQUENCES IN SCHEMA {every} TO {dba}",
        "GRANT {engineer} TO {dba}",
    ]
    for text in statements:
        conn.execute(
            sql.SQL(text).format(read=read, loading=loading, every=every,
                                 analyst=analyst, engineer=engineer, dba=dba)
        )  # fmt: skip
    for table in DBA_ONLY_TABLES:
        conn.execute(
            sql.SQL("REVOKE ALL ON {} FROM {}, {}").format(
                sql.Identifier("datawarp", table), analyst, engineer
            )
        )


def _grant_defaults(conn: psycopg.Connection, groups: dict[str, str]) -> None:
    """Tables created later (by the catalog's owner, or by a load) inherit the same grants."""
    analyst, engineer, dba = (sql.Identifier(groups[r]) for r in DATAWARP_ROLES)
    me = sql.Identifier(session_login(conn))
    read, every = _ids(READ_SCHEMAS), _ids(ALL_SCHEMAS)
    for creator in (me, engineer):
        prefix = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA ").format(creator)
        for text in (
            "{read} GRANT SELECT ON TABLES TO {analyst}",
            "{read} GRANT SELECT, INSERT, UPDATE ON TABLES TO {engineer}",
            "{read} GRANT USAGE, SELECT ON SEQUENCES TO {engineer}",
            "{every} GRANT ALL ON TABLES TO {dba}",
            "{every} GRANT ALL ON SEQUENCES TO {dba}",
        ):
            body = sql.SQL(text).format(
                read=read, every=every, analyst=analyst, engineer=engineer, dba=dba
            )
            conn.execute(prefix + body)


@contextmanager
def load_group_ddl(conn: psycopg.Connection) -> Iterator[None]:
    """Create loading tables as the engineers' group, so the group (not one person) owns them.

    Inside the caller's transaction; SET LOCAL ends with it even if the DDL fails. Without
    setup, or for a login outside the group (a superuser), nothing changes.
    """
    row = conn.execute(
        "SELECT g.group_role FROM datawarp.tbl_access_groups g"
        " JOIN pg_roles r ON r.rolname = g.group_role"
        " WHERE g.datawarp_role = 'engineer' AND NOT (SELECT rolsuper FROM pg_roles"
        "   WHERE rolname = session_user) AND pg_has_role(session_user, r.oid, 'MEMBER')"
    ).fetchone()
    if row is None or conn.autocommit:
        yield
        return
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(row[0])))
    yield
    conn.execute("SET LOCAL ROLE NONE")


# --- authorised users ----------------------------------------------------------------------


def _groups_or_fail(conn: psycopg.Connection) -> dict[str, str]:
    groups = configured_groups(conn)
    if set(groups) != set(DATAWARP_ROLES):
        raise NotFoundError("Access control is not set up here: run `datawarp access setup`")
    return groups


def default_login(email: str) -> str:
    local = re.sub(r"[^a-z0-9_]", "_", email.split("@", 1)[0])
    return local if re.match(r"^[a-z_]", local) else f"u_{local}"


def _user(conn: psycopg.Connection, email: str) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM datawarp.tbl_authorized_users WHERE email = %s", (email,)
        ).fetchone()


def _check_login_is_free(conn, login: str, email: str, adopt: bool) -> bool:
    """Whether the login must be created; refuses one that belongs to someone else."""
    owner = conn.execute(
        "SELECT email FROM datawarp.tbl_authorized_users WHERE db_role = %s AND active",
        (login,),
    ).fetchone()
    if owner:
        raise ConflictError(
            f"Login {login!r} already belongs to {owner[0]}; choose another --login"
        )
    if not role_exists(conn, login):
        return True
    previous = conn.execute(
        "SELECT 1 FROM datawarp.tbl_authorized_users WHERE db_role = %s AND email = %s",
        (login, email),
    ).fetchone()
    if not previous and not adopt:
        raise ConflictError(
            f"Login {login!r} already exists and is not {email}'s: pass --adopt if it is theirs,"
            " or choose another --login"
        )
    return False


def grant_user(
    conn: psycopg.Connection,
    email: str,
    role: str,
    *,
    login: str | None = None,
    password: Callable[[], str | None] | None = None,
    adopt: bool = False,
) -> dict:
    """Authorise a person: their own LOGIN role, a member of their DataWarp role's group.

    ``password`` is asked for only when a login is to be created; it is used once, to compute
    the verifier, and kept nowhere.
    """
    email, role = valid_email(email), valid_datawarp_role(role)
    login = valid_role_name(login or default_login(email), "login name")
    _require_createrole(conn, "access grant")
    groups = _groups_or_fail(conn)
    existing = _user(conn, email)
    if existing and existing["active"]:
        raise ConflictError(f"{email} is already granted ({existing['datawarp_role']})")
    with conn.transaction():
        if _check_login_is_free(conn, login, email, adopt):
            secret = password() if password else None
            if not secret:
                raise BadInputError(f"A password is needed to create the login {login!r}")
            _create_login(conn, login, secret)
        _set_membership(conn, login, groups[role], member=True)
        if role == "dba":  # attributes are not inherited: DBAs run `access grant` themselves
            conn.execute(sql.SQL("ALTER ROLE {} CREATEROLE").format(sql.Identifier(login)))
        conn.execute(
            "INSERT INTO datawarp.tbl_authorized_users (email, db_role, datawarp_role)"
            " VALUES (%s, %s, %s) ON CONFLICT (email) DO UPDATE SET db_role = EXCLUDED.db_role,"
            " datawarp_role = EXCLUDED.datawarp_role, active = true, added_at = now(),"
            " added_by = datawarp.current_actor(), revoked_at = NULL, revoked_by = NULL",
            (email, login, role),
        )
    return _user(conn, email)


def _set_membership(conn: psycopg.Connection, login: str, group: str, *, member: bool) -> None:
    """Through the catalog owner's function (migration 0014): DBAs lack ADMIN on the groups."""
    conn.execute("SELECT datawarp.set_group_membership(%s, %s, %s)", (login, group, member))


def _create_login(conn: psycopg.Connection, login: str, password: str) -> None:
    verifier = conn.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256")
    conn.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(login), sql.Literal(verifier.decode())
        )
    )


def revoke_user(conn: psycopg.Connection, email: str) -> dict:
    """Take a person's role away; their next statement is refused. The login is kept."""
    email = valid_email(email)
    groups = _groups_or_fail(conn)
    existing = _user(conn, email)
    if not existing or not existing["active"]:
        raise NotFoundError(f"{email} is not an authorised user")
    with conn.transaction():
        if role_exists(conn, existing["db_role"]):
            for group in groups.values():
                _set_membership(conn, existing["db_role"], group, member=False)
            if existing["datawarp_role"] == "dba":
                conn.execute(
                    sql.SQL("ALTER ROLE {} NOCREATEROLE").format(
                        sql.Identifier(existing["db_role"])
                    )
                )
        conn.execute(
            "UPDATE datawarp.tbl_authorized_users SET active = false, revoked_at = now(),"
            " revoked_by = datawarp.current_actor() WHERE email = %s",
            (email,),
        )
    return _user(conn, email)


def list_users(conn: psycopg.Connection) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT email, db_role, datawarp_role, added_by, added_at, active, revoked_at"
            " FROM datawarp.tbl_authorized_users ORDER BY active DESC, email"
        ).fetchall()


CHECKED_TABLES = ("tbl_data_sources", "tbl_load_events", "tbl_schema_changes", "tbl_archives",
                  "tbl_authorized_users")  # fmt: skip
