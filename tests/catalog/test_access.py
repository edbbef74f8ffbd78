"""Access control against real LOGIN roles: group roles, grants, the registry policy, ownership.

Roles are cluster-wide, so every test uses its own prefix and login names and drops them after.
Both test servers (the embedded one and the CI service) let local connections in with `trust`;
for the lab's roles the lab puts lines at the top of the server's own pg_hba.conf that ask for
the SCRAM password of every member of its groups, over TCP (the service) and over the socket
(the embedded server listens on no TCP port), and removes them afterwards: every lab login
proves its password, and a wrong one is refused (test_a_wrong_password_is_refused_at_login).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo, sql

from datawarp.catalog import access, access_checks, registry, staging
from datawarp.core.errors import BadInputError, ConflictError, NotFoundError, PermissionDenied
from datawarp.core.naming import TableRef
from datawarp.core.pgtypes import IncomingColumn

PASSWORD = "correct horse battery staple"
PASSWORD_SQL = sql.Literal(PASSWORD)


@dataclass
class AccessLab:
    """A catalog with access set up under a unique prefix, and the logins a test made."""

    db_url: str
    admin: psycopg.Connection
    prefix: str
    logins: list[str] = field(default_factory=list)

    @property
    def groups(self) -> dict[str, str]:
        return access.group_names(self.prefix)

    def login_name(self, label: str) -> str:
        name = f"{self.prefix}_{label}"
        self.logins.append(name)
        return name

    def url(self, login: str) -> str:
        params = conninfo.conninfo_to_dict(self.db_url)
        params.update(user=login, password=PASSWORD)
        return conninfo.make_conninfo(**params)

    def grant(self, label: str, role: str) -> str:
        login = self.login_name(label)
        access.grant_user(
            self.admin, f"{login}@nhs.net", role, login=login, password=lambda: PASSWORD
        )
        return login

    def connect(self, login: str) -> psycopg.Connection:
        return psycopg.connect(self.url(login), autocommit=True)


def drop_roles(admin: psycopg.Connection, names: list[str]) -> None:
    for name in names:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _refused(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        refusals = ("password authentication failed", "no password supplied")
        assert any(words in str(exc) for words in refusals), exc
        return True
    return False


@contextmanager
def passwords_required(admin: psycopg.Connection, lab: AccessLab) -> Iterator[None]:
    """Members of the lab's groups must give their SCRAM password, however they connect."""
    hba = Path(admin.execute("SHOW hba_file").fetchone()[0])
    if not os.access(hba, os.W_OK) and os.environ.get("CI") != "true":
        pytest.skip(f"{hba} is not writable here, so passwords cannot be made required")
    marker = f"# datawarp access tests {lab.prefix}"
    lines = [f"{kind} all +{group} {where}scram-sha-256 {marker}"
             for group in lab.groups.values()
             for kind, where in (("local", ""), ("host", "all "))]  # fmt: skip
    original = hba.read_text()
    hba.write_text("\n".join(lines) + "\n" + original)
    try:
        admin.execute("SELECT pg_reload_conf()")
        # A login outside the lab's names and users, in one of its groups, proves the lines
        # took effect: the postmaster reloads on its own time, so wait for its wrong password
        # to be refused.
        probe = f"probe_{lab.prefix}"
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(probe), PASSWORD_SQL, sql.Identifier(lab.groups["analyst"])))  # fmt: skip
        wrong = conninfo.make_conninfo(lab.url(probe), password="not the password")
        for _ in range(200):
            if _refused(wrong):
                break
        else:
            pytest.fail(f"{hba}: the lines asking for passwords never took effect")
        yield
    finally:
        kept = [line for line in hba.read_text().splitlines() if not line.endswith(marker)]
        hba.write_text("\n".join(kept) + "\n")
        admin.execute("SELECT pg_reload_conf()")
        drop_roles(admin, [f"probe_{lab.prefix}"])


@pytest.fixture(name="lab")
def lab_fixture(db_url):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as admin:
        access.setup(admin, prefix)
        made = AccessLab(db_url, admin, prefix)
        try:
            with passwords_required(admin, made):
                yield made
        finally:
            drop_roles(admin, made.logins + list(made.groups.values()))


