"""Delivering the notification outbox: one e-mail per address, one webhook post per run.

Rows are written to the outbox in the transaction of what caused them (``catalog.outbox``);
this module sends what is due, grouped so that a bad night of twenty failed loads is one
e-mail per person rather than twenty, and records per channel what went out. It never
raises: a mail server that is down must not fail the load that called it, so every failure
is kept on the rows (retried with backoff) and listed in the report instead.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from datawarp.catalog import outbox
from datawarp.catalog.outbox import OutboxEntry
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.notifications import DBA

if TYPE_CHECKING:
    from email.message import EmailMessage

    import psycopg

    from datawarp.catalog.database import Database
    from datawarp.core.settings import NotifySettings, Settings

logger = logging.getLogger("datawarp.notify")

EMAIL = "email"
WEBHOOK = "webhook"
# Chat messages stay readable (and under Slack's and Teams' size limits); the JSON format
# carries everything.
CHAT_ITEMS = 50
CHAT_BODY_CHARS = 300
LIST_COMMAND = "datawarp notify list --pending"


@dataclass
class DeliveryReport:
    """What one delivery run did; ``errors`` holds one line per failure (no secrets)."""

    configured: bool
    channels: list[str] = field(default_factory=list)
    notifications: int = 0  # due rows this run tried to deliver
    sent: list[int] = field(default_factory=list)  # now delivered on every channel
    emails: int = 0  # messages the SMTP server accepted
    webhook_posts: int = 0
    errors: list[str] = field(default_factory=list)
    pending: int = 0  # left pending after the run: failed, or waiting for their retry

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        if not self.configured:
            return (
                "Notifications are not configured (set [notify] smtp_host or webhook_url):"
                f" nothing sent, {self.pending} pending"
            )
        return (
            f"Delivered {len(self.sent)} of {self.notifications} due notification(s):"
            f" {self.emails} e-mail(s), {self.webhook_posts} webhook post(s);"
            f" {self.pending} pending"
        )


@dataclass
class _ChannelResult:
    """One channel's outcome for the rows it was given."""

    delivered: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    messages: int = 0


def configured_channels(notify: NotifySettings) -> list[str]:
    return [
        channel
        for channel, server in ((EMAIL, notify.smtp_host), (WEBHOOK, notify.webhook_url))
        if server
    ]


def notifications_configured(settings: Settings) -> bool:
    """Whether any channel is set up (``datawarp health`` warns when none is)."""
    return bool(configured_channels(settings.notify))


def deliver_pending(
    database: Database, settings: Settings, *, clock: Clock = SYSTEM_CLOCK
) -> DeliveryReport:
    """Send every due notification through every configured channel; never raises."""
    notify = settings.notify
    channels = configured_channels(notify)
    report = DeliveryReport(configured=bool(channels), channels=channels)
    try:
        with database.connect() as conn:
            if channels:
                _deliver(conn, notify, channels, clock, report)
                conn.commit()  # rows stay locked until what was sent is recorded
            report.pending = outbox.count_pending(conn)
    except Exception as exc:  # a delivery run must never fail its caller (a load)
        logger.exception("notification delivery stopped")
        report.sent = []  # rolled back: nothing is recorded as sent
        report.errors.append(_scrub(f"notification outbox: {exc}", notify))
    return report


def _deliver(
    conn: psycopg.Connection,
    notify: NotifySettings,
    channels: list[str],
    clock: Clock,
    report: DeliveryReport,
) -> None:
    now = clock.now()
    due = outbox.claim_due(conn, now)
    report.notifications = len(due)
    if not due:
        return
    failures: dict[int, list[str]] = defaultdict(list)
    for channel in channels:
        rows = [entry for entry in due if channel not in entry.delivered_by]
        result = _send_emails(notify, rows) if channel == EMAIL else _post_webhook(notify, rows)
        if result.delivered:
            outbox.mark_delivered(conn, result.delivered, channel)
        for notification_id, error in result.failed.items():
            failures[notification_id].append(_scrub(error, notify))
        if channel == EMAIL:
            report.emails += result.messages
        else:
            report.webhook_posts += result.messages
    report.sent = outbox.mark_sent(conn, [entry.notification_id for entry in due], channels, now)
    by_error: dict[str, list[int]] = defaultdict(list)
    for notification_id, errors in failures.items():
        by_error["; ".join(errors)].append(notification_id)
    for error, ids in by_error.items():
        outbox.record_failure(conn, ids, error, now)
        logger.warning("notification delivery failed for %s: %s", ids, error)
    report.errors += sorted({error for errors in failures.values() for error in errors})


