"""Schema drift: few new columns are added, many are held for review and backfilled on approval."""

from __future__ import annotations

import json

import pytest

from datawarp.catalog import schema_changes
from datawarp.catalog.introspect import table_columns
from datawarp.core.errors import ConflictError
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import (
    HEADER,
    provider_rows,
    register,
    run,
    table_rows,
    write_csv,
    write_manifest,
)


def _load(conn, db_url, tmp_path, home, header, rows, period):
    path = write_csv(tmp_path / f"{period}.csv", header, rows)
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": path.name}], period=period)
    report, notifications = run(db_url, home, manifest)
    return report.outcomes[0], notifications


def _with_extra(period: str, extra: list[str]) -> tuple[list[str], list[list[object]]]:
    rows = provider_rows(period)
    return HEADER + extra, [
        [*row, *[i * 10 + n for n in range(len(extra))]] for i, row in enumerate(rows)
    ]


def _columns(conn) -> list[str]:
    return list(table_columns(conn, "staging", "tbl_ae"))


def test_few_new_columns_are_added_automatically(conn, db_url, tmp_path, home):
    register(conn, "ae")
    _load(conn, db_url, tmp_path, home, HEADER, provider_rows("2025-08"), "2025-08")
    header, rows = _with_extra("2025-09", ["Booked Appointments", "Type 3"])
    outcome, notifications = _load(conn, db_url, tmp_path, home, header, rows, "2025-09")
    assert outcome.status == "completed" and outcome.columns_added == 2
    assert _columns(conn)[-2:] == ["booked_appointments", "type_3"]
    changes = schema_changes.list_changes(conn)
    assert [(c["kind"], c["status"]) for c in changes] == [("create", "auto"), ("add", "auto")]
    assert [c["name"] for c in changes[1]["columns"]] == ["booked_appointments", "type_3"]
    old = table_rows(conn, "staging.tbl_ae", "booked_appointments", "_period, _row_number")
    assert old[0] == (None,) and old[-1] == (120,)
    assert notifications == []


EXTRA = [f"New measure {n}" for n in range(1, 7)]


def _held_load(conn, db_url, tmp_path, home):
    register(conn, "ae")
    _load(conn, db_url, tmp_path, home, HEADER, provider_rows("2025-08"), "2025-08")
    header, rows = _with_extra("2025-09", EXTRA)
    return _load(conn, db_url, tmp_path, home, header, rows, "2025-09")


def test_many_new_columns_wait_for_review_and_the_load_continues(conn, db_url, tmp_path, home):
    outcome, notifications = _held_load(conn, db_url, tmp_path, home)
    assert outcome.status == "completed" and outcome.rows_loaded == 13
    assert outcome.columns_added == 0
    assert _columns(conn) == ["period", "org_code", "org_name", "attendances", "over_4_hours"]
    (pending,) = schema_changes.list_changes(conn, "pending")
    assert pending["load_id"] == outcome.load_id and pending["held_rows"] == 13
    assert [c["name"] for c in pending["columns"]] == [f"new_measure_{n}" for n in range(1, 7)]
    (notice,) = notifications
    assert notice.kind == "schema_review" and notice.recipient == "dba"


def test_approval_adds_the_columns_and_backfills_without_the_file(conn, db_url, tmp_path, home):
    _held_load(conn, db_url, tmp_path, home)
    (pending,) = schema_changes.list_changes(conn, "pending")
    for path in tmp_path.glob("*.csv"):
        path.unlink()  # approval must not need the file again
    result = run_cli("schema-changes", "approve", str(pending["change_id"]), "--note", "expected",
                     database_url=db_url)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "13 rows backfilled" in result.stdout
    values = table_rows(
        conn, "staging.tbl_ae", "new_measure_1, new_measure_6", "_period, _row_number"
    )
    assert values[:13] == [(None, None)] * 13  # August had no such columns
    assert values[13] == (0, 5) and values[-1] == (120, 125)
    decided = schema_changes.get_change(conn, pending["change_id"])
    assert decided["status"] == "approved" and decided["decision_note"] == "expected"
    assert decided["held_rows"] == 0
    with pytest.raises(ConflictError, match="is approved, not pending"):
        schema_changes.approve(conn, pending["change_id"])


