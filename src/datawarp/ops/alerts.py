"""Alert rules and their state: raised once, repeated without re-sending, resolved when clear.

| rule                | condition                                                   | severity       |
|---------------------|-------------------------------------------------------------|----------------|
| failed_in_a_row     | a source's last N loads (3 by default) failed               | critical       |
| slow_load           | the latest completed load took > 2× the source's average     | warning        |
| new_table           | a staging table was created (open for 7 days)                | info           |
| stale               | an active source has no completed load for N days            | warning        |
| overdue             | the source's next edition has not arrived within its grace   | warning        |
| validation          | a gate failed or warned on the source's latest load          | critical/warning |
| pending_review      | a schema change has waited for review over 7 days            | warning        |

``check_alerts`` runs at the end of every ``load-batch`` and from ``datawarp alerts check``
(cron). A condition seen for the first time raises an alert and writes its notifications (the
source's owner; the DBA list too when critical) to the outbox in the same transaction. Seen
again with new evidence (another failed load, a newer slow load) it raises the count and the
last-seen time and sends nothing. An alert whose condition no longer holds resolves itself.
Thresholds come from ``[datawarp.monitoring]``; "now" from the injectable clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from datawarp.catalog import alert_queries, alerts, outbox
from datawarp.catalog import monitoring as dashboards
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.notifications import DBA, Notification, log_notification
from datawarp.core.vocabulary import AlertSeverity

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.monitoring_settings import MonitoringSettings

Row = dict[str, Any]


@dataclass(frozen=True)
class Condition:
    """A rule holding for a source now; ``evidence`` changes when it happens again."""

    rule: str
    source_code: str | None
    owner: str | None
    severity: str
    message: str
    evidence: str
    occurrences: int | None = None  # the rule's own count (failures in a row), else counted
    details: dict[str, Any] = field(default_factory=dict)


# --- the rules: pure functions of the facts the catalog returns ----------------------------


def failed_in_a_row(rows: list[Row], threshold: int) -> list[Condition]:
    return [
        Condition(
            "failed_in_a_row",
            r["source_code"],
            r["owner"],
            AlertSeverity.CRITICAL,
            f"{r['source_code']}: {r['failures']} loads failed in a row"
            f" (last error: {r['last_error'] or 'none recorded'})",
            evidence=str(r["latest_load_id"]),
            occurrences=r["failures"],
            details={"failures": r["failures"], "latest_load_id": r["latest_load_id"]},
        )  # fmt: skip
        for r in rows
        if r["failures"] >= threshold
    ]


def slow_loads(rows: list[Row], factor: float) -> list[Condition]:
    found = []
    for r in rows:
        if r["duration_seconds"] is None or not r["average"]:
            continue
        ratio = float(r["duration_seconds"]) / float(r["average"])
        if ratio > factor:
            found.append(Condition(
                "slow_load", r["source_code"], r["owner"], AlertSeverity.WARNING,
                f"{r['source_code']}: load {r['load_id']} took {float(r['duration_seconds']):.1f} s,"
                f" {ratio:.1f}× its average of {float(r['average']):.1f} s over {r['loads']} loads",
                evidence=str(r["load_id"]),
                details={"load_id": r["load_id"], "ratio": round(ratio, 2)},
            ))  # fmt: skip
    return found


def new_tables(rows: list[Row]) -> list[Condition]:
    return [
        Condition(
            "new_table",
            r["source_code"],
            r["owner"],
            AlertSeverity.INFO,
            f"{r['source_code']}: new table {r['target']} created",
            evidence=str(r["change_id"]),
            details={"change_id": r["change_id"], "table": r["target"]},
        )  # fmt: skip
        for r in rows
    ]


def freshness(rows: list[Row]) -> list[Condition]:
    found = []
    for r in rows:
        if r["stale"]:
            since = "never loaded" if r["last_loaded_at"] is None else (
                f"last completed load {r['days_since_load']} days ago"
            )  # fmt: skip
            found.append(Condition(
                "stale", r["source_code"], r["owner"], AlertSeverity.WARNING,
                f"{r['source_code']}: stale, {since} (limit {r['stale_after_days']} days)",
                evidence=str(r["last_loaded_at"]),
            ))  # fmt: skip
        if r["overdue"]:
            found.append(Condition(
                "overdue", r["source_code"], r["owner"], AlertSeverity.WARNING,
                f"{r['source_code']}: the {r['cadence']} edition {r['next_period']} has not"
                f" arrived (expected by {r['next_expected_by']})",
                evidence=str(r["next_period"]), details={"next_period": r["next_period"]},
            ))  # fmt: skip
    return found


def validation(rows: list[Row]) -> list[Condition]:
    found = []
    for r in rows:
        checks = r["failed"] or r["warned"]
        if not checks:
            continue
        severity = AlertSeverity.CRITICAL if r["failed"] else AlertSeverity.WARNING
        word = "failed" if r["failed"] else "warned"
        found.append(Condition(
            "validation", r["source_code"], r["owner"], severity,
            f"{r['source_code']}: validation {word} on load {r['load_id']}: {'; '.join(checks)}",
            evidence=str(r["load_id"]), details={"load_id": r["load_id"], "checks": checks},
        ))  # fmt: skip
    return found


def pending_reviews(rows: list[Row], days: int) -> list[Condition]:
    return [
        Condition(
            "pending_review",
            r["source_code"],
            r["owner"],
            AlertSeverity.WARNING,
            f"{r['source_code']}: {r['pending']} schema change(s) pending review for over"
            f" {days} days (oldest: change {r['oldest_change_id']})",
            evidence=str(r["oldest_change_id"]),
            details={"pending": r["pending"]},
        )  # fmt: skip
        for r in rows
    ]


def conditions(conn: psycopg.Connection, s: MonitoringSettings, now: datetime) -> list[Condition]:
    """Every rule's conditions; one per rule and source (the latest evidence wins)."""
    q = alert_queries
    found = [
        *failed_in_a_row(q.failures_in_a_row(conn, now), s.failures_in_a_row),
        *slow_loads(q.latest_load_speeds(conn, now, s.slow_load_history), s.slow_load_factor),
        *new_tables(q.new_tables(conn, now, s.new_table_days)),
        *freshness(dashboards.freshness(conn, now, s.stale_after_days, s.overdue_grace_days)),
        *validation(q.latest_validation(conn, now)),
        *pending_reviews(q.old_pending_reviews(conn, now, s.pending_review_days),
                         s.pending_review_days),
    ]  # fmt: skip
    return list({(c.rule, c.source_code): c for c in found}.values())