def _scrub(text: str, notify: NotifySettings) -> str:
    """No password, and no webhook path (Slack and Teams put their token in it), in any text."""
    if notify.smtp_password is not None and notify.smtp_password.get_secret_value():
        text = text.replace(notify.smtp_password.get_secret_value(), "***")
    if notify.webhook_url:
        text = text.replace(notify.webhook_url, _where(notify.webhook_url))
    return text


# --- e-mail -------------------------------------------------------------------------------


def _send_emails(notify: NotifySettings, rows: list[OutboxEntry]) -> _ChannelResult:
    """One message per address listing all its rows; a row is delivered when all its went."""
    result = _ChannelResult()
    if not rows:
        return result
    groups: dict[str, list[OutboxEntry]] = {}  # by address, whatever its case
    spelled: dict[str, str] = {}
    for entry in rows:
        addresses = notify.dba_emails if entry.recipient == DBA else [entry.recipient]
        if not addresses:
            result.failed[entry.notification_id] = (
                "email: the recipient is the DBA list but notify.dba_emails is empty"
            )
        for address in addresses:
            spelled.setdefault(address.lower(), address)
            groups.setdefault(address.lower(), []).append(entry)
    if groups and not notify.email_from:
        return _fail_all(result, rows, "email: notify.email_from is not set")
    if not groups:
        return result
    # The mail modules (a hundredth of a second) only when there is mail: every load delivers
    # its outbox, and most outboxes are empty.
    import smtplib
    from email.errors import MessageError

    from datawarp.ops.smtp import SmtpFailure, close_smtp, open_smtp

    try:
        smtp = open_smtp(notify)
    except SmtpFailure as exc:
        return _fail_all(result, rows, f"email: {exc}")
    try:
        for key, entries in groups.items():
            address = spelled[key]
            try:
                smtp.send_message(_email(notify.email_from, address, entries))
                result.messages += 1
            except (OSError, ValueError, MessageError, smtplib.SMTPException) as exc:
                for entry in entries:
                    result.failed.setdefault(entry.notification_id, f"email to {address}: {exc}")
    finally:
        close_smtp(smtp)
    result.delivered = [e.notification_id for e in rows if e.notification_id not in result.failed]
    return result


def _fail_all(result: _ChannelResult, rows: list[OutboxEntry], error: str) -> _ChannelResult:
    for entry in rows:
        result.failed.setdefault(entry.notification_id, error)
    return result


def _email(sender: str, address: str, entries: list[OutboxEntry]) -> EmailMessage:
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid, parseaddr

    from datawarp.ops.smtp import MAIL_POLICY

    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = address
    message["Subject"] = _one_line(_summary(entries), 200)
    message["Date"] = formatdate(localtime=True)
    # A domain given, so that no DNS look-up of this machine's name can stall a load.
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2])
    message.set_content(_email_body(entries))
    return message


def _email_body(entries: list[OutboxEntry]) -> str:
    count = f"{len(entries)} notification{'s' if len(entries) > 1 else ''}"
    parts = [f"DataWarp has {count} for you.", ""]
    for entry in entries:
        where = entry.source_code or "no source"
        to_dbas = " (to the DBAs)" if entry.recipient == DBA else ""
        parts += [
            f"#{entry.notification_id} {_kind(entry.kind)} · {where}"
            f" · {entry.created_at:%Y-%m-%d %H:%M %Z}{to_dbas}",
            f"    {_one_line(entry.subject)}",
            *(f"    {line}" for line in entry.body.splitlines()),
            "",
        ]
    parts += ["-- ", f"Sent by DataWarp. Pending notifications: {LIST_COMMAND}"]
    return "\n".join(parts) + "\n"


