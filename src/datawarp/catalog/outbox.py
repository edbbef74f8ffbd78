"""The notification outbox: messages written in the transaction of what caused them.

A notification row commits or rolls back with its cause, so a rolled-back load can never
announce what it did not do; ``ops.notify`` delivers pending rows after commit, grouped per
recipient, and a failed delivery stays pending with its error for the next attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from datawarp.core.notifications import Notification


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
