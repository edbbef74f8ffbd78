"""Source registration and updates: valid input lands, bad input is refused with nothing written."""

from __future__ import annotations

import getpass
import json

import pytest

from datawarp.catalog import registry
from datawarp.core.errors import BadInputError, ConflictError, NotFoundError
from datawarp.core.naming import MAX_SOURCE_CODE_LENGTH
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import ADHD_MI


def _counts(conn) -> tuple[int, int]:
    sources = conn.execute("SELECT count(*) FROM datawarp.tbl_data_sources").fetchone()[0]
    audits = conn.execute("SELECT count(*) FROM datawarp.tbl_audit_log").fetchone()[0]
    return sources, audits


def test_register_stores_every_field_with_defaults_and_who(conn):
    record = registry.register_source(conn, **ADHD_MI)
    assert record.status == "registered"
    assert record.retention_days == 365
    assert record.load_mode == "APPEND"
    assert record.validation_required is True
    db_user = conn.execute("SELECT session_user").fetchone()[0]
    assert record.created_by == f"{db_user} (os: {getpass.getuser()})"
    assert record.created_at == record.updated_at
    stored = registry.get_source(conn, "adhd_mi")
    assert stored == record


def test_register_accepts_options(conn):
    record = registry.register_source(
        conn, **ADHD_MI, retention_days=730, load_mode="replace", validation_required=False
    )
    assert (record.retention_days, record.load_mode, record.validation_required) == (
        730,
        "REPLACE",
        False,
    )


BAD_REGISTRATIONS = [
    ({"source_code": "ADHD_MI"}, "Invalid source code 'ADHD_MI': use lowercase letters"),
    ({"source_code": "1adhd"}, "Invalid source code '1adhd'"),
    ({"source_code": "adhd-mi"}, "Invalid source code 'adhd-mi'"),
    ({"source_code": "_adhd"}, "Invalid source code '_adhd'"),
    ({"source_code": ""}, "Invalid source code ''"),
    ({"source_code": "a" * 42}, "42 characters, at most 41"),
    ({"owner": "someone"}, "Invalid owner 'someone': not a valid e-mail address"),
    ({"owner": "someone@"}, "Invalid owner 'someone@': not a valid e-mail address"),
    ({"purpose": ""}, "Invalid purpose '': must be 1-500 characters (got 0)"),
    ({"purpose": "x" * 501}, "must be 1-500 characters (got 501)"),
    ({"retention_days": 0}, "Invalid retention_days 0: must be between 1 and 36500"),
    ({"retention_days": 36501}, "Invalid retention_days 36501: must be between 1 and 36500"),
    ({"domain": "  "}, "Invalid domain '  ': must not be empty"),
    ({"publication": ""}, "Invalid publication '': must not be empty"),
    ({"load_mode": "MERGE"}, "Invalid load_mode 'MERGE'"),
]


@pytest.mark.parametrize(("change", "message"), BAD_REGISTRATIONS)
def test_bad_registration_is_refused_and_writes_nothing(conn, change, message):
    before = _counts(conn)
    with pytest.raises(BadInputError) as excinfo:
        registry.register_source(conn, **{**ADHD_MI, **change})
    assert message in excinfo.value.message
    assert "\n" not in excinfo.value.message
    assert _counts(conn) == before


def test_missing_required_field_is_named(conn):
    values = {k: v for k, v in ADHD_MI.items() if k != "domain"}
    with pytest.raises(BadInputError, match="Missing domain"):
        registry.register_source(conn, **values)
    assert _counts(conn) == (0, 0)


def test_maximum_length_code_is_accepted(conn):
    code = "a" * MAX_SOURCE_CODE_LENGTH
    registry.register_source(conn, **{**ADHD_MI, "source_code": code})
    assert len(f"tbl_{code}_archived_20261128".encode()) == 63


def test_duplicate_code_is_refused(conn):
    registry.register_source(conn, **ADHD_MI)
    before = _counts(conn)
    with pytest.raises(ConflictError, match="'adhd_mi' is already registered"):
        registry.register_source(conn, **{**ADHD_MI, "owner": "other@nhs.net"})
    assert _counts(conn) == before
    assert registry.get_source(conn, "adhd_mi").owner == "someone@nhs.net"


def test_database_refuses_bad_rows_written_by_hand(raw_conn):
    """The same rules hold for SQL typed into psql, not only for DataWarp."""
    bad_rows = [
        ("Bad", "someone@nhs.net", "purpose", 365),
        ("ok_code", "not-an-email", "purpose", 365),
        ("ok_code", "someone@nhs.net", "", 365),
        ("ok_code", "someone@nhs.net", "purpose", 0),
    ]
    for code, owner, purpose, retention in bad_rows:
        with pytest.raises(Exception, match="violates check constraint"):
            raw_conn.execute(
                "INSERT INTO datawarp.tbl_data_sources"
                " (source_code, publication, domain, owner, purpose, retention_days)"
                " VALUES (%s, 'p', 'd', %s, %s, %s)",
                (code, owner, purpose, retention),
            )
    count = raw_conn.execute("SELECT count(*) FROM datawarp.tbl_data_sources").fetchone()[0]
    assert count == 0


