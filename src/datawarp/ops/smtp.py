"""The SMTP session DataWarp's e-mails go through: notifications and the weekly report.

The password comes from the settings' secret (environment only) and never appears in an
error: a failure names the server and the user.
"""

from __future__ import annotations

import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datawarp.core.settings import NotifySettings

TIMEOUT_SECONDS = 10
# Python folds a subject longer than 78 characters by moving it whole to a continuation line,
# which some clients show with a leading blank; RFC 5322 allows 998.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


class SmtpFailure(Exception):
    """The SMTP session could not be opened; the message is ready for a report."""


def open_smtp(notify: NotifySettings) -> smtplib.SMTP:
    host, port, user = notify.smtp_host, notify.smtp_port, notify.smtp_user
    server = f"SMTP server {host}:{port}"
    try:
        if notify.smtp_security == "ssl":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpFailure(f"cannot reach {server}: {exc}") from None
    try:
        if notify.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if user:
            password = notify.smtp_password.get_secret_value() if notify.smtp_password else ""
            smtp.login(user, password)
    except smtplib.SMTPAuthenticationError as exc:
        close_smtp(smtp)
        reply = exc.smtp_error.decode(errors="replace") if exc.smtp_error else ""
        raise SmtpFailure(
            f"authentication failed at {server} as user {user!r}: {exc.smtp_code} {reply}"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        close_smtp(smtp)
        who = f" as user {user!r}" if user else ""
        raise SmtpFailure(f"{server}{who}: {exc}") from None
    return smtp


def close_smtp(smtp: smtplib.SMTP) -> None:
    # What was sent is sent: a server that drops the connection at QUIT changes nothing.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def send_report(
    notify: NotifySettings, recipients: list[str], subject: str, text: str, html: str
) -> None:
    """One e-mail to the given addresses with a plain-text and an HTML part."""
    if not recipients:
        raise SmtpFailure("no recipients: set dba_emails under [notify]")
    if not notify.smtp_host or not notify.email_from:
        raise SmtpFailure("e-mail is not configured: set smtp_host and email_from under [notify]")
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = notify.email_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(notify.email_from)[1].rpartition("@")[2])
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    smtp = open_smtp(notify)
    try:
        smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpFailure(f"SMTP server {notify.smtp_host}: {exc}") from None
    finally:
        close_smtp(smtp)
