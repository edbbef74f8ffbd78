"""`datawarp access` and the role matrix of docs/access.md, run as real LOGIN roles.

Each command group of the matrix is run as an analyst, an engineer and a DBA; whether it was
allowed must match the table parsed from docs/access.md, and a refusal must be one line that
leaves the catalog exactly as it was.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from datawarp.ops.access import ROLES, matrix, parse_matrix
from tests.catalog.test_access import PASSWORD, lab_fixture  # noqa: F401
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import HEADER, provider_rows, write_csv, write_manifest

ENV = {"DATAWARP_LOGIN_PASSWORD": PASSWORD}
DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "access.md"
# The behaviour is compared with the page people read, not with the package's copy of it.
DOCUMENTED = parse_matrix(DOCS_PAGE.read_text(encoding="utf-8"))


def _snapshot(admin: psycopg.Connection) -> tuple:
    """Everything a command could write that the matrix commands touch."""
    return admin.execute(
        "SELECT (SELECT count(*) FROM datawarp.tbl_audit_log),"
        " (SELECT count(*) FROM datawarp.tbl_load_events),"
        " (SELECT count(*) FROM datawarp.tbl_validation_results),"
        " (SELECT string_agg(source_code || status, ',' ORDER BY source_code)"
        "    FROM datawarp.tbl_data_sources),"
        " (SELECT string_agg(status, ',' ORDER BY change_id) FROM datawarp.tbl_schema_changes),"
        " (SELECT count(*) FROM datawarp.tbl_column_metadata),"
        " (SELECT count(*) FROM information_schema.columns WHERE table_schema = 'staging')"
    ).fetchone()


def _manifest(tmp_path, role: str):
    folder = tmp_path / role
    data = write_csv(folder / "a.csv", HEADER, provider_rows("2025-09"))
    period = {"analyst": "2025-07", "engineer": "2025-08", "dba": "2025-09"}[role]
    return write_manifest(folder, [{"source_code": "mx", "path": data.name}], period=period)


def _latest_load(admin) -> str:
    return str(admin.execute("SELECT max(load_id) FROM datawarp.tbl_load_events").fetchone()[0])


def _add_pending_change(admin) -> str:
    row = admin.execute(
        "INSERT INTO datawarp.tbl_schema_changes (source_code, target_schema, target_table,"
        " kind, columns, status) VALUES ('mx', 'staging', 'tbl_mx', 'add', %s, 'pending')"
        " RETURNING change_id",
        (Jsonb([{"name": "extra_col", "type": "text"}]),),
    ).fetchone()
    return str(row[0])


# Representative invocations, in an order in which each can succeed when allowed.
COMMANDS = [
    ("sources list", lambda role, lab, tmp: ["sources", "list"]),
    ("health", lambda role, lab, tmp: ["health"]),
    ("audit log", lambda role, lab, tmp: ["audit", "log"]),
    ("inspect", lambda role, lab, tmp: ["inspect", str(write_csv(tmp / "i.csv", HEADER,
                                                                 provider_rows("2025-09")))]),
    ("register", lambda role, lab, tmp: ["register", f"mx_{role}", "--publication", "P",
                                         "--domain", "D", "--owner", "o@nhs.net",
                                         "--purpose", "matrix"]),
    ("update", lambda role, lab, tmp: ["update", "mx", "--purpose", f"updated by {role}"]),
    ("load-batch", lambda role, lab, tmp: ["load-batch", str(_manifest(tmp, role))]),
    ("validation show", lambda role, lab, tmp: ["validation", "show", _latest_load(lab.admin)]),
    ("validate", lambda role, lab, tmp: ["validate", "mx"]),
    ("describe", lambda role, lab, tmp: ["describe", "mx", "org_code", f"Org ({role})"]),
    ("access check", lambda role, lab, tmp: ["access", "check"]),
    ("access", lambda role, lab, tmp: ["access", "list"]),
    ("schema-changes approve", lambda role, lab, tmp: ["schema-changes", "approve",
                                                       lab.pending]),
    ("schema-changes reject", lambda role, lab, tmp: ["schema-changes", "reject",
                                                      lab.to_reject, "--note", "matrix"]),
    ("orphans", lambda role, lab, tmp: ["orphans"]),
    ("retention", lambda role, lab, tmp: ["retention", "apply", "--dry-run"]),
    ("maintenance", lambda role, lab, tmp: ["maintenance", "weekly", "--dry-run"]),
    ("db upgrade", lambda role, lab, tmp: ["db", "upgrade"]),
    ("deprecate", lambda role, lab, tmp: ["deprecate", "mx", "--reason", "matrix test"]),
    ("undeprecate", lambda role, lab, tmp: ["undeprecate", "mx"]),
    ("deprecate", lambda role, lab, tmp: ["deprecate", "mx", "--reason", "to archive"]),
    ("archive", lambda role, lab, tmp: ["archive", "mx", "--force"]),
]  # fmt: skip


@pytest.fixture
def matrix_lab(lab, tmp_path):
    """Access set up, one user per role, a registered source with a first load."""
    run_cli("register", "mx", "--publication", "P", "--domain", "D", "--owner", "o@nhs.net",
            "--purpose", "matrix", database_url=lab.db_url)  # fmt: skip
    lab.users = {role: lab.grant(f"mx_{role}", role) for role in ROLES}
    write_csv(tmp_path / "first" / "a.csv", HEADER, provider_rows("2025-06"))
    first = write_manifest(tmp_path / "first", [{"source_code": "mx", "path": "a.csv"}],
                           period="2025-06")  # fmt: skip
    loaded = run_cli("load-batch", str(first), database_url=lab.url(lab.users["engineer"]))
    assert loaded.exit_code == 0, loaded.stderr
    lab.pending = _add_pending_change(lab.admin)
    lab.to_reject = _add_pending_change(lab.admin)
    return lab


def test_the_installed_matrix_is_the_documented_page():
    installed = resources.files("datawarp.ops").joinpath("access.md").read_text(encoding="utf-8")
    assert installed == DOCS_PAGE.read_text(encoding="utf-8")
    assert matrix() == DOCUMENTED


@pytest.mark.parametrize("command", [name for name, _ in COMMANDS])
def test_every_documented_command_group_is_in_the_matrix(command):
    assert DOCUMENTED.required_role(command.split()) is not None


def test_each_role_may_run_exactly_what_docs_access_md_says(matrix_lab, tmp_path):
    lab = matrix_lab
    mismatches = []
    for name, argv in COMMANDS:
        for role in ROLES:
            expected = DOCUMENTED.allowed(role, name.split())
            before = _snapshot(lab.admin)
            args = argv(role, lab, tmp_path)
            env = {**ENV, "DATAWARP_LIFECYCLE": json.dumps({"archive_path": str(tmp_path / "pq")})}
            result = run_cli(*args, database_url=lab.url(lab.users[role]), env=env)
            denied = "permission denied" in result.stderr
            if denied:
                lines = result.stderr.strip().splitlines()
                needed = DOCUMENTED.required_role(name.split())
                want = f"Error: permission denied: {name} needs {lab.groups[needed]}"
                assert lines == [f"{want} (you are {lab.users[role]})"], (role, args, lines)
                assert result.exit_code == 1
                assert _snapshot(lab.admin) == before, (role, args)
            elif expected:
                assert result.exit_code == 0, (role, args, result.stdout, result.stderr)
            if denied == expected:
                mismatches.append((role, name, result.exit_code, result.stderr.strip()))
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_read_commands_of_an_analyst_write_nothing(matrix_lab):
    lab = matrix_lab
    # A load whose process is gone: any make-ready step would reap it.
    lab.admin.execute("INSERT INTO datawarp.tbl_load_events (source_code) VALUES ('mx')")
    before = _snapshot(lab.admin)
    for args in (["sources", "list"], ["sources", "show", "mx"], ["health"], ["audit", "log"],
                 ["report", "--days", "7"], ["validation", "show", _latest_load(lab.admin)]):  # fmt: skip
        result = run_cli(*args, database_url=lab.url(lab.users["analyst"]))
        assert result.exit_code in (0, 2), (args, result.stderr)
        assert "permission denied" not in result.stderr
    assert _snapshot(lab.admin) == before


def test_grant_list_check_revoke_from_the_command_line(lab):
    login = f"{lab.prefix}_cli_user"
    lab.logins.append(login)
    granted = run_cli("access", "grant", "Jo.Cli@NHS.net", "--role", "engineer", "--login", login,
                      "--json", database_url=lab.db_url, env=ENV)  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    assert PASSWORD not in granted.stdout + granted.stderr
    assert json.loads(granted.stdout)["email"] == "jo.cli@nhs.net"
    listed = json.loads(run_cli("access", "list", "--json", database_url=lab.db_url).stdout)
    assert [(u["email"], u["db_role"], u["active"]) for u in listed] == [
        ("jo.cli@nhs.net", login, True)
    ]
    checked = run_cli("access", "check", login, "--json", database_url=lab.db_url)
    answer = json.loads(checked.stdout)
    assert answer["datawarp_role"] == "engineer" and "load-batch" in answer["commands"]
    assert "deprecate" not in answer["commands"]
    revoked = run_cli("access", "revoke", "jo.cli@nhs.net", database_url=lab.db_url)
    assert revoked.exit_code == 0, revoked.stderr
    answer = json.loads(run_cli("access", "check", login, "--json", database_url=lab.db_url).stdout)
    assert answer["datawarp_role"] is None and answer["commands"] == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["access", "grant", "x@nhs.net", "--role", "admin"], 2, "Invalid value"),
        (["access", "revoke", "nobody@nhs.net"], 2, "nobody@nhs.net is not an authorised user"),
        (["access", "grant", "x@nhs.net", "--role", "analyst", "--login", "a'; DROP ROLE x; --"],
         2, "is not a valid login name"),
        (["access", "setup", "--prefix", "a'; DROP ROLE x; --"], 2, "is not a valid prefix"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(lab, args, code, message):
    result = run_cli(*args, database_url=lab.db_url, env=ENV)
    assert result.exit_code == code
    assert message in result.stderr
    if code == 2 and "Invalid value" not in message:
        assert len(result.stderr.strip().splitlines()) == 1


def test_already_granted_and_someone_elses_login(lab):
    login = lab.grant("taken", "analyst")
    again = run_cli("access", "grant", f"{login}@nhs.net", "--role", "dba",
                    database_url=lab.db_url, env=ENV)  # fmt: skip
    assert again.exit_code == 2 and "is already granted" in again.stderr
    other = run_cli("access", "grant", "new.person@nhs.net", "--role", "analyst", "--login",
                    lab.admin.info.user, database_url=lab.db_url, env=ENV)  # fmt: skip
    assert other.exit_code == 2 and "--adopt" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1


def test_setup_by_anyone_but_the_catalogs_owner_is_one_line(lab):
    engineer, dba = lab.grant("setup_eng", "engineer"), lab.grant("setup_dba", "dba")
    owner = lab.admin.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'datawarp'"
    ).fetchone()[0]
    expected = {
        engineer: f"access needs {lab.groups['dba']} (you are {engineer})",
        dba: f"access setup needs the catalog's owner ({owner}) or a superuser (you are {dba})",
    }
    for login, message in expected.items():
        result = run_cli("access", "setup", "--prefix", lab.prefix, database_url=lab.url(login))
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines() == [f"Error: permission denied: {message}"]


def test_setup_works_on_a_single_user_catalog_with_no_prior_setup(lab):
    result = run_cli("access", "setup", "--prefix", lab.prefix, database_url=lab.db_url)
    assert result.exit_code == 0, result.stderr
    assert f"{lab.prefix}_role_dba" in result.stdout


def test_a_dba_who_does_not_own_the_catalog_grants_and_revokes(lab):
    dba, engineer = lab.grant("admin_dba", "dba"), lab.grant("admin_eng", "engineer")
    newcomer = lab.login_name("newcomer")
    granted = run_cli("access", "grant", "newcomer@nhs.net", "--role", "analyst", "--login",
                      newcomer, database_url=lab.url(dba), env=ENV)  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    listed = run_cli("sources", "list", database_url=lab.url(newcomer))  # the password works
    assert listed.exit_code == 0, listed.stderr

    # The membership step itself is a DBA's: an engineer calling it in SQL is refused.
    with lab.connect(engineer) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT datawarp.set_group_membership(%s, %s, true)",
                     (engineer, lab.groups["dba"]))  # fmt: skip
    member = "SELECT pg_has_role(%s, %s, 'MEMBER')"
    assert lab.admin.execute(member, (engineer, lab.groups["dba"])).fetchone()[0] is False

    revoked = run_cli("access", "revoke", "newcomer@nhs.net", database_url=lab.url(dba))
    assert revoked.exit_code == 0, revoked.stderr
    assert lab.admin.execute(member, (newcomer, lab.groups["analyst"])).fetchone()[0] is False
