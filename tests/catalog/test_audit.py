"""The audit trail: written by triggers for any client, append-only, hash-chained."""

from __future__ import annotations

import json

import psycopg
import pytest

from datawarp.catalog import audit, registry
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import ADHD_MI


def test_datawarp_changes_are_recorded_with_who_and_values(conn):
    registry.register_source(conn, **ADHD_MI)
    registry.update_source(conn, "adhd_mi", owner="new@nhs.net")
    entries = audit.read_audit_log(conn, "adhd_mi")
    assert [e.action for e in entries] == ["INSERT", "UPDATE"]
    insert, update = entries
    assert insert.old_values is None and insert.new_values["owner"] == "someone@nhs.net"
    assert update.changed_fields() == {"owner": ("someone@nhs.net", "new@nhs.net")}
    assert update.client_application == "datawarp"
    assert update.changed_by_os_user  # DataWarp passes the OS user to the trigger


def test_changes_made_outside_datawarp_are_recorded_too(conn, raw_conn):
    registry.register_source(conn, **ADHD_MI)
    raw_conn.execute(
        "UPDATE datawarp.tbl_data_sources SET purpose = 'edited in psql'"
        " WHERE source_code = 'adhd_mi'"
    )
    last = audit.read_audit_log(conn, "adhd_mi")[-1]
    assert last.client_application == "psql"
    assert last.changed_by_os_user is None
    assert last.changed_fields()["purpose"] == (ADHD_MI["purpose"], "edited in psql")


def test_update_without_field_changes_is_still_logged(conn, raw_conn):
    registry.register_source(conn, **ADHD_MI)
    raw_conn.execute("UPDATE datawarp.tbl_data_sources SET owner = owner")
    # updated_at changes on every UPDATE, so even a no-op is a real change of the row
    assert len(audit.read_audit_log(conn, "adhd_mi")) == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE datawarp.tbl_audit_log SET action = 'DELETE'",
        "DELETE FROM datawarp.tbl_audit_log",
        "TRUNCATE datawarp.tbl_audit_log",
    ],
)
def test_audit_log_is_append_only(conn, raw_conn, statement):
    registry.register_source(conn, **ADHD_MI)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        raw_conn.execute(statement)
    assert len(audit.read_audit_log(conn)) == 1


def _start_event(raw_conn) -> int:
    return raw_conn.execute(
        "INSERT INTO datawarp.tbl_load_events (source_code) VALUES ('adhd_mi') RETURNING load_id"
    ).fetchone()[0]


