"""The notification outbox: messages written in the transaction of what caused them.

A notification row commits or rolls back with its cause, so a rolled-back load can never
announce what it did not do; ``ops.notify`` delivers pending rows after commit, grouped per
recipient, and a failed delivery stays pending with its error for the next attempt.

Delivery claims due rows with ``FOR UPDATE SKIP LOCKED`` and keeps them locked until it has
recorded what happened, so two deliverers running at once never send the same row. Each
channel that delivered a row is kept in ``delivered_by``: a retry sends only through the
channels that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row

from datawarp.core.notifications import Notification

# A failed attempt waits FIRST_RETRY × 2^(earlier attempts), never longer than LAST_RETRY:
# a mail server down for a night is retried every few hours, not hammered every minute.
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=6)


@dataclass(frozen=True)
class OutboxEntry:
    notification_id: int
    created_at: datetime
    kind: str
    recipient: str
    source_code: str | None
    subject: str
    body: str
    alert_id: int | None
    load_id: int | None
    status: str
    delivered_by: list[str]
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None


def enqueue(
    conn: psycopg.Connection,
    notification: Notification,
    *,
    load_id: int | None = None,
    alert_id: int | None = None,
) -> int:
    """Write one notification in the caller's transaction; returns its id."""
    return conn.execute(
        "INSERT INTO datawarp.tbl_notifications (kind, recipient, source_code, subject, body,"
        " load_id, alert_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING notification_id",
        (
            notification.kind, notification.recipient, notification.source_code,
            notification.subject, notification.body, load_id, alert_id,
        ),
    ).fetchone()[0]  # fmt: skip


def entries(conn: psycopg.Connection, ids: list[int]) -> list[OutboxEntry]:
    with conn.cursor(row_factory=class_row(OutboxEntry)) as cur:
        return cur.execute(
            "SELECT * FROM datawarp.tbl_notifications WHERE notification_id = ANY(%s)"
            " ORDER BY notification_id",
            (ids,),
        ).fetchall()


def list_entries(
    conn: psycopg.Connection, *, pending_only: bool = False, limit: int = 100
) -> list[OutboxEntry]:
    """Newest first."""
    with conn.cursor(row_factory=class_row(OutboxEntry)) as cur:
        return cur.execute(
            "SELECT * FROM datawarp.tbl_notifications"
            " WHERE (NOT %(pending)s OR status = 'pending')"
            " ORDER BY notification_id DESC LIMIT %(limit)s",
            {"pending": pending_only, "limit": limit},
        ).fetchall()


def count_pending(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM datawarp.tbl_notifications WHERE status = 'pending'"
    ).fetchone()[0]


def claim_due(conn: psycopg.Connection, now: datetime, *, limit: int = 500) -> list[OutboxEntry]:
    """Pending rows due by ``now``, oldest first, locked until the caller's transaction ends.

    Rows another deliverer holds are skipped rather than waited for: it is sending them.
    """
    with conn.cursor(row_factory=class_row(OutboxEntry)) as cur:
        return cur.execute(
            "SELECT * FROM datawarp.tbl_notifications"
            " WHERE status = 'pending' AND next_attempt_at <= %s"
            " ORDER BY notification_id LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, limit),
        ).fetchall()


def mark_delivered(conn: psycopg.Connection, ids: list[int], channel: str) -> None:
    """Record that ``channel`` delivered these rows (once, however often it is called)."""
    conn.execute(
        "UPDATE datawarp.tbl_notifications SET delivered_by = array_append(delivered_by, %s)"
        " WHERE notification_id = ANY(%s) AND NOT (%s = ANY(delivered_by))",
        (channel, ids, channel),
    )


def mark_sent(
    conn: psycopg.Connection, ids: list[int], channels: list[str], now: datetime
) -> list[int]:
    """Close the rows every one of ``channels`` has delivered; returns their ids."""
    rows = conn.execute(
        "UPDATE datawarp.tbl_notifications SET status = 'sent', sent_at = %s"
        " WHERE notification_id = ANY(%s) AND status = 'pending'"
        " AND delivered_by @> %s::text[] RETURNING notification_id",
        (now, ids, channels),
    ).fetchall()
    return sorted(row[0] for row in rows)


def record_failure(conn: psycopg.Connection, ids: list[int], error: str, now: datetime) -> None:
    """One more failed attempt: the rows stay pending with ``error`` until their backoff ends."""
    conn.execute(
        "UPDATE datawarp.tbl_notifications SET attempts = attempts + 1, last_error = %(error)s,"
        " next_attempt_at = %(now)s"
        "  + LEAST(%(first)s * power(2, LEAST(attempts, 30)), %(last)s::interval)"
        " WHERE notification_id = ANY(%(ids)s) AND status = 'pending'",
        {"error": error, "now": now, "first": FIRST_RETRY, "last": LAST_RETRY, "ids": ids},
    )
