"""The success-criteria scorecard: the pure policy on made-up facts, then every failing
condition built for real in a migrated database, and `datawarp scorecard --strict`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from datawarp.catalog.scorecard_queries import (
    ColumnCoverage,
    LoadCounts,
    Recovery,
    RepeatedFile,
    StagingTable,
    ValidationCounts,
)
from datawarp.core.clock import SYSTEM_CLOCK, FixedClock
from datawarp.core.monitoring_settings import MonitoringSettings
from datawarp.ops.scorecard import Criterion, Facts, duplicates_with_rows, judge, scorecard
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)

# --- the policy, without a database -------------------------------------------------------


def _facts(**changes) -> Facts:
    """A healthy warehouse: 20 loads, 20 owned tables, all described, nothing stale."""
    healthy = Facts(
        as_of=NOW,
        loads=LoadCounts(finished=20, completed=20),
        tables=[StagingTable(f"tbl_s{i}", f"s{i}", "o@nhs.net") for i in range(20)],
        undocumented=[],
        validation=ValidationCounts(required=20, unvalidated=0, unvalidated_sample=[]),
        recoveries=[],
        columns=ColumnCoverage(columns=100, described=100, undescribed_sample=[]),
        duplicates=[],
        active_sources=20,
        stale_sources=[],
    )
    return replace(healthy, **changes)


def _by_key(facts: Facts) -> dict[str, Criterion]:
    return {c.key: c for c in judge(facts).criteria}


def _judged(facts: Facts, key: str) -> tuple[float | int | None, bool]:
    criterion = _by_key(facts)[key]
    return criterion.value, criterion.passed


def test_a_healthy_warehouse_passes_every_criterion_in_the_specified_order():
    card = judge(_facts())
    assert card.passed and card.days == 30
    assert [c.key for c in card.criteria] == [
        "load_success_rate", "orphaned_tables", "undocumented_sources", "loads_validated",
        "failures_resolved", "metadata_coverage", "duplicate_data", "tables_with_owners",
        "stale_sources",
    ]  # fmt: skip


def test_nothing_to_measure_passes_without_a_value():
    empty = _facts(
        loads=LoadCounts(0, 0),
        tables=[],
        validation=ValidationCounts(0, 0, []),
        columns=ColumnCoverage(0, 0, []),
        active_sources=0,
    )
    card = judge(empty)
    assert card.passed
    assert {c.key for c in card.criteria if c.value is None} == {
        "load_success_rate", "orphaned_tables", "loads_validated", "failures_resolved",
        "metadata_coverage", "tables_with_owners", "stale_sources",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("key", "changes", "expected"),
    [
        ("load_success_rate", {"loads": LoadCounts(20, 19)}, (95.0, True)),
        ("load_success_rate", {"loads": LoadCounts(1000, 949)}, (94.9, False)),
        ("load_success_rate", {"loads": LoadCounts(100000, 94996)}, (95.0, False)),  # unrounded
        ("metadata_coverage", {"columns": ColumnCoverage(10, 9, ["a.x"])}, (90.0, True)),
        ("metadata_coverage", {"columns": ColumnCoverage(1000, 899, [])}, (89.9, False)),
        ("loads_validated", {"validation": ValidationCounts(20, 1, [7])}, (95.0, False)),
        ("undocumented_sources", {"undocumented": ["adhd"]}, (1, False)),
        ("stale_sources", {"active_sources": 21, "stale_sources": ["a"]}, (4.8, True)),
        ("stale_sources", {"stale_sources": ["a"]}, (5.0, False)),
    ],
)
def test_thresholds(key, changes, expected):
    assert _judged(_facts(**changes), key) == expected


def test_one_orphan_in_twenty_tables_is_five_percent_and_fails_both_table_criteria():
    tables = [*_facts().tables[:19], StagingTable("tbl_mystery", None, None)]
    criteria = _by_key(_facts(tables=tables))
    assert (criteria["orphaned_tables"].value, criteria["orphaned_tables"].passed) == (5.0, False)
    assert criteria["orphaned_tables"].detail.endswith(": tbl_mystery")
    owners = criteria["tables_with_owners"]
    assert (owners.value, owners.passed) == (95.0, False)


def test_a_blank_owner_fails_tables_with_owners_but_is_no_orphan():
    tables = [*_facts().tables[:19], StagingTable("tbl_s19", "s19", "  ")]
    criteria = _by_key(_facts(tables=tables))
    assert criteria["orphaned_tables"].passed
    assert "not: tbl_s19" in criteria["tables_with_owners"].detail


def _failure(hours_to_recover: float | None, failed_hours_ago: float = 48) -> Recovery:
    failed_at = NOW - timedelta(hours=failed_hours_ago)
    recovered = None if hours_to_recover is None else failed_at + timedelta(hours=hours_to_recover)
    return Recovery(1, "ae", failed_at, recovered)


@pytest.mark.parametrize(
    ("recovery", "expected"),
    [
        (_failure(24), (24.0, True)),
        (_failure(24 + 1 / 3600), (24.0, False)),  # shown rounded, judged exactly
        (_failure(None, failed_hours_ago=23), (23.0, True)),  # still within its 24 hours
        (_failure(None, failed_hours_ago=25), (25.0, False)),
    ],
)
def test_failures_are_resolved_within_24_hours_or_fail(recovery, expected):
    assert _judged(_facts(recoveries=[recovery]), "failures_resolved") == expected


def test_the_worst_failure_is_the_value_and_is_named():
    recoveries = [_failure(2), replace(_failure(30), load_id=9, source_code="rtt"), _failure(1)]
    criterion = _by_key(_facts(recoveries=recoveries))["failures_resolved"]
    assert (criterion.value, criterion.passed) == (30.0, False)
    assert "worst: load 9 of rtt (resolved after 30.0 h)" in criterion.detail
    assert criterion.detail.startswith("3 failed loads, 1 not followed by a success within 24 h")


def test_a_duplicate_counts_only_while_both_loads_have_rows():
    repeats = [
        RepeatedFile("ae", "tbl_ae", "2025-09", 1, 2),
        RepeatedFile("ae", "tbl_ae", None, 3, 4),
    ]
    assert duplicates_with_rows(repeats, {1, 2, 4}) == repeats[:1]
    criterion = _by_key(_facts(duplicates=repeats))["duplicate_data"]
    assert (criterion.value, criterion.passed) == (2, False)
    assert "ae (no period): load 4 repeats 3" in criterion.detail


def test_details_quote_five_names_and_count_the_rest():
    names = [f"s{i}" for i in range(8)]
    detail = _by_key(_facts(undocumented=names))["undocumented_sources"].detail
    assert detail == "blank owner or purpose: s0, s1, s2, s3, s4 and 3 more"


# --- the catalog, for real ----------------------------------------------------------------

DESCRIBED = {
    name: {"description": f"The {name.replace('_', ' ')}"}
    for name in ("period", "org_code", "org_name", "attendances", "over_4_hours")
}


def _load(db_url, tmp_path, home, code: str, *, path: str = "a.csv", **options):
    """One provider CSV for 2025-09 with every column described; returns its outcome."""
    if not (tmp_path / path).exists():
        write_csv(tmp_path / path, HEADER, provider_rows("2025-09"))
    source = {"source_code": code, "path": path, "columns": DESCRIBED}
    report, _ = run(db_url, home, write_manifest(tmp_path, [source], period="2025-09"), **options)
    return report.outcomes[0]


def _card(conn, clock=SYSTEM_CLOCK) -> dict[str, Criterion]:
    return {c.key: c for c in scorecard(conn, MonitoringSettings(), clock=clock).criteria}


def _loaded(conn, db_url, tmp_path, home, **fields):
    register(conn, "ae", **fields)
    conn.commit()
    return _load(db_url, tmp_path, home, "ae")


def test_real_healthy_warehouse(conn, db_url, tmp_path, home):
    outcome = _loaded(conn, db_url, tmp_path, home)
    assert outcome.status == "completed"
    card = scorecard(conn, MonitoringSettings())
    assert card.passed, [c for c in card.criteria if not c.passed]
    assert {c.key: c.value for c in card.criteria} == {
        "load_success_rate": 100.0, "orphaned_tables": 0.0, "undocumented_sources": 0,
        "loads_validated": 100.0, "failures_resolved": None, "metadata_coverage": 100.0,
        "duplicate_data": 0, "tables_with_owners": 100.0, "stale_sources": 0.0,
    }  # fmt: skip


def test_a_table_created_by_hand_is_an_orphan_without_an_owner(
    conn, raw_conn, db_url, tmp_path, home
):
    _loaded(conn, db_url, tmp_path, home)
    raw_conn.execute("CREATE TABLE staging.tbl_mystery (x integer)")
    card = _card(conn)
    orphans, owners = card["orphaned_tables"], card["tables_with_owners"]
    assert (orphans.value, orphans.passed) == (50.0, False)
    assert orphans.detail == "1 of 2 staging tables have no registered source: tbl_mystery"
    assert (owners.value, owners.passed) == (50.0, False)


def test_a_failure_with_no_recovery_fails_after_24_hours(conn, db_url, tmp_path, home):
    register(conn, "ae")
    conn.commit()
    (tmp_path / "bad.xlsx").write_bytes(b"not a workbook")
    _load(db_url, tmp_path, home, "ae", path="bad.xlsx")
    failed_at = conn.execute("SELECT completed_at FROM datawarp.tbl_load_events").fetchone()[0]

    soon = _card(conn, FixedClock(failed_at + timedelta(hours=2)))
    assert (soon["failures_resolved"].value, soon["failures_resolved"].passed) == (2.0, True)
    late = _card(conn, FixedClock(failed_at + timedelta(hours=25)))
    assert (late["failures_resolved"].value, late["failures_resolved"].passed) == (25.0, False)
    assert "(unresolved after 25.0 h)" in late["failures_resolved"].detail
    assert (late["load_success_rate"].value, late["load_success_rate"].passed) == (0.0, False)

    recovered = _load(db_url, tmp_path, home, "ae")
    done_at = conn.execute(
        "SELECT completed_at FROM datawarp.tbl_load_events WHERE load_id = %s",
        (recovered.load_id,),
    ).fetchone()[0]
    after = _card(conn, FixedClock(failed_at + timedelta(hours=25)))["failures_resolved"]
    assert after.passed and after.value == round((done_at - failed_at).total_seconds() / 3600, 1)


def test_a_column_added_by_hand_is_undescribed(conn, raw_conn, db_url, tmp_path, home):
    _loaded(conn, db_url, tmp_path, home)
    raw_conn.execute("ALTER TABLE staging.tbl_ae ADD COLUMN notes text")
    coverage = _card(conn)["metadata_coverage"]
    assert (coverage.value, coverage.passed) == (83.3, False)  # 5 of 6
    assert coverage.detail == "5 of 6 loaded data columns described; not: ae.notes"


def test_a_source_stripped_of_its_purpose_in_psql_is_undocumented(
    conn, raw_conn, db_url, tmp_path, home
):
    _loaded(conn, db_url, tmp_path, home)
    raw_conn.execute("ALTER TABLE datawarp.tbl_data_sources DROP CONSTRAINT purpose_length")
    raw_conn.execute("UPDATE datawarp.tbl_data_sources SET purpose = ' ' WHERE source_code = 'ae'")
    undocumented = _card(conn)["undocumented_sources"]
    assert (undocumented.value, undocumented.passed) == (1, False)
    assert undocumented.detail == "blank owner or purpose: ae"


def test_a_forced_append_reload_replaces_its_copy_so_is_no_duplicate(conn, db_url, tmp_path, home):
    _loaded(conn, db_url, tmp_path, home, load_mode="APPEND")
    second = _load(db_url, tmp_path, home, "ae", force=True)
    assert second.status == "completed" and second.rows_replaced == 13
    duplicates = _card(conn)["duplicate_data"]
    assert (duplicates.value, duplicates.passed) == (0, True)


def test_the_same_file_kept_twice_is_duplicate_data(conn, raw_conn, db_url, tmp_path, home):
    """Both copies' rows in the table, as forced APPEND reloads left them before they
    replaced their earlier copy."""
    first = _loaded(conn, db_url, tmp_path, home, load_mode="APPEND")
    second = _load(db_url, tmp_path, home, "ae", force=True)
    raw_conn.execute("CREATE TEMP TABLE copy AS SELECT * FROM staging.tbl_ae")
    raw_conn.execute("UPDATE copy SET _load_id = %s", (first.load_id,))
    raw_conn.execute("INSERT INTO staging.tbl_ae SELECT * FROM copy")
    duplicates = _card(conn)["duplicate_data"]
    assert (duplicates.value, duplicates.passed) == (1, False)
    assert f"ae 2025-09: load {second.load_id} repeats {first.load_id}" in duplicates.detail


def test_the_same_file_replaced_is_no_duplicate(conn, db_url, tmp_path, home):
    _loaded(conn, db_url, tmp_path, home, load_mode="REPLACE")
    assert _load(db_url, tmp_path, home, "ae", force=True).status == "completed"
    duplicates = _card(conn)["duplicate_data"]
    assert (duplicates.value, duplicates.passed) == (0, True)


def test_a_load_recorded_without_validation_results(conn, raw_conn, db_url, tmp_path, home):
    _loaded(conn, db_url, tmp_path, home)
    unvalidated = raw_conn.execute(
        "INSERT INTO datawarp.tbl_load_events (source_code, load_status, completed_at)"
        " VALUES ('ae', 'completed', now()) RETURNING load_id"
    ).fetchone()[0]
    validated = _card(conn)["loads_validated"]
    assert (validated.value, validated.passed) == (50.0, False)
    assert validated.detail.endswith(f"have results; none for loads {unvalidated}")


def test_an_active_source_without_a_load_for_40_days_is_stale(conn, db_url, tmp_path, home):
    _loaded(conn, db_url, tmp_path, home)
    later = _card(conn, FixedClock(datetime.now(UTC) + timedelta(days=40)))
    stale = later["stale_sources"]
    assert (stale.value, stale.passed) == (100.0, False)
    assert stale.detail == "1 of 1 active sources stale: ae"
    assert later["load_success_rate"].value is None  # the load is outside the window


def test_cli_strict_exits_1_only_when_a_criterion_fails(conn, raw_conn, db_url, tmp_path, home):
    assert run_cli("scorecard", "--strict", database_url=db_url).exit_code == 0  # empty catalog
    _loaded(conn, db_url, tmp_path, home)
    healthy = run_cli("scorecard", "--strict", database_url=db_url)
    assert healthy.exit_code == 0, healthy.stderr
    assert "Load success rate" in healthy.stdout and "9 of 9 criteria met" in healthy.stdout

    raw_conn.execute("CREATE TABLE staging.tbl_mystery (x integer)")
    assert run_cli("scorecard", database_url=db_url).exit_code == 0
    strict = run_cli("scorecard", "--strict", "--json", database_url=db_url)
    assert strict.exit_code == 1
    data = json.loads(strict.stdout)
    assert data["passed"] is False and data["days"] == 30
    failed = {c["key"]: c["value"] for c in data["criteria"] if not c["passed"]}
    assert failed == {"orphaned_tables": 50.0, "tables_with_owners": 50.0}