def _register(conn: psycopg.Connection, code: str) -> None:
    registry.register_source(
        conn, source_code=code, publication="A&E", domain="Urgent care",
        owner="owner@nhs.net", purpose="Access tests",
    )  # fmt: skip


def _exists(conn: psycopg.Connection, code: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM datawarp.tbl_data_sources WHERE source_code = %s", (code,)
    ).fetchone()
    return found is not None


def test_setup_creates_nologin_groups_and_is_idempotent(lab):
    again = access.setup(lab.admin, lab.prefix)
    assert (
        again
        == lab.groups
        == {
            "analyst": f"{lab.prefix}_role_analyst",
            "engineer": f"{lab.prefix}_role_engineer",
            "dba": f"{lab.prefix}_role_dba",
        }
    )
    rows = lab.admin.execute(
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE %s", (f"{lab.prefix}_%",)
    ).fetchall()
    assert sorted(rows) == sorted((group, False) for group in lab.groups.values())
    defaults = lab.admin.execute("SELECT count(*) FROM pg_default_acl").fetchone()[0]
    assert defaults > 0
    assert access.configured_groups(lab.admin) == lab.groups


def test_an_unauthorised_login_cannot_insert_into_the_registry(lab):
    login = lab.login_name("intruder")
    ident = sql.Identifier(login)
    lab.admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, PASSWORD_SQL))
    # Full table privileges through the group, but not an authorised user: the policy refuses.
    lab.admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(lab.groups["dba"]), ident))
    with lab.connect(login) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            _register(conn, "intruded")
    assert not _exists(lab.admin, "intruded")


def test_a_revoked_user_is_refused_on_the_next_statement(lab):
    login = lab.grant("revokee", "engineer")
    with lab.connect(login) as conn:
        _register(conn, "before_revoke")
        access.revoke_user(lab.admin, f"{login}@nhs.net")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _register(conn, "after_revoke")
    assert not _exists(lab.admin, "after_revoke")
    assert [u["active"] for u in access.list_users(lab.admin)] == [False]


def test_the_audit_trail_records_the_real_login(lab):
    login = lab.grant("auditee", "engineer")
    with lab.connect(login) as conn:
        _register(conn, "audited")
    who = lab.admin.execute(
        "SELECT changed_by_db_user FROM datawarp.tbl_audit_log"
        " WHERE table_name = 'datawarp.tbl_data_sources' AND record_key = 'audited'"
    ).fetchall()
    assert who == [(login,)]
    granted_by = lab.admin.execute(
        "SELECT changed_by_db_user FROM datawarp.tbl_audit_log"
        " WHERE table_name = 'datawarp.tbl_authorized_users' AND record_key = %s",
        (f"{login}@nhs.net",),
    ).fetchall()
    assert granted_by == [(lab.admin.info.user,)]


@pytest.mark.parametrize(
    ("email", "login", "prefix"),
    [
        ("jo@nhs.net", "a'; DROP ROLE x; --", None),
        ("a'; DROP ROLE x; --@nhs.net", "jo_ok", None),
        ("jo@nhs.net", 'x" SUPERUSER', None),
        (None, None, "a'; DROP ROLE x; --"),
    ],
)
def test_injection_in_names_is_refused_with_nothing_created(lab, email, login, prefix):
    before = lab.admin.execute("SELECT count(*) FROM pg_roles").fetchone()[0]
    with pytest.raises(BadInputError):
        if prefix:
            access.setup(lab.admin, prefix)
        else:
            access.grant_user(lab.admin, email, "analyst", login=login, password=lambda: "pw")
    assert lab.admin.execute("SELECT count(*) FROM pg_roles").fetchone()[0] == before
    assert access.list_users(lab.admin) == []


def test_a_wrong_password_is_refused_at_login(lab):
    login = lab.grant("login_check", "engineer")
    assert _refused(conninfo.make_conninfo(lab.url(login), password="guess"))
    assert _refused(conninfo.make_conninfo(lab.url(login), password=""))
    with lab.connect(login) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == login
    lab.admin.execute(sql.SQL("ALTER ROLE {} PASSWORD NULL").format(sql.Identifier(login)))
    assert _refused(lab.url(login))  # no password stored: nobody gets in as this login


