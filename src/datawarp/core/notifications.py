"""What DataWarp tells people: a notification to a source's owner or to the DBAs.

Notifications are written to the outbox (``catalog.outbox``) in the transaction of what caused
them and delivered after commit by ``ops.notify``; every one is also logged, so with no
channel configured the log and the outbox still hold them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger("datawarp.notify")

# The recipient meaning "the DBA list" (``dba_emails`` in the settings), resolved at delivery.
DBA = "dba"


@dataclass(frozen=True)
class Notification:
    kind: str  # load_failed, validation_failed, schema_review, alert
    recipient: str  # an owner's e-mail address, or DBA
    source_code: str | None
    subject: str
    body: str


def log_notification(notification: Notification) -> None:
    logger.warning(
        "notify %s [%s] %s: %s",
        notification.recipient,
        notification.kind,
        notification.subject,
        notification.body,
    )
