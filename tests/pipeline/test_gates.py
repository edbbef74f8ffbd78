"""Validation gates: files that trip each gate, the statuses stored, rollback and the report."""

from __future__ import annotations

import json

import pytest

from datawarp.catalog import registry
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import events, register, run, table_exists, write_csv, write_manifest

BASE = ["Org Code", "Org Name", "Attendances"]


def _rows(count: int, start: int = 1) -> list[list[object]]:
    return [[f"R{i:03d}", f"Trust {i}", 100 + i] for i in range(start, start + count)]


def _load(conn, db_url, tmp_path, home, header, rows, period="2025-09", **source):
    path = write_csv(tmp_path / f"{period}.csv", header, rows)
    entry = {"source_code": "ae", "path": path.name, "period": period, **source}
    report, notifications = run(db_url, home, write_manifest(tmp_path, [entry]), force=True)
    return report.outcomes[0], notifications


def _stored(conn, load_id: int) -> dict[str, str]:
    rows = conn.execute(
        "SELECT check_name, status FROM datawarp.tbl_validation_results WHERE load_id = %s",
        (load_id,),
    ).fetchall()
    return dict(rows)


def test_clean_load_passes_every_gate_and_prints_the_seed_report(conn, db_url, tmp_path, home):
    register(conn, "ae")
    source = {
        "primary_key": ["org_code"],
        "columns": {
            "org_code": {"description": "ODS code", "search_terms": ["trust"]},
            "org_name": {"description": "Provider name"},
        },
    }
    first, _ = _load(conn, db_url, tmp_path, home, BASE, _rows(20), "2025-08", **source)
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, _rows(21), "2025-09", **source)
    assert _stored(conn, outcome.load_id) == {
        "row_change": "pass", "columns_added": "pass", "all_null_columns": "pass",
        "duplicate_keys": "pass", "duplicate_rows": "pass", "descriptions": "pass",
    }  # fmt: skip
    from datawarp.pipeline.validation_report import plain_report

    assert plain_report(outcome.validation).splitlines() == [
        "✓ Row count: 21 (within 5% of previous: 20)",
        "✓ Schema: 3 columns (no changes)",
        "✓ Data quality: No NULL columns, 0 duplicate keys, 0 duplicate rows",
        "✓ Metadata: 2/3 columns have descriptions (67%)",
    ]
    source_row = registry.get_source(conn, "ae")
    assert source_row.last_validated_at is not None


def test_fewer_than_ten_rows_warns(conn, db_url, tmp_path, home):
    register(conn, "ae")
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, _rows(7))
    assert outcome.status == "completed"
    stored = _stored(conn, outcome.load_id)
    assert stored["too_few_rows"] == "warn" and stored["row_change"] == "pass"


def test_sixty_percent_drop_warns_against_the_same_kind_of_period(conn, db_url, tmp_path, home):
    register(conn, "ae")
    _load(conn, db_url, tmp_path, home, BASE, _rows(100), "2025-08")
    _load(conn, db_url, tmp_path, home, BASE, _rows(12), "2025-26")  # a yearly file between
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, _rows(40), "2025-09")
    check = next(r for r in outcome.validation if r.check_name == "row_change")
    assert check.status == "warn"
    assert check.details["previous_rows"] == 100 and check.details["previous_period"] == "2025-08"
    assert check.message == "40 (-60% vs previous: 100; limit ±50%)"


def test_eleven_new_columns_alert_and_are_held_for_review(conn, db_url, tmp_path, home):
    register(conn, "ae")
    _load(conn, db_url, tmp_path, home, BASE, _rows(20), "2025-08")
    extra = [f"Measure {n}" for n in range(1, 12)]
    rows = [[*row, *range(11)] for row in _rows(20)]
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE + extra, rows, "2025-09")
    check = next(r for r in outcome.validation if r.check_name == "columns_added")
    assert check.status == "warn"
    assert check.details["added"] == [f"measure_{n}" for n in range(1, 12)]
    assert "11 new (11 held for review)" in check.message