def test_the_password_is_stored_only_as_its_verifier(lab):
    login = lab.grant("secret", "analyst")
    stored = lab.admin.execute(
        "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (login,)
    ).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$") and PASSWORD not in stored
    iterations_salt, keys = stored.removeprefix("SCRAM-SHA-256$").split("$")
    iterations, salt = iterations_salt.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), base64.b64decode(salt),
                                 int(iterations))  # fmt: skip
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    assert base64.b64encode(hashlib.sha256(client_key).digest()).decode() == keys.split(":")[0]
    catalog = lab.admin.execute("SELECT to_jsonb(u)::text FROM datawarp.tbl_authorized_users u")
    assert all(PASSWORD not in row[0] for row in catalog)


def test_bad_grants_and_revokes(lab):
    login = lab.grant("dup", "analyst")
    with pytest.raises(ConflictError, match="already granted"):
        access.grant_user(lab.admin, f"{login}@nhs.net", "dba", login=login)
    with pytest.raises(BadInputError, match="Unknown role 'admin'"):
        access.grant_user(lab.admin, "x@nhs.net", "admin")
    with pytest.raises(NotFoundError, match="not an authorised user"):
        access.revoke_user(lab.admin, "nobody@nhs.net")
    with pytest.raises(ConflictError, match="already belongs to"):
        access.grant_user(lab.admin, "other@nhs.net", "analyst", login=login, adopt=True)


def test_an_existing_login_of_someone_else_needs_adopt(lab):
    login = lab.login_name("existing")
    lab.admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
    with pytest.raises(ConflictError, match="--adopt"):
        access.grant_user(lab.admin, "kim@nhs.net", "engineer", login=login, password=lambda: "x")
    user = access.grant_user(lab.admin, "kim@nhs.net", "engineer", login=login, adopt=True)
    assert (user["db_role"], user["datawarp_role"], user["active"]) == (login, "engineer", True)


def test_setup_without_createrole_names_the_privilege(lab):
    login = lab.grant("plain_dba", "analyst")
    with lab.connect(login) as conn:
        with pytest.raises(PermissionDenied, match="needs the CREATEROLE privilege") as caught:
            access.setup(conn, lab.prefix)
    assert "\n" not in str(caught.value) and login in str(caught.value)


def test_a_dba_can_alter_and_drop_what_an_engineers_load_created(lab):
    engineer, other, dba = (lab.grant(n, r) for n, r in
                            (("eng1", "engineer"), ("eng2", "engineer"), ("dba1", "dba")))  # fmt: skip
    target = TableRef("staging", "tbl_owned")
    with psycopg.connect(lab.url(engineer)) as conn:
        staging.create_table(conn, target, [IncomingColumn("org_code", "text")])
    owner = lab.admin.execute(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'staging' AND tablename = 'tbl_owned'"
    ).fetchone()[0]
    assert owner == lab.groups["engineer"]
    with lab.connect(other) as conn:
        conn.execute("ALTER TABLE staging.tbl_owned ADD COLUMN extra text")
    with lab.connect(dba) as conn:
        conn.execute("ALTER TABLE staging.tbl_owned ADD COLUMN dba_extra text")
        conn.execute("DROP TABLE staging.tbl_owned")


def test_check_reports_the_databases_answer(lab):
    analyst, engineer = lab.grant("chk_a", "analyst"), lab.grant("chk_e", "engineer")
    seen = access_checks.check_user(lab.admin, analyst)
    assert seen["datawarp_role"] == "analyst" and seen["groups"]["analyst"] is True
    assert seen["tables"]["tbl_data_sources"] == dict(select=True, insert=False, update=False,
                                                      delete=False)  # fmt: skip
    assert seen["tables"]["tbl_authorized_users"]["select"] is False
    assert seen["registry_policy"]["insert_update"] is False
    seen = access_checks.check_user(lab.admin, engineer)
    assert seen["datawarp_role"] == "engineer" and seen["registry_policy"]["insert_update"]
    assert seen["schemas"]["staging"] == {"usage": True, "create": True}
    assert access_checks.check_user(lab.admin)["catalog_admin"] is True
    with pytest.raises(NotFoundError):
        access_checks.check_user(lab.admin, f"{lab.prefix}_nobody")