def test_rejection_discards_the_held_values(conn, db_url, tmp_path, home):
    _held_load(conn, db_url, tmp_path, home)
    (pending,) = schema_changes.list_changes(conn, "pending")
    result = run_cli("schema-changes", "reject", str(pending["change_id"]), database_url=db_url)
    assert result.exit_code == 0
    listed = json.loads(run_cli("schema-changes", "list", "--json", database_url=db_url).stdout)
    assert [c["status"] for c in listed] == ["auto", "rejected"]
    assert "new_measure_1" not in _columns(conn)


def test_a_second_file_with_the_same_new_columns_joins_the_pending_request(
    conn, db_url, tmp_path, home
):
    _held_load(conn, db_url, tmp_path, home)
    header, rows = _with_extra("2025-10", EXTRA)
    outcome, _ = _load(conn, db_url, tmp_path, home, header, rows, "2025-10")
    (pending,) = schema_changes.list_changes(conn, "pending")
    assert pending["held_rows"] == 26
    schema_changes.approve(conn, pending["change_id"])
    backfilled = conn.execute(
        "SELECT count(*) FROM staging.tbl_ae WHERE new_measure_1 IS NOT NULL"
    ).fetchone()[0]
    assert backfilled == 26


def test_integer_column_turning_decimal_is_widened_and_logged(conn, db_url, tmp_path, home):
    register(conn, "ae")
    _load(conn, db_url, tmp_path, home, HEADER, provider_rows("2025-08"), "2025-08")
    rows = provider_rows("2025-09")
    rows[0][3] = 100.5
    outcome, _ = _load(conn, db_url, tmp_path, home, HEADER, rows, "2025-09")
    assert outcome.status == "completed"
    assert table_columns(conn, "staging", "tbl_ae")["attendances"] == "numeric"
    widened = [c for c in schema_changes.list_changes(conn) if c["kind"] == "widen"]
    assert widened[0]["columns"] == [
        {"name": "attendances", "old_type": "smallint", "type": "numeric"}
    ]
    # narrower data later fits the wider column and changes nothing
    _load(conn, db_url, tmp_path, home, HEADER, provider_rows("2025-10"), "2025-10")
    assert table_columns(conn, "staging", "tbl_ae")["attendances"] == "numeric"
    assert len([c for c in schema_changes.list_changes(conn) if c["kind"] == "widen"]) == 1


def test_schema_change_cli_show_and_unknown(conn, db_url, tmp_path, home):
    _held_load(conn, db_url, tmp_path, home)
    (pending,) = schema_changes.list_changes(conn, "pending")
    shown = run_cli("schema-changes", "show", str(pending["change_id"]), database_url=db_url)
    assert "new_measure_1" in shown.stdout and "pending" in shown.stdout
    missing = run_cli("schema-changes", "approve", "999", database_url=db_url)
    assert missing.exit_code == 2 and missing.stderr == "Error: Schema change 999 not found\n"


def test_a_column_empty_so_far_takes_the_type_of_the_first_values(conn, db_url, tmp_path, home):
    """A month not yet published when the table was made (all blank) is typed by the edition
    that brings its figures, instead of staying text for ever."""
    register(conn, "ae")
    conn.commit()
    header = ["Service", "Apr-25", "May-25"]
    first = [["Beds", 10, ""], ["Cots", 20, ""]]
    _load(conn, db_url, tmp_path, home, header, first, "2025-04")
    assert table_columns(conn, "staging", "tbl_ae")["may_25"] == "text"
    conn.commit()  # let go of the table: the next load alters it
    second = [["Beds", 11, 12], ["Cots", 21, 22]]
    outcome, _ = _load(conn, db_url, tmp_path, home, header, second, "2025-05")
    assert outcome.status == "completed"
    assert table_columns(conn, "staging", "tbl_ae")["may_25"] == "smallint"
    assert table_rows(conn, "staging.tbl_ae", "_period, may_25", "_period, _row_number") == [
        ("2025-04", None), ("2025-04", None), ("2025-05", 12), ("2025-05", 22)
    ]  # fmt: skip
    changes = [c for c in schema_changes.list_changes(conn) if c["kind"] == "widen"]
    assert len(changes) == 1  # recorded like any widening
