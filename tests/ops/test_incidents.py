"""Incident response and hygiene on real loads: failed loads, duplicates, growth, test tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from datawarp.catalog import registry
from datawarp.catalog.connect import connect
from datawarp.core.clock import FixedClock
from datawarp.core.errors import BadInputError, ConflictError, NotFoundError
from datawarp.ops import incidents
from datawarp.pipeline.fetch import check_reachable
from tests.pipeline.helpers import (
    HEADER,
    provider_manifest,
    provider_rows,
    register,
    reissued_manifest,
    run,
    table_exists,
    table_rows,
    write_csv,
    write_manifest,
)  # fmt: skip


@pytest.fixture
def auto(db_url):
    """An autocommit connection: nothing the test reads holds a lock a load or DROP waits for."""
    with connect(db_url, autocommit=True) as connection:
        yield connection


def _now(conn) -> datetime:
    return conn.execute("SELECT now()").fetchone()[0].astimezone(UTC)


def _broken_load(conn, db_url, tmp_path, home, code="ae"):
    register(conn, code)
    broken = tmp_path / "a.csv"
    broken.write_bytes(b"")
    manifest = write_manifest(tmp_path, [{"source_code": code, "path": broken.name}],
                              period="2025-09")  # fmt: skip
    report, _ = run(db_url, home, manifest)
    return manifest, report.outcomes[0]


# --- failed loads -------------------------------------------------------------------------


def test_a_failed_load_is_listed_with_its_error_reachability_and_manifest(
    auto, db_url, tmp_path, home
):
    manifest, outcome = _broken_load(auto, db_url, tmp_path, home)
    now = FixedClock(_now(auto))

    (found,) = incidents.failed_loads(auto, clock=now, check=check_reachable)
    assert (found.load_id, found.status, found.period) == (outcome.load_id, "failed", "2025-09")
    assert "empty" in found.error and found.location == str(tmp_path / "a.csv")
    assert found.reachable is True and found.reachability is None
    assert found.manifest_path == str(manifest) and found.retryable

    (tmp_path / "a.csv").unlink()
    (gone,) = incidents.failed_loads(auto, clock=now, check=check_reachable)
    assert gone.reachable is False and "a.csv" in gone.reachability
    week_later = FixedClock(now.now() + timedelta(days=8))
    assert incidents.failed_loads(auto, clock=week_later, days=7) == []
    assert (
        incidents.failed_loads(auto, clock=now, source_code="ae", check=None)[0].reachable is None
    )


def test_failed_loads_of_an_unknown_source_or_window_are_refused(auto):
    with pytest.raises(NotFoundError, match="'nope' is not registered"):
        incidents.failed_loads(auto, source_code="nope")
    with pytest.raises(BadInputError, match="--days 0"):
        incidents.failed_loads(auto, days=0)


def test_retry_plan_keeps_the_entry_and_refuses_what_cannot_be_retried(
    auto, db_url, tmp_path, home
):
    _, outcome = _broken_load(auto, db_url, tmp_path, home)
    plan = incidents.retry_plan(auto, outcome.load_id)
    (file,) = plan.manifest_entry["files"]
    assert plan.source_code == "ae" and not plan.test
    assert (file["period"], file["period_kind"]) == ("2025-09", "month")
    with pytest.raises(BadInputError, match="not a test load"):
        incidents.retry_plan(auto, outcome.load_id, test=True)
    with pytest.raises(NotFoundError, match="Load 999 not found"):
        incidents.retry_plan(auto, 999)

    write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    report, _ = run(db_url, home, tmp_path / "manifest.yaml")
    done = report.outcomes[0].load_id
    with pytest.raises(ConflictError, match=f"Load {done} completed"):
        incidents.retry_plan(auto, done)
    with pytest.raises(ConflictError, match=f"loaded again .* as load {done}"):
        incidents.retry_plan(auto, outcome.load_id)


# --- duplicates ---------------------------------------------------------------------------


def _twice(conn, db_url, tmp_path, home) -> list[int]:
    register(conn, "ae")
    report, _ = run(db_url, home, reissued_manifest(tmp_path, "ae"))
    return [outcome.load_id for outcome in report.outcomes]


def test_duplicates_across_two_append_loads_are_found_and_fixed(auto, db_url, tmp_path, home):
    first, second = _twice(auto, db_url, tmp_path, home)

    report = incidents.find_duplicates(auto, "ae")
    assert (report.total_rows, report.groups, report.removable_rows) == (26, 13, 13)
    assert report.later_copies == [
        {"load_id": second, "period": "2025-09", "rows": 13, "of_other_periods": 0}
    ]
    assert len(report.examples) == 5
    assert report.examples[0] == {"copies": 2, "rows": [
        {"load_id": first, "period": "2025-09", "row_number": report.examples[0]["rows"][0]["row_number"]},
        {"load_id": second, "period": "2025-09", "row_number": report.examples[0]["rows"][1]["row_number"]},
    ]}  # fmt: skip
    assert "APPEND" in report.suggestion and "--load-mode REPLACE" in report.suggestion

    fixed = incidents.remove_duplicates(auto, "ae")
    assert fixed.removed == [{"load_id": second, "period": "2025-09", "rows": 13}]
    assert table_rows(auto, "staging.tbl_ae", "DISTINCT _load_id", "_load_id") == [(first,)]
    assert len(table_rows(auto, "staging.tbl_ae")) == 13
    note = auto.execute(
        "SELECT kind, recipient, source_code, subject FROM datawarp.tbl_notifications"
        " WHERE notification_id = %s", (fixed.notification_id,),
    ).fetchone()  # fmt: skip
    assert note == (
        "duplicates_removed",
        "dba",
        "ae",
        "13 duplicate rows removed from staging.tbl_ae",
    )
    assert incidents.find_duplicates(auto, "ae").groups == 0
    assert incidents.remove_duplicates(auto, "ae").notification_id is None  # nothing to note


def test_after_a_fix_the_next_load_counts_the_table_right(auto, db_url, tmp_path, home):
    _twice(auto, db_url, tmp_path, home)
    incidents.remove_duplicates(auto, "ae")
    report, _ = run(db_url, home, tmp_path / "manifest.yaml", force=True)
    latest = auto.execute(
        "SELECT row_count FROM datawarp.tbl_source_metrics WHERE load_id = %s",
        (report.outcomes[-1].load_id,),
    ).fetchone()[0]
    assert latest == len(table_rows(auto, "staging.tbl_ae")) == 26


def test_duplicates_of_an_unknown_or_empty_source_are_refused(auto):
    with pytest.raises(NotFoundError, match="'nope' is not registered"):
        incidents.find_duplicates(auto, "nope")
    register(auto, "ae")
    with pytest.raises(NotFoundError, match="no loaded rows"):
        incidents.remove_duplicates(auto, "ae")


# --- growth -------------------------------------------------------------------------------


def test_storage_growth_flags_a_source_that_doubled(auto, db_url, tmp_path, home):
    register(auto, "ae", retention_days=1)
    register(auto, "steady")
    for code, folder in (("ae", tmp_path / "ae"), ("steady", tmp_path / "steady")):
        run(db_url, home, provider_manifest(folder, code, period="2025-08"))
    # a week passes between the first edition and the next
    auto.execute("UPDATE datawarp.tbl_source_metrics SET measured_at = now() - interval '8 days'")
    run(db_url, home, provider_manifest(tmp_path / "ae2", "ae", period="2025-09"))

    now = FixedClock(_now(auto) + timedelta(days=2))
    (grown,) = incidents.storage_growth(auto, clock=now)
    assert (grown.source_code, grown.rows_before, grown.rows_now) == ("ae", 13, 26)
    assert grown.weekly_growth_percent == 100.0 and grown.total_bytes > 0
    assert grown.retention_days == 1 and grown.holds_data_past_retention is True
    registry.update_source(auto, "ae", retention_days=30)
    assert incidents.storage_growth(auto, clock=now)[0].holds_data_past_retention is False


# --- test loads ---------------------------------------------------------------------------


def _test_load(db_url, home, folder, code):
    run(db_url, home, provider_manifest(folder, code), test=True)


def _ddl_log_installed(conn) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'datawarp_ddl_log')"
    ).fetchone()[0]


def _age(conn, schema: str, table: str, days: int) -> None:
    """Make a table look ``days`` old by every measure the purge reads that can be changed."""
    conn.execute(
        "UPDATE datawarp.tbl_ddl_events SET occurred_at = occurred_at - make_interval(days => %s)"
        " WHERE object_identity = %s", (days, f"{schema}.{table}"),
    )  # fmt: skip
    conn.execute(
        f"UPDATE {schema}.{table} SET _loaded_at = _loaded_at - make_interval(days => %s)",  # noqa: S608
        (days,),
    )


def test_purge_drops_only_old_test_tables_and_never_staging(auto, db_url, tmp_path, home):
    register(auto, "live")
    run(db_url, home, provider_manifest(tmp_path / "live", "live"))
    _test_load(db_url, home, tmp_path / "old", "old_try")
    _test_load(db_url, home, tmp_path / "new", "new_try")
    _age(auto, "staging", "tbl_live", 30)
    _age(auto, "staging_test", "tbl_old_try", 10)
    clock = FixedClock(_now(auto))

    planned = incidents.purge_test_loads(auto, timedelta(days=7), dry_run=True, clock=clock)
    assert [(p.table, p.dropped, p.kept_because) for p in planned] == [
        ("staging_test.tbl_old_try", False, "dry run")
    ]
    assert table_exists(auto, "staging_test.tbl_old_try")

    (gone,) = incidents.purge_test_loads(auto, timedelta(days=7), dry_run=False, clock=clock)
    assert gone.table == "staging_test.tbl_old_try" and gone.dropped and gone.total_bytes > 0
    assert gone.dated_by == ("DDL log" if _ddl_log_installed(auto) else "loaded rows")
    assert gone.age_days == pytest.approx(10, abs=0.1)
    assert not table_exists(auto, "staging_test.tbl_old_try")
    assert table_exists(auto, "staging_test.tbl_new_try") and table_exists(auto, "staging.tbl_live")


def test_purge_dates_tables_without_a_ddl_record_by_rows_then_load_events(
    auto, db_url, tmp_path, home
):
    _test_load(db_url, home, tmp_path / "rows", "with_rows")
    _test_load(db_url, home, tmp_path / "emptied", "emptied")
    auto.execute("DELETE FROM staging_test.tbl_emptied")
    auto.execute("CREATE TABLE staging_test.scratch (x integer)")
    auto.execute("DELETE FROM datawarp.tbl_ddl_events")  # as on a server without the DDL log
    clock = FixedClock(_now(auto) + timedelta(days=10))

    found = incidents.purge_test_loads(auto, timedelta(days=7), dry_run=False, clock=clock)
    assert [(p.table, p.dated_by, p.dropped) for p in found] == [
        ("staging_test.scratch", None, False),
        ("staging_test.tbl_emptied", "load event", True),
        ("staging_test.tbl_with_rows", "loaded rows", True),
    ]
    assert "nothing records" in found[0].kept_because
    assert table_exists(auto, "staging_test.scratch")


def test_purge_keeps_a_table_other_objects_depend_on(auto, db_url, tmp_path, home):
    _test_load(db_url, home, tmp_path, "viewed")
    auto.execute("CREATE VIEW staging_test.v AS SELECT * FROM staging_test.tbl_viewed")
    clock = FixedClock(_now(auto) + timedelta(days=10))
    (kept,) = incidents.purge_test_loads(auto, timedelta(days=7), dry_run=False, clock=clock)
    assert not kept.dropped and "depend" in kept.kept_because
    assert table_exists(auto, "staging_test.tbl_viewed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", timedelta(days=7)), ("48h", timedelta(hours=48)), ("2w", timedelta(weeks=2)),
     (" 3D ", timedelta(days=3))],
)  # fmt: skip
def test_ages_are_hours_days_or_weeks(text, expected):
    assert incidents.parse_age(text) == expected


@pytest.mark.parametrize("text", ["7", "0d", "-1d", "1.5d", "7x", "d7", "", "seven days"])
def test_bad_ages_are_refused_in_one_line(text):
    with pytest.raises(BadInputError, match="hours, days or weeks") as caught:
        incidents.parse_age(text)
    assert "\n" not in caught.value.message


def test_copies_of_a_row_kept_under_another_period_are_counted_apart(auto, db_url, tmp_path, home):
    register(auto, "ae")
    for period in ("2025-08", "2025-09"):  # one file loaded as two editions by mistake
        manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": "a.csv"}], period=period)
        write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
        run(db_url, home, manifest)
    report = incidents.find_duplicates(auto, "ae")
    assert report.removable_rows == report.other_period_rows == 13


def test_purge_keeps_a_table_in_use_rather_than_waiting(auto, db_url, tmp_path, home):
    _test_load(db_url, home, tmp_path, "busy")
    clock = FixedClock(_now(auto) + timedelta(days=10))
    with connect(db_url) as reader:
        reader.execute("SELECT count(*) FROM staging_test.tbl_busy")  # holds its lock until commit
        (kept,) = incidents.purge_test_loads(
            auto, timedelta(days=7), dry_run=False, clock=clock, lock_timeout_seconds=0.1
        )
    assert not kept.dropped and kept.kept_because == "in use by another session"
    assert table_exists(auto, "staging_test.tbl_busy")
