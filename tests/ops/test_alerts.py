"""Alert rules and their state, on a real catalog with the clock fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from datawarp.catalog.alerts import list_alerts
from datawarp.core.clock import FixedClock
from datawarp.core.errors import ConflictError, NotFoundError
from datawarp.core.monitoring_settings import MonitoringSettings
from datawarp.ops import alerts
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import register

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SETTINGS = MonitoringSettings()


def _event(
    conn,
    code: str,
    status: str,
    started: datetime,
    *,
    seconds: float = 10.0,
    period: str | None = None,
    kind: str | None = None,
    error: str | None = None,
) -> int:
    """A finished load event as the loader writes it (in_progress, then finished once)."""
    load_id = conn.execute(
        "INSERT INTO datawarp.tbl_load_events (source_code, target_schema, target_table,"
        " started_at, period, period_kind) VALUES (%s, 'staging', %s, %s, %s, %s)"
        " RETURNING load_id",
        (code, f"tbl_{code}", started, period, kind),
    ).fetchone()[0]
    conn.execute(
        "UPDATE datawarp.tbl_load_events SET load_status = %s, completed_at = %s,"
        " duration_seconds = %s, error_message = %s WHERE load_id = %s",
        (status, started + timedelta(seconds=seconds), seconds, error, load_id),
    )
    conn.commit()
    return load_id


def _check(conn, when: datetime = NOW) -> alerts.AlertCheck:
    return alerts.check_alerts(conn, SETTINGS, clock=FixedClock(when))


def _live(conn, rule: str):
    return [a for a in list_alerts(conn, open_only=True) if a.rule == rule]


def _outbox(conn) -> list[tuple]:
    return conn.execute(
        "SELECT kind, recipient, alert_id FROM datawarp.tbl_notifications ORDER BY 1, 2"
    ).fetchall()


@pytest.fixture
def source(conn):
    register(conn, "ae", owner="owner@nhs.net")
    conn.execute("UPDATE datawarp.tbl_data_sources SET status = 'active'")
    conn.commit()
    return "ae"


def test_three_failures_in_a_row_raise_one_critical_alert_and_a_fourth_only_counts(conn, source):
    _event(conn, source, "completed", NOW - timedelta(days=5))
    for day in (4, 3):
        _event(conn, source, "failed", NOW - timedelta(days=day), error="boom")
    assert _live(conn, "failed_in_a_row") == [] and _check(conn).raised == []

    _event(conn, source, "failed", NOW - timedelta(days=2), error="still broken")
    first = _check(conn)
    (alert,) = _live(conn, "failed_in_a_row")
    assert alert.severity == "critical" and alert.occurrences == 3
    assert "still broken" in alert.message and alert.alert_id in first.raised
    assert _outbox(conn) == [("alert", "dba", alert.alert_id),
                             ("alert", "owner@nhs.net", alert.alert_id)]  # fmt: skip

    _event(conn, source, "rolled_back", NOW - timedelta(days=1))
    again = _check(conn)
    (alert,) = _live(conn, "failed_in_a_row")
    assert alert.occurrences == 4 and again.repeated == [alert.alert_id]
    assert again.notifications == [] and len(_outbox(conn)) == 2  # nothing sent again
    assert _check(conn).repeated == []  # nothing new: no change, no audit noise

    _event(conn, source, "completed", NOW - timedelta(hours=1))
    assert _check(conn).resolved == [alert.alert_id]
    assert _live(conn, "failed_in_a_row") == []


def test_a_load_twice_as_slow_as_the_average_warns(conn, source):
    for day in (9, 8, 7):
        _event(conn, source, "completed", NOW - timedelta(days=day), seconds=10)
    _event(conn, source, "completed", NOW - timedelta(days=6), seconds=19)
    assert _check(conn).raised == []  # 1.9× is within the limit

    slow = _event(conn, source, "completed", NOW - timedelta(days=1), seconds=30)
    _check(conn)
    (alert,) = _live(conn, "slow_load")
    assert alert.severity == "warning" and alert.details["load_id"] == slow
    assert "2.4× its average" in alert.message  # 30 s against (10 + 10 + 10 + 19) / 4


def test_a_missing_monthly_edition_is_overdue_on_time_and_not_before(conn, source):
    for month in range(1, 7):  # Jan-Jun 2025, each loaded 40 days after the month starts
        start = datetime(2025, month, 1, tzinfo=UTC)
        _event(conn, source, "completed", start + timedelta(days=40),
               period=f"2025-{month:02d}", kind="month")  # fmt: skip
    # July's edition is expected by 2025-07-01 + 40 days + 7 days of grace = 2025-08-17
    _check(conn, datetime(2025, 8, 17, 12, tzinfo=UTC))
    assert _live(conn, "overdue") == []
    _check(conn, datetime(2025, 8, 18, 12, tzinfo=UTC))
    (alert,) = _live(conn, "overdue")
    assert "monthly edition 2025-07 has not arrived" in alert.message

    _event(conn, source, "completed", datetime(2025, 8, 19, tzinfo=UTC),
           period="2025-07", kind="month")  # fmt: skip
    _check(conn, datetime(2025, 8, 20, tzinfo=UTC))
    assert _live(conn, "overdue") == []


def test_a_stale_source_warns_until_it_loads_again(conn, source):
    _event(conn, source, "completed", NOW - timedelta(days=31))
    _check(conn)
    (alert,) = _live(conn, "stale")
    assert "31.0 days ago" in alert.message
    _event(conn, source, "completed", NOW - timedelta(days=1))
    assert _check(conn).resolved == [alert.alert_id]


def test_acknowledging_and_resolving_are_audited_and_refused_twice(conn, source, db_url):
    _event(conn, source, "completed", NOW - timedelta(days=40))
    _check(conn)
    (alert,) = _live(conn, "stale")

    result = run_cli("alerts", "ack", str(alert.alert_id), "--note", "publisher paused",
                     database_url=db_url)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (acknowledged,) = _live(conn, "stale")
    assert acknowledged.status == "acknowledged" and acknowledged.note == "publisher paused"
    with pytest.raises(ConflictError, match="is acknowledged"):
        alerts.acknowledge(conn, alert.alert_id, "again")

    assert run_cli("alerts", "resolve", str(alert.alert_id), database_url=db_url).exit_code == 0
    with pytest.raises(ConflictError, match="is resolved"):
        alerts.resolve(conn, alert.alert_id)
    with pytest.raises(NotFoundError):
        alerts.resolve(conn, 999_999)
    actions = conn.execute(
        "SELECT action, new_values->>'status' FROM datawarp.tbl_audit_log"
        " WHERE table_name = 'datawarp.tbl_alerts' ORDER BY audit_id"
    ).fetchall()
    assert actions == [("INSERT", "open"), ("UPDATE", "acknowledged"), ("UPDATE", "resolved")]


def test_an_empty_note_is_refused(conn, source, db_url):
    result = run_cli("alerts", "ack", "1", "--note", "  ", database_url=db_url)
    assert result.exit_code == 2 and "--note" in result.stderr


def test_the_cli_lists_and_checks_alerts_as_json(conn, source, db_url):
    _event(conn, source, "completed", NOW - timedelta(days=400))
    checked = run_cli("alerts", "check", "--json", database_url=db_url)
    assert checked.exit_code == 0, checked.stderr
    listed = run_cli("alerts", "list", "--open", "--json", database_url=db_url)
    assert '"rule": "stale"' in listed.stdout and '"source_code": "ae"' in listed.stdout


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"source_code": "a", "owner": "o@x.nhs.uk", "failures": 2, "latest_load_id": 9,
           "last_error": None}], 0),
        ([{"source_code": "a", "owner": "o@x.nhs.uk", "failures": 3, "latest_load_id": 9,
           "last_error": None}], 1),
    ],
)  # fmt: skip
def test_the_failure_rule_counts_to_its_threshold(rows, expected):
    assert len(alerts.failed_in_a_row(rows, threshold=3)) == expected


def test_the_validation_rule_maps_a_failed_gate_to_critical_and_a_warning_to_warning():
    rows = [
        {"source_code": "a", "owner": None, "load_id": 1, "failed": ["zero_rows: 0"],
         "warned": None},
        {"source_code": "b", "owner": None, "load_id": 2, "failed": None,
         "warned": ["row_change: +80%"]},
        {"source_code": "c", "owner": None, "load_id": 3, "failed": None, "warned": None},
    ]  # fmt: skip
    found = alerts.validation(rows)
    assert [(c.source_code, c.severity) for c in found] == [("a", "critical"), ("b", "warning")]


def test_unknown_dashboard_is_one_line(db_url):
    result = run_cli("health", "nonsense", database_url=db_url)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: Unknown dashboard 'nonsense': use one of load, freshness, storage, schema"
    )
