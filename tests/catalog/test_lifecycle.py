"""Status transitions are enforced by the database, whoever writes the UPDATE."""

from __future__ import annotations

import psycopg
import pytest

from datawarp.catalog import registry
from datawarp.core.errors import ConflictError

ALLOWED = [
    ("registered", "active"),
    ("active", "deprecated"),
    ("deprecated", "active"),
    ("deprecated", "archived"),
]
PATHS = {
    "registered": [],
    "active": ["active"],
    "deprecated": ["active", "deprecated"],
    "archived": ["active", "deprecated", "archived"],
}
STATUSES = list(PATHS)


def _source_in(raw_conn, status: str, code: str = "src") -> None:
    raw_conn.execute(
        "INSERT INTO datawarp.tbl_data_sources (source_code, publication, domain, owner, purpose)"
        " VALUES (%s, 'P', 'D', 'o@nhs.net', 'why')",
        (code,),
    )
    for step in PATHS[status]:
        _set_status(raw_conn, code, step)


def _set_status(raw_conn, code: str, status: str) -> None:
    raw_conn.execute(
        "UPDATE datawarp.tbl_data_sources SET status = %s,"
        " archived_at = CASE WHEN %s = 'archived' THEN now() END WHERE source_code = %s",
        (status, status, code),
    )


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_allowed_transitions_by_hand_written_sql(raw_conn, old, new):
    _source_in(raw_conn, old)
    _set_status(raw_conn, "src", new)
    status = raw_conn.execute("SELECT status FROM datawarp.tbl_data_sources").fetchone()[0]
    assert status == new


@pytest.mark.parametrize(
    ("old", "new"),
    [(o, n) for o in STATUSES for n in STATUSES if o != n and (o, n) not in ALLOWED],
)
def test_forbidden_transitions_fail_in_the_database(raw_conn, old, new):
    _source_in(raw_conn, old)
    with pytest.raises(psycopg.errors.CheckViolation, match=f"from {old} to {new}"):
        _set_status(raw_conn, "src", new)
    status = raw_conn.execute("SELECT status FROM datawarp.tbl_data_sources").fetchone()[0]
    assert status == old


def test_new_source_cannot_start_active(raw_conn):
    with pytest.raises(psycopg.errors.CheckViolation, match="must start with status registered"):
        raw_conn.execute(
            "INSERT INTO datawarp.tbl_data_sources"
            " (source_code, publication, domain, owner, purpose, status)"
            " VALUES ('x', 'P', 'D', 'o@nhs.net', 'why', 'active')"
        )


def test_created_by_cannot_be_forged_or_rewritten(raw_conn):
    raw_conn.execute(
        "INSERT INTO datawarp.tbl_data_sources"
        " (source_code, publication, domain, owner, purpose, created_by)"
        " VALUES ('x', 'P', 'D', 'o@nhs.net', 'why', 'someone else')"
    )
    who = raw_conn.execute("SELECT created_by FROM datawarp.tbl_data_sources").fetchone()[0]
    assert who == raw_conn.execute("SELECT session_user").fetchone()[0]
    with pytest.raises(psycopg.errors.CheckViolation, match="immutable"):
        raw_conn.execute("UPDATE datawarp.tbl_data_sources SET created_by = 'me'")


def test_library_transition_errors_are_one_line(conn, raw_conn):
    _source_in(raw_conn, "archived", "old_source")
    with pytest.raises(ConflictError) as excinfo:
        registry.set_status(conn, "old_source", "active")
    assert "status cannot change from archived to active" in excinfo.value.message
    assert "\n" not in excinfo.value.message
