"""The alert rules and the outbox's delivery, as ``alerts check`` and every ``load-batch`` end.

Kept apart from ``alerts_cmd`` (and free of rich) so that a load's process, printing plain
lines, imports neither the terminal renderer nor the other alert commands to run them.
"""

from __future__ import annotations


def check_and_deliver(app_state) -> tuple:
    """The alert rules, then delivery of the outbox: what every load-batch ends with."""
    from datawarp.ops.alerts import check_alerts

    settings = app_state.settings()
    with app_state.writing(autocommit=True) as conn:
        check = check_alerts(conn, settings.monitoring)
    try:
        from datawarp.ops.notify import deliver_pending
    except ImportError:
        return check, None
    return check, deliver_pending(app_state.ready_database(), settings)


def summary_line(check) -> str:
    return (
        f"alerts: {len(check.raised)} new, {len(check.repeated)} repeated,"
        f" {len(check.resolved)} resolved; {len(check.notifications)} notification(s) written"
    )