def test_integer_turning_decimal_is_a_logged_type_change(conn, db_url, tmp_path, home):
    register(conn, "ae")
    _load(conn, db_url, tmp_path, home, BASE, _rows(20), "2025-08")
    rows = _rows(20)
    rows[3][2] = 99.5
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, rows, "2025-09")
    stored = _stored(conn, outcome.load_id)
    assert stored["type_changes"] == "warn"
    check = next(r for r in outcome.validation if r.check_name == "type_changes")
    assert check.message == "type changes: attendances smallint→numeric"


def test_all_null_and_fully_suppressed_columns_are_told_apart(conn, db_url, tmp_path, home):
    register(conn, "ae")
    header = [*BASE, "Empty", "Suppressed"]
    rows = [[*row, "", "*"] for row in _rows(20)]
    outcome, _ = _load(conn, db_url, tmp_path, home, header, rows)
    check = next(r for r in outcome.validation if r.check_name == "all_null_columns")
    assert check.status == "warn"
    assert check.details == {"all_null": ["empty"], "fully_suppressed": ["suppressed"]}
    header = [*BASE, "Suppressed"]
    rows = [[*row, "*"] for row in _rows(20)]
    outcome, _ = _load(conn, db_url, tmp_path, home, header, rows, "2025-10")
    stored = _stored(conn, outcome.load_id)
    assert stored["fully_suppressed_columns"] == "warn" and "all_null_columns" not in stored


def test_duplicate_keys_fail_and_roll_back_when_validation_is_required(
    conn, db_url, tmp_path, home
):
    register(conn, "ae", validation_required=True)
    rows = _rows(20) + [["R001", "Again", 1], ["R002", "Again", 2], ["R002", "Thrice", 3]]
    outcome, notifications = _load(
        conn, db_url, tmp_path, home, BASE, rows, primary_key=["org_code"]
    )
    assert outcome.status == "rolled_back"
    check = next(r for r in outcome.validation if r.check_name == "duplicate_keys")
    assert check.status == "fail"
    assert check.details["duplicate_keys"] == 2 and check.details["rows_involved"] == 5
    assert check.details["examples"] == ['["R002"]', '["R001"]']
    (event,) = events(conn, "ae")
    assert event["load_status"] == "rolled_back" and "duplicate_keys" in event["error_message"]
    assert _stored(conn, event["load_id"])["duplicate_keys"] == "fail"  # kept after rollback
    assert not table_exists(conn, "staging.tbl_ae")
    assert registry.get_source(conn, "ae").status == "registered"
    assert [n.kind for n in notifications] == ["validation_failed"]


def test_duplicate_keys_do_not_roll_back_without_validation_required(conn, db_url, tmp_path, home):
    register(conn, "ae", validation_required=False)
    rows = _rows(20) + [["R001", "Again", 1]]
    quiet, _ = _load(conn, db_url, tmp_path, home, BASE, rows, primary_key=["org_code"])
    assert quiet.status == "completed" and quiet.validation == []  # gates off
    path = tmp_path / "2025-09.csv"
    entry = {
        "source_code": "ae",
        "path": path.name,
        "period": "2025-10",
        "primary_key": ["org_code"],
    }
    report, _ = run(db_url, home, write_manifest(tmp_path, [entry]), validate=True)
    outcome = report.outcomes[0]
    assert outcome.status == "completed"  # --validate records the fail but does not roll back
    assert _stored(conn, outcome.load_id)["duplicate_keys"] == "fail"


def test_dates_far_in_the_future_or_past_are_counted(conn, db_url, tmp_path, home):
    register(conn, "ae")
    header = [*BASE, "Report Date"]
    rows = [[*row, "01/04/2025"] for row in _rows(20)]
    rows[0][3], rows[1][3] = "01/01/2099", "15/06/1990"
    outcome, _ = _load(conn, db_url, tmp_path, home, header, rows)
    check = next(r for r in outcome.validation if r.check_name == "date_range")
    assert check.status == "warn"
    stats = check.details["columns"]["report_date"]
    assert stats == {"min": "1990-06-15", "max": "2099-01-01", "future": 1, "ages": "0, 35",
                     "apart": {"until": "1990-09-30", "since": "2024-09-30"}}  # fmt: skip
    assert check.message.startswith("report_date: 1 more than 366 days after the period loaded")


