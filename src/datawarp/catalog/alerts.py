"""Alert state: one live alert per rule and source, raised, repeated, acknowledged, resolved.

The rules are ``ops.alerts``; this module keeps their state in ``datawarp.tbl_alerts`` (every
change audited by the trigger of migration 0006) and writes each new alert's notifications
to the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from datawarp.core.errors import ConflictError, NotFoundError


@dataclass(frozen=True)
class Alert:
    alert_id: int
    rule: str
    source_code: str | None
    severity: str
    status: str
    message: str
    details: dict[str, Any]
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str | None
    resolved_at: datetime | None
    resolved_by: str | None


def list_alerts(
    conn: psycopg.Connection,
    *,
    open_only: bool = False,
    source_code: str | None = None,
    limit: int = 200,
) -> list[Alert]:
    """Newest first; ``open_only`` keeps open and acknowledged alerts."""
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(
            "SELECT * FROM datawarp.tbl_alerts"
            " WHERE (NOT %(open)s OR status <> 'resolved')"
            "   AND (%(source)s::text IS NULL OR source_code = %(source)s)"
            " ORDER BY (status = 'resolved'),"
            "  array_position(ARRAY['critical', 'warning', 'info'], severity), last_seen_at DESC"
            " LIMIT %(limit)s",
            {"open": open_only, "source": source_code, "limit": limit},
        ).fetchall()


def live_alerts(conn: psycopg.Connection) -> dict[tuple[str, str | None], Alert]:
    """Open and acknowledged alerts by (rule, source), locked for this transaction."""
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        rows = cur.execute(
            "SELECT * FROM datawarp.tbl_alerts WHERE status <> 'resolved' FOR UPDATE"
        ).fetchall()
    return {(a.rule, a.source_code): a for a in rows}


def raise_alert(
    conn: psycopg.Connection,
    *,
    rule: str,
    source_code: str | None,
    severity: str,
    message: str,
    details: dict[str, Any],
    occurrences: int,
    seen_at: datetime,
) -> int:
    return conn.execute(
        "INSERT INTO datawarp.tbl_alerts (rule, source_code, severity, message, details,"
        " occurrences, first_seen_at, last_seen_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING alert_id",
        (rule, source_code, severity, message, Jsonb(details), occurrences, seen_at, seen_at),
    ).fetchone()[0]


def repeat_alert(
    conn: psycopg.Connection,
    alert_id: int,
    *,
    message: str,
    details: dict[str, Any],
    occurrences: int,
    seen_at: datetime,
) -> None:
    conn.execute(
        "UPDATE datawarp.tbl_alerts SET message = %s, details = %s, occurrences = %s,"
        " last_seen_at = %s WHERE alert_id = %s",
        (message, Jsonb(details), occurrences, seen_at, alert_id),
    )


def resolve_alert(
    conn: psycopg.Connection, alert_id: int, *, at: datetime, by: str | None = None
) -> None:
    """Resolve a live alert: by a person, or (``by`` None) because its condition cleared."""
    updated = conn.execute(
        "UPDATE datawarp.tbl_alerts SET status = 'resolved', resolved_at = %s,"
        " resolved_by = coalesce(%s, 'datawarp (condition cleared)')"
        " WHERE alert_id = %s AND status <> 'resolved'",
        (at, by, alert_id),
    ).rowcount
    if not updated:
        _refuse(conn, alert_id, "resolve")


def acknowledge_alert(
    conn: psycopg.Connection, alert_id: int, *, note: str, at: datetime, by: str
) -> None:
    updated = conn.execute(
        "UPDATE datawarp.tbl_alerts SET status = 'acknowledged', acknowledged_at = %s,"
        " acknowledged_by = %s, note = %s WHERE alert_id = %s AND status = 'open'",
        (at, by, note, alert_id),
    ).rowcount
    if not updated:
        _refuse(conn, alert_id, "acknowledge")


def current_actor(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT datawarp.current_actor()").fetchone()[0]


def _refuse(conn: psycopg.Connection, alert_id: int, action: str) -> None:
    row = conn.execute(
        "SELECT status FROM datawarp.tbl_alerts WHERE alert_id = %s", (alert_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Alert {alert_id} not found")
    raise ConflictError(f"Alert {alert_id} is {row[0]}; cannot {action} it")
