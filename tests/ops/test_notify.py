"""Delivering the outbox to a real SMTP server (aiosmtpd) and a real HTTP server."""

from __future__ import annotations

import asyncio
import email
import json
import re
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from datawarp.catalog import outbox
from datawarp.catalog.database import database_for_url
from datawarp.core.clock import FixedClock
from datawarp.core.notifications import DBA, Notification
from datawarp.core.settings import NotifySettings, Settings, load_settings
from datawarp.ops.notify import deliver_pending, notifications_configured
from tests.cli_helpers import run_cli

SENDER = "datawarp@nhs.net"
OWNER = "owner@nhs.net"
DBAS = ["dba.one@nhs.net", "dba.two@nhs.net"]
USER = "datawarp-mailer"
PASSWORD = "pw-9f3c-never-shown"


class Collector:
    """An SMTP handler keeping every message it accepts; ``delay`` makes it a slow server."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def by_recipient(self) -> dict[str, email.message.EmailMessage]:
        found = {}
        for recipients, message in self.messages:
            for recipient in recipients:
                assert recipient not in found, f"two messages to {recipient}"
                found[recipient] = message
        return found


def accept_only_the_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp(**options):
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller, handler


@pytest.fixture
def smtp():
    controller, handler = start_smtp()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def smtp_with_auth():
    # Plain text AUTH is allowed only because the server is this machine's loopback.
    controller, handler = start_smtp(authenticator=accept_only_the_password,
                                     auth_require_tls=False, auth_required=True)  # fmt: skip
    handler.port = controller.port
    yield handler
    controller.stop()


def email_settings(db_url: str, port: int, **notify) -> Settings:
    options = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
               "email_from": SENDER, "dba_emails": DBAS, **notify}  # fmt: skip
    return Settings(database_url=db_url, notify=NotifySettings(**options))


def add(conn, kind: str, recipient: str, subject: str, source: str | None = "ae") -> int:
    notification_id = outbox.enqueue(
        conn, Notification(kind, recipient, source, subject, f"details of {subject}")
    )
    conn.commit()
    return notification_id


def rows(conn, ids: list[int]) -> dict[int, outbox.OutboxEntry]:
    conn.rollback()  # a fresh snapshot of what the deliverer committed
    return {entry.notification_id: entry for entry in outbox.entries(conn, ids)}


def test_one_email_per_address_listing_everything_for_it(conn, db_url, smtp):
    owned = [
        add(conn, "load_failed", OWNER, "Load of jan.csv failed"),
        add(conn, "load_failed", OWNER, "Load of feb.csv failed"),
        add(conn, "validation_failed", OWNER, "Load of mar.csv rolled back"),
    ]
    review = add(conn, "schema_review", DBA, "Schema change review needed for staging.tbl_ae")
    dba_owned = add(conn, "load_failed", "DBA.One@nhs.net", "Load of apr.csv failed", "rtt")

    report = deliver_pending(database_for_url(db_url), email_settings(db_url, smtp.port))

    assert report.ok and report.errors == []
    assert (report.emails, report.sent) == (3, sorted([*owned, review, dba_owned]))
    received = smtp.by_recipient()
    assert sorted(received) == sorted([OWNER, *DBAS])
    mine = received[OWNER]
    assert mine["From"] == SENDER and mine["To"] == OWNER
    assert mine["Subject"] == "DataWarp: 3 notifications (2 load failed, 1 validation failed)"
    body = mine.get_content()
    for subject in ("jan.csv failed", "feb.csv failed", "mar.csv rolled back"):
        assert f"Load of {subject}" in body and f"details of Load of {subject}" in body
    assert "Schema change review" not in body
    # The DBA who also owns a source gets one message with both; the other DBA only the review.
    both = received["dba.one@nhs.net"]
    assert both["Subject"] == "DataWarp: 2 notifications (1 load failed, 1 schema review)"
    assert "apr.csv" in both.get_content() and "staging.tbl_ae" in both.get_content()
    review_only = received["dba.two@nhs.net"]
    assert review_only["Subject"] == (
        "DataWarp: 1 schema review: Schema change review needed for staging.tbl_ae"
    )
    stored = rows(conn, report.sent)
    assert {(e.status, tuple(e.delivered_by)) for e in stored.values()} == {("sent", ("email",))}
    assert all(e.sent_at is not None and e.attempts == 0 for e in stored.values())

    again = deliver_pending(database_for_url(db_url), email_settings(db_url, smtp.port))
    assert (again.notifications, again.emails, len(smtp.messages)) == (0, 0, 3)


@pytest.mark.parametrize("webhook_format", ["json", "slack", "teams"])
def test_one_webhook_post_carries_every_notification(conn, db_url, httpserver, webhook_format):
    ids = [
        add(conn, "load_failed", OWNER, "Load of <jan>.csv failed"),
        add(conn, "schema_review", DBA, "Schema change review needed", source=None),
    ]
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    notify = NotifySettings(webhook_url=httpserver.url_for("/hook"), webhook_format=webhook_format)

    report = deliver_pending(database_for_url(db_url), Settings(database_url=db_url, notify=notify))

    assert (report.ok, report.webhook_posts, report.emails, report.sent) == (True, 1, 0, ids)
    (request, _response), *others = httpserver.log
    assert others == [] and request.headers["Content-Type"] == "application/json"
    payload = request.get_json()
    if webhook_format == "json":
        assert payload["count"] == 2
        assert [n["notification_id"] for n in payload["notifications"]] == ids
        assert payload["notifications"][0]["subject"] == "Load of <jan>.csv failed"
        assert payload["notifications"][1]["recipient"] == DBA
    elif webhook_format == "slack":
        assert set(payload) == {"text"}
        assert payload["text"].startswith("*DataWarp: 2 notifications")
        assert "Load of &lt;jan&gt;.csv failed" in payload["text"]  # mrkdwn's escapes
    else:
        assert (payload["@type"], payload["@context"]) == (
            "MessageCard", "https://schema.org/extensions",
        )  # fmt: skip
        assert payload["title"].startswith("DataWarp: 2 notifications")
        assert "Schema change review needed" in payload["text"]
    assert {e.status for e in rows(conn, ids).values()} == {"sent"}


def test_smtp_down_keeps_rows_pending_with_the_error_and_backs_off(conn, db_url):
    notification_id = add(conn, "load_failed", OWNER, "Load of jan.csv failed")
    port = free_port()  # nothing listens there
    before = datetime.now(UTC)

    report = deliver_pending(database_for_url(db_url), email_settings(db_url, port))

    assert not report.ok and report.sent == [] and report.pending == 1
    assert report.errors == [
        f"email: cannot reach SMTP server 127.0.0.1:{port}: [Errno 111] Connection refused"
    ]
    entry = rows(conn, [notification_id])[notification_id]
    assert (entry.status, entry.attempts, entry.last_error) == ("pending", 1, report.errors[0])
    assert before + timedelta(seconds=59) < entry.next_attempt_at < before + timedelta(minutes=2)

    # Not due again yet; at the retry time the next failure doubles the wait.
    assert (
        deliver_pending(database_for_url(db_url), email_settings(db_url, port)).notifications == 0
    )
    later = FixedClock(entry.next_attempt_at)
    deliver_pending(database_for_url(db_url), email_settings(db_url, port), clock=later)
    entry = rows(conn, [notification_id])[notification_id]
    assert entry.attempts == 2 and entry.next_attempt_at == later.instant + timedelta(minutes=2)


def test_backoff_is_capped_at_six_hours(conn):
    notification_id = add(conn, "load_failed", OWNER, "Load of jan.csv failed")
    conn.execute("UPDATE datawarp.tbl_notifications SET attempts = 40")
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    outbox.record_failure(conn, [notification_id], "email: down", now)
    conn.commit()
    entry = rows(conn, [notification_id])[notification_id]
    assert (entry.attempts, entry.next_attempt_at) == (41, now + timedelta(hours=6))


def test_email_delivered_and_webhook_failed_retries_only_the_webhook(
    conn, db_url, smtp, httpserver
):
    notification_id = add(conn, "load_failed", OWNER, "Load of jan.csv failed")
    hook = httpserver.url_for("/services/T01/B02/SECRET-TOKEN")
    settings = email_settings(db_url, smtp.port, webhook_url=hook, webhook_format="slack")
    httpserver.expect_oneshot_request("/services/T01/B02/SECRET-TOKEN").respond_with_data(
        "no", status=500
    )

    first = deliver_pending(database_for_url(db_url), settings)

    where = f"http://{httpserver.host}:{httpserver.port}"
    assert first.errors == [f"webhook to {where}: HTTP 500 INTERNAL SERVER ERROR"]
    assert "SECRET-TOKEN" not in json.dumps(first.errors)
    entry = rows(conn, [notification_id])[notification_id]
    assert (entry.status, entry.delivered_by, entry.attempts) == ("pending", ["email"], 1)
    assert len(smtp.messages) == 1

    httpserver.expect_request("/services/T01/B02/SECRET-TOKEN").respond_with_data("ok")
    retry = FixedClock(entry.next_attempt_at)
    second = deliver_pending(database_for_url(db_url), settings, clock=retry)

    assert (second.ok, second.emails, second.webhook_posts) == (True, 0, 1)
    assert len(smtp.messages) == 1  # the owner is not mailed twice
    entry = rows(conn, [notification_id])[notification_id]
    assert (entry.status, sorted(entry.delivered_by)) == ("sent", ["email", "webhook"])
    assert entry.sent_at == retry.instant


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_authentication_failure_names_server_and_user_never_the_password(
    conn, db_url, smtp_with_auth
):
    notification_id = add(conn, "load_failed", OWNER, "Load of jan.csv failed")
    settings = email_settings(
        db_url, smtp_with_auth.port, smtp_user=USER, smtp_password="wrong-" + PASSWORD
    )

    report = deliver_pending(database_for_url(db_url), settings)

    (error,) = report.errors
    assert error.startswith(
        f"email: authentication failed at SMTP server 127.0.0.1:{smtp_with_auth.port}"
        f" as user '{USER}': 535"
    )
    assert PASSWORD not in error and smtp_with_auth.messages == []
    assert rows(conn, [notification_id])[notification_id].last_error == error


def test_nothing_configured_sends_nothing_and_says_so(conn, db_url):
    notification_id = add(conn, "load_failed", OWNER, "Load of jan.csv failed")
    settings = Settings(database_url=db_url)
    assert not notifications_configured(settings)
    assert notifications_configured(email_settings(db_url, 25))

    report = deliver_pending(database_for_url(db_url), settings)

    assert (report.configured, report.ok, report.pending, report.sent) == (False, True, 1, [])
    assert report.summary.startswith("Notifications are not configured")
    entry = rows(conn, [notification_id])[notification_id]
    assert (entry.status, entry.attempts, entry.last_error) == ("pending", 0, None)


def test_a_dba_notification_without_a_dba_list_waits_naming_the_setting(conn, db_url, smtp):
    review = add(conn, "schema_review", DBA, "Schema change review needed")
    owned = add(conn, "load_failed", OWNER, "Load of jan.csv failed")

    report = deliver_pending(
        database_for_url(db_url), email_settings(db_url, smtp.port, dba_emails=[])
    )

    assert report.sent == [owned] and len(smtp.messages) == 1
    assert rows(conn, [review])[review].last_error == (
        "email: the recipient is the DBA list but notify.dba_emails is empty"
    )


def test_two_deliverers_at_once_send_each_notification_once(conn, db_url, smtp):
    smtp.delay = 0.3  # a slow server keeps the first deliverer's rows locked
    ids = [add(conn, "load_failed", f"owner{i}@nhs.net", f"Load {i} failed") for i in range(4)]
    settings = email_settings(db_url, smtp.port)
    start = threading.Barrier(2)
    reports = []

    def deliver() -> None:
        start.wait()
        reports.append(deliver_pending(database_for_url(db_url), settings))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(report.ok for report in reports) and len(reports) == 2
    assert sorted(i for report in reports for i in report.sent) == ids
    delivered = [int(n) for _, message in smtp.messages
                 for n in re.findall(r"^#(\d+) ", message.get_content(), re.M)]  # fmt: skip
    assert sorted(delivered) == ids
    assert {e.status for e in rows(conn, ids).values()} == {"sent"}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_environment_password_is_never_shown_or_stored(
    conn, db_url, smtp_with_auth, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    ids = [add(conn, "load_failed", OWNER, "Load of jan.csv failed")]
    env = {"DATAWARP_NOTIFY_SMTP_HOST": "127.0.0.1", "DATAWARP_NOTIFY_SMTP_SECURITY": "none",
           "DATAWARP_NOTIFY_SMTP_PORT": str(smtp_with_auth.port), "DATAWARP_NOTIFY_SMTP_USER": USER,
           "DATAWARP_NOTIFY_SMTP_PASSWORD": PASSWORD, "DATAWARP_NOTIFY_EMAIL_FROM": SENDER}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(database_url=db_url)
    assert settings.notify.smtp_password.get_secret_value() == PASSWORD
    shown = [repr(settings), str(settings), settings.model_dump_json()]

    sent = run_cli("notify", "send", "--json", database_url=db_url)  # the server accepts it
    assert sent.exit_code == 0, sent.stderr
    assert json.loads(sent.stdout)["sent"] == ids and len(smtp_with_auth.messages) == 1
    add(conn, "load_failed", OWNER, "Load of feb.csv failed")
    monkeypatch.setenv("DATAWARP_NOTIFY_SMTP_USER", "someone-else")  # now refused
    failed = run_cli("notify", "send", database_url=db_url)
    assert failed.exit_code == 1 and "someone-else" in failed.stderr
    listed = run_cli("notify", "list", "--json", database_url=db_url)
    shown += [sent.stdout, sent.stderr, failed.stdout, failed.stderr, listed.stdout]
    assert all(PASSWORD not in text for text in shown)
    conn.rollback()
    stored = conn.execute(
        "SELECT (SELECT string_agg(n::text, ' ') FROM datawarp.tbl_notifications n)"
        " || (SELECT coalesce(string_agg(a::text, ' '), '') FROM datawarp.tbl_audit_log a)"
    ).fetchone()[0]
    assert "someone-else" in stored and PASSWORD not in stored


def test_notify_list_and_send_on_the_command_line(conn, db_url):
    first = add(conn, "load_failed", OWNER, "Load of [jan].csv failed")
    port = free_port()
    env = {"DATAWARP_NOTIFY_SMTP_HOST": "127.0.0.1", "DATAWARP_NOTIFY_SMTP_PORT": str(port),
           "DATAWARP_NOTIFY_EMAIL_FROM": SENDER, "DATAWARP_NOTIFY_SMTP_SECURITY": "none"}  # fmt: skip

    failed = run_cli("notify", "send", database_url=db_url, env=env)
    assert failed.exit_code == 1
    assert (
        failed.stderr == f"Error: email: cannot reach SMTP server 127.0.0.1:{port}:"
        " [Errno 111] Connection refused\n"
    )

    listed = json.loads(
        run_cli("notify", "list", "--pending", "--json", database_url=db_url).stdout
    )
    assert [(n["notification_id"], n["status"], n["attempts"]) for n in listed] == [
        (first, "pending", 1)
    ]
    table = run_cli("notify", "list", "--limit", "5", database_url=db_url)
    assert table.exit_code == 0 and "Load of [jan].csv failed" in table.stdout

    quiet = run_cli("notify", "send", "--json", database_url=db_url)
    report = json.loads(quiet.stdout)
    assert quiet.exit_code == 0 and (report["configured"], report["pending"]) == (False, 1)


def test_the_report_goes_to_the_dba_list_with_text_and_html_parts(conn, db_url, smtp):
    env = {
        "DATAWARP_NOTIFY_SMTP_HOST": "127.0.0.1",
        "DATAWARP_NOTIFY_SMTP_PORT": str(smtp.port),
        "DATAWARP_NOTIFY_SMTP_SECURITY": "none",
        "DATAWARP_NOTIFY_EMAIL_FROM": SENDER,
        "DATAWARP_NOTIFY_DBA_EMAILS": ",".join(DBAS),
    }
    result = run_cli("report", "--email", database_url=db_url, env=env)

    assert result.exit_code == 0, result.stderr
    ((recipients, message),) = smtp.messages
    assert sorted(recipients) == sorted(DBAS)
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert "LOAD HEALTH" in parts["text/plain"] and "<svg" in parts["text/html"]
    assert message["Subject"].startswith("DataWarp")


def test_the_report_is_not_sent_without_a_mail_server(db_url):
    result = run_cli("report", "--email", database_url=db_url)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: The report was not sent: no recipients: set dba_emails under [notify]"
    )