def test_update_changes_editable_fields(conn):
    registry.register_source(conn, **ADHD_MI)
    record = registry.update_source(
        conn, "adhd_mi", owner="new.owner@nhs.net", purpose="New purpose", retention_days=30
    )
    assert (record.owner, record.purpose, record.retention_days) == (
        "new.owner@nhs.net",
        "New purpose",
        30,
    )
    assert record.updated_at > record.created_at


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"owner": "nobody"}, "Invalid owner 'nobody'"),
        ({"purpose": "y" * 501}, "must be 1-500 characters"),
        ({"retention_days": -1}, "Invalid retention_days -1"),
        ({}, "Nothing to update"),
    ],
)
def test_bad_update_is_refused_and_writes_nothing(conn, change, message):
    registry.register_source(conn, **ADHD_MI)
    before = (_counts(conn), registry.get_source(conn, "adhd_mi"))
    with pytest.raises(BadInputError, match=message):
        registry.update_source(conn, "adhd_mi", **change)
    assert (_counts(conn), registry.get_source(conn, "adhd_mi")) == before


def test_update_of_unknown_source_is_not_found(conn):
    with pytest.raises(NotFoundError, match="'nope' is not registered"):
        registry.update_source(conn, "nope", owner="a@nhs.net")


def test_list_filters_by_status_and_domain(conn):
    registry.register_source(conn, **ADHD_MI)
    registry.register_source(
        conn, **{**ADHD_MI, "source_code": "ae_monthly", "domain": "Urgent and Emergency Care"}
    )
    registry.set_status(conn, "ae_monthly", "active")
    assert [s.source_code for s in registry.list_sources(conn)] == ["adhd_mi", "ae_monthly"]
    assert [s.source_code for s in registry.list_sources(conn, status="active")] == ["ae_monthly"]
    assert [s.source_code for s in registry.list_sources(conn, domain="clinical%")] == ["adhd_mi"]
    with pytest.raises(BadInputError, match="Invalid status 'live'"):
        registry.list_sources(conn, status="live")


# --- the same through the CLI, as a user types it ---------------------------------------


def test_cli_register_list_show_update(db_url):
    result = run_cli(
        "register", "adhd_mi",
        "--publication", ADHD_MI["publication"], "--domain", ADHD_MI["domain"],
        "--owner", ADHD_MI["owner"], "--purpose", ADHD_MI["purpose"],
        "--retention-days", "400", "--load-mode", "REPLACE", "--validation-required", "false",
        database_url=db_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Registered adhd_mi" in result.stdout

    listed = json.loads(run_cli("sources", "list", "--json", database_url=db_url).stdout)
    assert [(s["source_code"], s["retention_days"], s["load_mode"]) for s in listed] == [
        ("adhd_mi", 400, "REPLACE")
    ]
    assert listed[0]["validation_required"] is False

    table = run_cli("sources", "list", "--status", "registered", database_url=db_url).stdout
    assert "adhd_mi" in table and "ADHD Management Information" in table
    empty = run_cli("sources", "list", "--status", "active", "--json", database_url=db_url)
    assert json.loads(empty.stdout) == []

    updated = run_cli("update", "adhd_mi", "--owner", "x@nhs.net", database_url=db_url)
    assert updated.exit_code == 0
    shown = json.loads(run_cli("sources", "show", "adhd_mi", "--json", database_url=db_url).stdout)
    assert shown["owner"] == "x@nhs.net"
    assert [h["new_status"] for h in shown["status_history"]] == ["registered"]
    text = run_cli("sources", "show", "adhd_mi", database_url=db_url).stdout
    assert "Status history" in text and "deprecation_reason" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--owner", "bob"], "Error: Invalid owner 'bob': not a valid e-mail address"),
        (["--retention-days", "0"], "Error: Invalid retention_days 0"),
        (["--validation-required", "maybe"], "Error: Invalid validation_required 'maybe'"),
        (["--purpose", "p" * 501], "Error: Invalid purpose"),
        (["--domain", ""], "Error: Invalid domain ''"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(db_url, args, message):
    base = {
        "--publication": "P", "--domain": "D", "--owner": "a@nhs.net", "--purpose": "why",
    }  # fmt: skip
    overrides = dict(zip(args[::2], args[1::2], strict=True))
    argv = ["register", "good_code"]
    for option, value in {**base, **overrides}.items():
        argv += [option, value]
    result = run_cli(*argv, database_url=db_url)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    listed = json.loads(run_cli("sources", "list", "--json", database_url=db_url).stdout)
    assert listed == []


def test_cli_bad_source_code_and_duplicate(db_url):
    args = ["--publication", "P", "--domain", "D", "--owner", "a@nhs.net", "--purpose", "p"]
    bad = run_cli("register", "Bad-Code", *args, database_url=db_url)
    assert bad.exit_code == 2 and "Invalid source code 'Bad-Code'" in bad.stderr
    assert run_cli("register", "good", *args, database_url=db_url).exit_code == 0
    dup = run_cli("register", "good", *args, database_url=db_url)
    assert dup.exit_code == 2 and "'good' is already registered" in dup.stderr


def test_cli_show_unknown_source(db_url):
    result = run_cli("sources", "show", "missing", database_url=db_url)
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: Source 'missing' is not registered"