def test_no_descriptions_and_no_search_terms_warn(conn, db_url, tmp_path, home):
    register(conn, "ae")
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, _rows(20))
    stored = _stored(conn, outcome.load_id)
    assert stored["descriptions"] == "warn" and stored["search_terms"] == "warn"
    check = next(r for r in outcome.validation if r.check_name == "descriptions")
    assert check.message == "0/3 columns have descriptions (0%)"


def test_header_only_file_fails_zero_rows_and_rolls_back(conn, db_url, tmp_path, home):
    register(conn, "ae")
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, [])
    assert outcome.status == "rolled_back"
    assert _stored(conn, outcome.load_id)["zero_rows"] == "fail"
    assert not table_exists(conn, "staging.tbl_ae")


def test_thresholds_and_severity_are_configurable_per_source(conn, db_url, tmp_path, home):
    register(conn, "ae")
    source = {"validation": {"min_rows": 3, "severity": {"descriptions": "fail"}}}
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, _rows(5), **source)
    stored = _stored(conn, outcome.load_id)
    assert "too_few_rows" not in stored
    assert stored["descriptions"] == "fail" and outcome.status == "rolled_back"


def test_validate_command_reruns_and_show_prints_a_past_report(conn, db_url, tmp_path, home):
    register(conn, "ae")
    outcome, _ = _load(conn, db_url, tmp_path, home, BASE, _rows(20))
    result = run_cli("validate", "ae", "--json", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["load_id"] == outcome.load_id and data["status"] == "warn"
    runs = conn.execute(
        "SELECT count(DISTINCT run_id) FROM datawarp.tbl_validation_results WHERE load_id = %s",
        (outcome.load_id,),
    ).fetchone()[0]
    assert runs == 2
    shown = run_cli("validation", "show", str(outcome.load_id), database_url=db_url)
    assert "✓ Schema: 3 columns (new table)" in shown.stdout
    assert (
        "⚠ Metadata: 0/3 columns have descriptions (0%), no search terms for this source"
        in shown.stdout
    )
    described = run_cli("describe", "ae", "org_code", "ODS code", "--search-terms", "trust,provider",
                        database_url=db_url)  # fmt: skip
    assert described.exit_code == 0
    again = json.loads(run_cli("validate", "ae", "--json", database_url=db_url).stdout)
    metadata = [r for r in again["results"] if r["validation_type"] == "metadata"]
    assert [r["message"] for r in metadata] == ["1/3 columns have descriptions (33%)"]
    comment = conn.execute("SELECT col_description('staging.tbl_ae'::regclass, 1)").fetchone()[0]
    assert comment == "ODS code"


def test_validation_results_are_append_only(conn, raw_conn, db_url, tmp_path, home):
    register(conn, "ae")
    _load(conn, db_url, tmp_path, home, BASE, _rows(20))
    with pytest.raises(Exception, match="append-only"):
        raw_conn.execute("DELETE FROM datawarp.tbl_validation_results")


def test_gates_use_the_tables_types_when_an_edition_changes_a_columns_type(
    conn, db_url, tmp_path, home
):
    register(conn, "ae")
    header = [*BASE, "Extract Date"]
    first, _ = _load(conn, db_url, tmp_path, home, header,
                     [[*row, "01JAN2021"] for row in _rows(20)], period="2025-08")  # fmt: skip
    assert first.status == "completed", first.error
    path = write_csv(tmp_path / "2025-09.csv", header, [[*row, "2025-09-01"] for row in _rows(20)])
    entry = {"source_code": "ae", "path": path.name, "period": "2025-09"}
    report, _ = run(db_url, home, write_manifest(tmp_path, [entry]), validate=True)
    (second,) = report.outcomes
    assert second.status == "completed", second.error
    stored = conn.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'staging'"
        " AND table_name = 'tbl_ae' AND column_name = 'extract_date'"
    ).fetchone()[0]
    assert stored == "text"  # the table stays text; the gates ran on it without a date compare
    names = {r.check_name for r in second.validation}
    assert "all_null_columns" in names and "date_range" not in names  # text has no date range