def test_load_event_can_be_finished_once(raw_conn):
    load_id = _start_event(raw_conn)
    raw_conn.execute(
        "UPDATE datawarp.tbl_load_events SET load_status = 'completed', completed_at = now(),"
        " rows_loaded = 10 WHERE load_id = %s",
        (load_id,),
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="load history is immutable"):
        raw_conn.execute(
            "UPDATE datawarp.tbl_load_events SET rows_loaded = 99 WHERE load_id = %s", (load_id,)
        )
    rows = raw_conn.execute("SELECT rows_loaded FROM datawarp.tbl_load_events").fetchone()[0]
    assert rows == 10


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM datawarp.tbl_load_events",
        "TRUNCATE datawarp.tbl_load_events CASCADE",
        "UPDATE datawarp.tbl_load_events SET source_code = 'other'",
        "UPDATE datawarp.tbl_load_events SET started_at = now() - interval '1 day'",
    ],
)
def test_load_history_cannot_be_deleted_or_rewritten(raw_conn, statement):
    _start_event(raw_conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw_conn.execute(statement)
    assert raw_conn.execute("SELECT count(*) FROM datawarp.tbl_load_events").fetchone()[0] == 1


def _make_history(conn) -> None:
    registry.register_source(conn, **ADHD_MI)
    for owner in ("a@nhs.net", "b@nhs.net", "c@nhs.net"):
        registry.update_source(conn, "adhd_mi", owner=owner)


def test_verify_passes_on_an_untouched_chain(conn):
    _make_history(conn)
    result = audit.verify_chain(conn)
    assert result.ok and result.rows_checked == 4
    head = conn.execute(
        "SELECT row_hash FROM datawarp.tbl_audit_log ORDER BY audit_id DESC LIMIT 1"
    ).fetchone()[0]
    assert result.head_hash == head


def _tamper(raw_conn, statement: str, audit_id: int) -> None:
    """What a superuser could do: switch the guard off, edit, switch it back on."""
    raw_conn.execute("ALTER TABLE datawarp.tbl_audit_log DISABLE TRIGGER USER")
    for part in statement.split(";"):
        raw_conn.execute(part, {"id": audit_id})
    raw_conn.execute("ALTER TABLE datawarp.tbl_audit_log ENABLE TRIGGER USER")


def _ids(raw_conn) -> list[int]:
    rows = raw_conn.execute("SELECT audit_id FROM datawarp.tbl_audit_log ORDER BY 1").fetchall()
    return [audit_id for (audit_id,) in rows]


def test_verify_finds_an_altered_row(conn, raw_conn):
    _make_history(conn)
    target = _ids(raw_conn)[2]
    _tamper(
        raw_conn,
        "UPDATE datawarp.tbl_audit_log SET new_values = jsonb_set(new_values, '{owner}',"
        " '\"evil@nhs.net\"') WHERE audit_id = %(id)s",
        target,
    )
    result = audit.verify_chain(conn)
    assert not result.ok
    assert result.first_broken_id == target
    assert "contents were altered" in result.problem


def test_verify_finds_a_deleted_row(conn, raw_conn):
    _make_history(conn)
    ids = _ids(raw_conn)
    _tamper(raw_conn, "DELETE FROM datawarp.tbl_audit_log WHERE audit_id = %(id)s", ids[1])
    result = audit.verify_chain(conn)
    assert result.first_broken_id == ids[2]
    assert "does not link" in result.problem


def test_verify_finds_a_rehashed_row_by_its_broken_link(conn, raw_conn):
    """Re-computing the edited row's own hash is not enough: the next row's link breaks."""
    _make_history(conn)
    ids = _ids(raw_conn)
    _tamper(
        raw_conn,
        "UPDATE datawarp.tbl_audit_log SET changed_by_db_user = 'nobody' WHERE audit_id ="
        " %(id)s; UPDATE datawarp.tbl_audit_log SET row_hash = datawarp.audit_row_hash("
        " prev_hash, audit_id, table_name, record_key, action, changed_by_db_user,"
        " changed_by_os_user, client_application, client_addr, transaction_id, changed_at,"
        " old_values, new_values) WHERE audit_id = %(id)s",
        ids[1],
    )
    result = audit.verify_chain(conn)
    assert result.first_broken_id == ids[2]


def test_cli_audit_log_and_verify(db_url, conn, raw_conn):
    _make_history(conn)
    log = run_cli("audit", "log", "adhd_mi", "--json", database_url=db_url)
    entries = json.loads(log.stdout)
    assert [e["action"] for e in entries] == ["INSERT", "UPDATE", "UPDATE", "UPDATE"]
    text = run_cli("audit", "log", database_url=db_url).stdout
    assert "b@nhs.net" in text and "c@nhs.net" in text
    ok = run_cli("audit", "verify", database_url=db_url)
    assert ok.exit_code == 0 and "Audit chain intact: 4 entries" in ok.stdout
    target = _ids(raw_conn)[0]
    _tamper(
        raw_conn,
        "UPDATE datawarp.tbl_audit_log SET record_key = 'x' WHERE audit_id = %(id)s",
        target,
    )
    broken = run_cli("audit", "verify", "--json", database_url=db_url)
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["first_broken_id"] == target


def _rehash_from(raw_conn, first_id: int) -> None:
    """The whole rewrite a superuser would need: every hash from ``first_id`` on, in order."""
    for audit_id in [i for i in _ids(raw_conn) if i >= first_id]:
        _tamper(
            raw_conn,
            "UPDATE datawarp.tbl_audit_log SET prev_hash = coalesce((SELECT row_hash FROM"
            " datawarp.tbl_audit_log p WHERE p.audit_id < %(id)s ORDER BY p.audit_id DESC"
            " LIMIT 1), repeat('0', 64)) WHERE audit_id = %(id)s; UPDATE datawarp.tbl_audit_log"
            " SET row_hash = datawarp.audit_row_hash(prev_hash, audit_id, table_name, record_key,"
            " action, changed_by_db_user, changed_by_os_user, client_application, client_addr,"
            " transaction_id, changed_at, old_values, new_values) WHERE audit_id = %(id)s",
            audit_id,
        )


def test_an_anchor_kept_outside_catches_a_full_rewrite_and_removed_newest_rows(
    db_url, conn, raw_conn, tmp_path
):
    _make_history(conn)
    kept = tmp_path / "anchor.json"
    made = run_cli("audit", "anchor", "--out", str(kept), database_url=db_url)
    assert made.exit_code == 0, made.stderr
    assert json.loads(kept.read_text())["entries"] == 4
    registry.update_source(conn, "adhd_mi", owner="d@nhs.net")  # history goes on after it
    fine = run_cli("audit", "verify", "--anchor", str(kept), database_url=db_url)
    assert fine.exit_code == 0, fine.stdout + fine.stderr

    ids = _ids(raw_conn)
    _tamper(raw_conn, "UPDATE datawarp.tbl_audit_log SET record_key = 'x' WHERE audit_id = %(id)s",
            ids[1])  # fmt: skip
    _rehash_from(raw_conn, ids[1])
    assert audit.verify_chain(conn).ok  # the rewrite is consistent: only the anchor knows
    rewritten = run_cli("audit", "verify", "--anchor", str(kept), database_url=db_url)
    assert rewritten.exit_code == 1
    assert "no longer has the anchor's hash" in rewritten.stdout

    _tamper(raw_conn, "DELETE FROM datawarp.tbl_audit_log WHERE audit_id >= %(id)s", ids[3])
    removed = run_cli("audit", "verify", "--anchor", str(kept), "--json", database_url=db_url)
    assert removed.exit_code == 1
    assert "the anchor, is gone" in json.loads(removed.stdout)["problem"]


def _finished_loads(db_url, tmp_path, home, count: int) -> None:
    from tests.pipeline.helpers import HEADER, provider_rows, run, write_csv, write_manifest

    for number in range(count):
        period = f"2025-0{number + 1}"
        data = write_csv(tmp_path / f"{period}.csv", HEADER, provider_rows(period))
        manifest = write_manifest(tmp_path, [{"source_code": "chain", "path": data.name}],
                                  period=period)  # fmt: skip
        report, _ = run(db_url, home, manifest, test=True)
        assert report.outcomes[0].status == "completed", report.outcomes[0].error


def _tamper_loads(raw_conn, statement: str, load_id: int) -> None:
    raw_conn.execute("SET session_replication_role = replica")  # every trigger off
    raw_conn.execute(statement, {"id": load_id})
    raw_conn.execute("SET session_replication_role = origin")


def test_the_load_history_chain_catches_an_edited_or_deleted_load(
    db_url, conn, raw_conn, tmp_path, home
):
    _finished_loads(db_url, tmp_path, home, 3)
    loads = [r[0] for r in raw_conn.execute(
        "SELECT load_id FROM datawarp.tbl_load_events ORDER BY chain_position").fetchall()]  # fmt: skip
    assert audit.verify_load_chain(conn).ok and audit.verify_load_chain(conn).rows_checked == 3
    ok = run_cli("audit", "verify", database_url=db_url)
    assert ok.exit_code == 0 and "Load history intact: 3 finished loads" in ok.stdout

    _tamper_loads(raw_conn, "UPDATE datawarp.tbl_load_events SET rows_loaded = 1"
                            " WHERE load_id = %(id)s", loads[1])  # fmt: skip
    edited = audit.verify_load_chain(conn)
    assert (edited.first_broken_id, "its record was altered" in edited.problem) == (loads[1], True)
    broken = run_cli("audit", "verify", "--json", database_url=db_url)
    assert broken.exit_code == 1 and json.loads(broken.stdout)["first_broken_id"] == loads[1]

    _tamper_loads(raw_conn, "DELETE FROM datawarp.tbl_load_events WHERE load_id = %(id)s",
                  loads[1])  # fmt: skip
    deleted = audit.verify_load_chain(conn)
    assert deleted.first_broken_id == loads[2] and "was removed" in deleted.problem
    assert audit.identity_gaps(conn)["load_ids_unused"] == 1  # the deleted load's id


def test_changes_made_with_the_audit_triggers_off_are_reported(db_url, conn, raw_conn):
    _make_history(conn)
    assert audit.unaudited_changes(conn) == []
    raw_conn.execute("SET session_replication_role = replica")
    raw_conn.execute("UPDATE datawarp.tbl_data_sources SET owner = 'mallory@nhs.net'")
    raw_conn.execute(
        "INSERT INTO datawarp.tbl_data_sources (source_code, publication, domain, owner,"
        " purpose) VALUES ('planted', 'P', 'D', 'm@nhs.net', 'never audited')"
    )
    raw_conn.execute("SET session_replication_role = origin")
    assert audit.unaudited_changes(conn) == [
        "datawarp.tbl_data_sources 'adhd_mi' differs from its last audit entry",
        "datawarp.tbl_data_sources 'planted' has no audit entry",
    ]
    result = run_cli("audit", "verify", database_url=db_url)
    assert result.exit_code == 1
    assert "'adhd_mi' differs from its last audit entry (changed while the audit" in result.stdout

    raw_conn.execute("SET session_replication_role = replica")
    raw_conn.execute("DELETE FROM datawarp.tbl_data_sources WHERE source_code = 'adhd_mi'")
    raw_conn.execute("SET session_replication_role = origin")
    assert "datawarp.tbl_data_sources 'adhd_mi' was removed without an audit entry" in (
        audit.unaudited_changes(conn)
    )
