"""Notifications to owners and DBAs: an interface, and the default that writes to the log.

E-mail and webhook notifiers arrive with the monitoring work; every stage talks only to the
``Notifier`` protocol, so they slot in without touching the loader.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger("datawarp.core.notifications")

DBA = "dba"


@dataclass(frozen=True)
class Notification:
    kind: str  # load_failed, load_rolled_back, schema_review, validation_failed
    recipient: str  # an owner's e-mail address, or DBA
    source_code: str
    subject: str
    body: str


class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


@dataclass
class LogNotifier:
    """Writes each notification to the ``datawarp.notify`` log and keeps it for the report."""

    sent: list[Notification] = field(default_factory=list)

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)
        logger.warning(
            "notify %s [%s] %s: %s",
            notification.recipient,
            notification.kind,
            notification.subject,
            notification.body,
        )
