"""Maintenance runs on a real catalog: every step recorded, one run at a time, dry runs change
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq

from datawarp.catalog import maintenance as records
from datawarp.catalog.database import database_for_url
from datawarp.core.clock import FixedClock
from datawarp.core.settings import Settings
from datawarp.ops.maintenance import SCHEDULES, run_maintenance
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest


def _settings(db_url, home) -> Settings:
    return Settings(database_url=db_url, home=home)


def _steps(conn, run_id: int) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT step, outcome FROM datawarp.tbl_maintenance_runs WHERE run_id = %s"
        " ORDER BY run_step_id",
        (run_id,),
    ).fetchall()


def test_the_weekly_run_records_every_step(conn, db_url, raw_conn, home):
    raw_conn.execute("CREATE TABLE staging.tbl_nobody (a int)")  # an orphan
    result = run_maintenance(database_for_url(db_url), _settings(db_url, home), "weekly")

    assert result.ok and result.skipped is None
    names = [name for name, _ in SCHEDULES["weekly"]]
    assert [s.step for s in result.steps] == names
    assert [step for step, _ in _steps(conn, result.run_id)] == names
    outcomes = dict(_steps(conn, result.run_id))
    assert outcomes["orphan_check"] == "warning" and outcomes["health_report"] == "skipped"
    orphan = next(s for s in result.steps if s.step == "orphan_check")
    assert orphan.details["orphans"] == ["staging.tbl_nobody"]
    assert orphan.details["newly_seen"] == ["staging.tbl_nobody"]
    notes = conn.execute("SELECT kind FROM datawarp.tbl_notifications").fetchall()
    assert notes == [("orphan",)]  # the DBA hears of it once


def test_a_second_run_while_one_holds_the_lock_is_skipped(conn, db_url, home):
    database = database_for_url(db_url)
    with database.connect(autocommit=True) as holder:
        assert records.try_lock(holder, "weekly")
        result = run_maintenance(database, _settings(db_url, home), "weekly")
    assert result.skipped == "another weekly maintenance run is in progress"
    assert _steps(conn, result.run_id) == [("run", "skipped")]
    after = run_maintenance(database, _settings(db_url, home), "weekly")
    assert after.skipped is None  # the lock went with the first run


def test_a_dry_run_changes_nothing(conn, db_url, raw_conn, home):
    raw_conn.execute("CREATE TABLE staging.tbl_nobody (a int)")
    result = run_maintenance(database_for_url(db_url), _settings(db_url, home), "weekly",
                             dry_run=True)  # fmt: skip
    assert result.ok
    assert conn.execute("SELECT count(*) FROM datawarp.tbl_notifications").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM datawarp.tbl_table_usage").fetchone() == (0,)


def test_quarterly_exports_old_load_events_and_verifies_the_audit_chain(
    conn, db_url, tmp_path, home
):
    register(conn, "ae")
    conn.commit()
    path = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": path.name}]))
    later = FixedClock(datetime.now(UTC) + timedelta(days=400))

    result = run_maintenance(database_for_url(db_url), _settings(db_url, home), "quarterly",
                             clock=later)  # fmt: skip

    steps = {s.step: s for s in result.steps}
    assert steps["audit_verify"].outcome == "ok" and steps["audit_verify"].details["entries"] > 0
    exported = steps["export_old_load_events"].details
    assert exported["events"] == 1 and exported["exported"]
    table = pq.read_table(exported["path"])
    assert table.num_rows == 1 and table.column("source_code").to_pylist() == ["ae"]
    assert conn.execute("SELECT count(*) FROM datawarp.tbl_load_events").fetchone() == (1,)


def test_monthly_forecasts_capacity_with_its_method_stated(conn, db_url, tmp_path, home):
    register(conn, "ae")
    conn.commit()
    for period in ("2025-08", "2025-09"):
        path = write_csv(tmp_path / f"{period}.csv", HEADER, provider_rows(period))
        run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": path.name}],
                                         period=period))  # fmt: skip
    result = run_maintenance(database_for_url(db_url), _settings(db_url, home), "monthly")
    forecast = next(s for s in result.steps if s.step == "capacity_forecast").details
    assert "least-squares" in forecast["method"] and forecast["horizon_days"] == 90
    assert forecast["bytes_by_source"]["ae"] > 0
    assert set(forecast["bytes_by_domain"]) == {"Urgent and Emergency Care"}


def test_the_cli_runs_a_schedule_and_shows_the_history(db_url, home):
    result = run_cli("maintenance", "weekly", "--dry-run", "--json", database_url=db_url,
                     env={"DATAWARP_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["dry_run"] is True
    history = run_cli("maintenance", "history", "--json", database_url=db_url)
    assert {row["step"] for row in json.loads(history.stdout)} >= {"vacuum_analyze"}
    assert run_cli("maintenance", "yearly", database_url=db_url).exit_code == 2


def test_an_orphan_older_than_a_week_is_archived_unless_told_only_to_alert(
    conn, db_url, raw_conn, home
):
    raw_conn.execute(
        "CREATE TABLE staging.tbl_nobody AS SELECT g AS a FROM generate_series(1, 5) g"
    )
    raw_conn.execute("CREATE TABLE staging.tbl_nobody_else (a int)")
    later = FixedClock(datetime.now(UTC) + timedelta(days=8))
    alert_only = Settings(database_url=db_url, home=home, lifecycle={"orphans": "alert"})

    first = run_maintenance(database_for_url(db_url), alert_only, "weekly", clock=later)
    orphans = next(s for s in first.steps if s.step == "orphan_check").details
    assert orphans["archived"] == [] and len(orphans["older_than_7_days"]) == 2

    second = run_maintenance(database_for_url(db_url), _settings(db_url, home), "weekly",
                             clock=later)  # fmt: skip
    orphans = next(s for s in second.steps if s.step == "orphan_check").details
    assert sorted(orphans["archived"]) == ["staging.tbl_nobody", "staging.tbl_nobody_else"]
    left = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'").fetchone()[0]
    archived = conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'archive'"
        " AND tablename LIKE 'tbl_nobody%'"
    ).fetchone()[0]
    assert (left, archived) == (0, 2)