def _summary(entries: list[OutboxEntry]) -> str:
    if len(entries) == 1:
        return f"DataWarp: 1 {_kind(entries[0].kind)}: {entries[0].subject}"
    counts = Counter(entry.kind for entry in entries)
    kinds = ", ".join(f"{n} {_kind(kind)}" for kind, n in sorted(counts.items()))
    return f"DataWarp: {len(entries)} notifications ({kinds})"


def _kind(kind: str) -> str:
    return kind.replace("_", " ")


def _one_line(text: str, limit: int | None = None) -> str:
    # File names reach subjects; a line break there would be a header injection.
    flat = " ".join(text.split())
    return flat if limit is None or len(flat) <= limit else flat[: limit - 1] + "…"


# --- webhook ------------------------------------------------------------------------------


def _post_webhook(notify: NotifySettings, rows: list[OutboxEntry]) -> _ChannelResult:
    """One POST carrying every row; a non-2xx answer fails them all."""
    result = _ChannelResult()
    if not rows:
        return result
    import httpx  # here: every load delivers its outbox, few have a webhook to post to

    from datawarp.ops.smtp import TIMEOUT_SECONDS

    where = _where(notify.webhook_url)
    try:
        response = httpx.post(
            notify.webhook_url,
            json=webhook_payload(notify.webhook_format, rows),
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        return _fail_all(result, rows, f"webhook to {where}: {type(exc).__name__}: {exc}")
    if not response.is_success:
        reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        return _fail_all(result, rows, f"webhook to {where}: {reason}")
    result.messages = 1
    result.delivered = [entry.notification_id for entry in rows]
    return result


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def webhook_payload(webhook_format: str, entries: list[OutboxEntry]) -> dict[str, Any]:
    """The body of the POST: ``json`` carries everything, ``slack`` and ``teams`` a digest."""
    title = _summary(entries)
    if webhook_format == "slack":
        return {"text": "\n".join([f"*{_slack(title)}*", *_chat_lines(entries, _slack_item)])}
    if webhook_format == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": _one_line(title, 200),
            "title": title,
            "text": "\n\n".join(_chat_lines(entries, _teams_item)),
        }
    return {
        "source": "datawarp",
        "count": len(entries),
        "notifications": [_json_item(entry) for entry in entries],
    }


def _json_item(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "notification_id": entry.notification_id,
        "created_at": entry.created_at.isoformat(),
        "kind": entry.kind,
        "recipient": entry.recipient,
        "source_code": entry.source_code,
        "subject": entry.subject,
        "body": entry.body,
        "load_id": entry.load_id,
        "alert_id": entry.alert_id,
    }


def _chat_lines(entries: list[OutboxEntry], item) -> list[str]:
    lines = [item(entry) for entry in entries[:CHAT_ITEMS]]
    if len(entries) > CHAT_ITEMS:
        lines.append(f"… and {len(entries) - CHAT_ITEMS} more: {LIST_COMMAND}")
    return lines


def _slack(text: str) -> str:
    # Slack's mrkdwn reads these three as markup; everything else passes as typed.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_item(entry: OutboxEntry) -> str:
    source = f" `{_slack(entry.source_code)}`" if entry.source_code else ""
    body = _slack(_one_line(entry.body, CHAT_BODY_CHARS))
    return f"• *{_kind(entry.kind)}*{source} {_slack(_one_line(entry.subject))}\n> {body}"


def _teams_item(entry: OutboxEntry) -> str:
    source = f" `{entry.source_code}`" if entry.source_code else ""
    body = _one_line(entry.body, CHAT_BODY_CHARS)
    return f"**{_kind(entry.kind)}**{source} {_one_line(entry.subject)}: {body}"