# --- state ---------------------------------------------------------------------------------


@dataclass
class AlertCheck:
    raised: list[int] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


def check_alerts(
    conn: psycopg.Connection, settings: MonitoringSettings, *, clock: Clock = SYSTEM_CLOCK
) -> AlertCheck:
    """Evaluate every rule and bring the alert state up to date, in one transaction."""
    now, check = clock.now(), AlertCheck()
    with conn.transaction():
        alert_queries.lock_alert_state(conn)
        live = alerts.live_alerts(conn)
        for condition in conditions(conn, settings, now):
            current = live.pop((condition.rule, condition.source_code), None)
            if current is None:
                _raise(conn, condition, now, check)
            elif current.details.get("evidence") != condition.evidence:
                occurrences = condition.occurrences or current.occurrences + 1
                alerts.repeat_alert(conn, current.alert_id, message=condition.message,
                                    details=_details(condition), occurrences=occurrences,
                                    seen_at=now)  # fmt: skip
                check.repeated.append(current.alert_id)
        for stale_alert in live.values():  # its condition no longer holds
            alerts.resolve_alert(conn, stale_alert.alert_id, at=now)
            check.resolved.append(stale_alert.alert_id)
    for notification in check.notifications:
        log_notification(notification)
    return check


def _details(condition: Condition) -> dict[str, Any]:
    return {**condition.details, "evidence": condition.evidence}


def _raise(conn, condition: Condition, now: datetime, check: AlertCheck) -> None:
    alert_id = alerts.raise_alert(
        conn, rule=condition.rule, source_code=condition.source_code,
        severity=condition.severity, message=condition.message, details=_details(condition),
        occurrences=condition.occurrences or 1, seen_at=now,
    )  # fmt: skip
    check.raised.append(alert_id)
    recipients = [condition.owner or DBA]
    if condition.severity == AlertSeverity.CRITICAL and DBA not in recipients:
        recipients.append(DBA)
    for recipient in recipients:
        notification = Notification(
            "alert", recipient, condition.source_code,
            f"[{condition.severity}] {condition.rule.replace('_', ' ')}: {condition.source_code}",
            condition.message,
        )  # fmt: skip
        outbox.enqueue(conn, notification, alert_id=alert_id)
        check.notifications.append(notification)


def acknowledge(conn: psycopg.Connection, alert_id: int, note: str, *, clock=SYSTEM_CLOCK):
    with conn.transaction():
        who = alerts.current_actor(conn)
        alerts.acknowledge_alert(conn, alert_id, note=note, at=clock.now(), by=who)


def resolve(conn: psycopg.Connection, alert_id: int, *, clock=SYSTEM_CLOCK) -> None:
    with conn.transaction():
        alerts.resolve_alert(conn, alert_id, at=clock.now(), by=alerts.current_actor(conn))
