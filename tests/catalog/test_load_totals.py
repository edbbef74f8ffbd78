"""The whole-history load counters /metrics reads are kept by a trigger as loads finish, and
agree with a recount of the load history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from datawarp.catalog import report_queries
from tests.pipeline.helpers import register


def _finish(conn, code: str, status: str, seconds: float, schema: str = "staging") -> None:
    started = datetime(2026, 1, 5, tzinfo=UTC)
    load_id = conn.execute(
        "INSERT INTO datawarp.tbl_load_events (source_code, target_schema, started_at)"
        " VALUES (%s, %s, %s) RETURNING load_id",
        (code, schema, started),
    ).fetchone()[0]
    conn.execute(
        "UPDATE datawarp.tbl_load_events SET load_status = %s, completed_at = %s,"
        " duration_seconds = %s WHERE load_id = %s",
        (status, started + timedelta(seconds=seconds), seconds, load_id),
    )


def _totals(conn):
    return (
        report_queries.loads_by_status(conn),
        report_queries.load_duration_histogram(conn),
    )


def test_counters_follow_finished_loads_and_match_a_recount(conn):
    register(conn, "ae")
    for status, seconds in [("completed", 0.2), ("completed", 4), ("completed", 4000),
                            ("failed", 1), ("rolled_back", 2)]:  # fmt: skip
        _finish(conn, "ae", status, seconds)
    _finish(conn, "ae", "completed", 3, schema="staging_test")  # test loads are not counted
    conn.commit()

    statuses, (buckets, count, total) = _totals(conn)

    assert statuses == {"completed": 3, "failed": 1, "rolled_back": 1}
    assert (count, total) == (3, 4004.2)
    cumulative = dict(buckets)
    assert (cumulative[0.5], cumulative[5.0], cumulative[3600.0]) == (1, 2, 2)  # 4000 s: +Inf
    conn.execute("SELECT datawarp.recount_load_totals()")
    assert _totals(conn) == (statuses, (buckets, count, total))
