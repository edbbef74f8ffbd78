"""The facts the alert rules judge, one query per rule, each a short index-backed read.

Every query looks at loads into ``staging`` only (test loads are experiments) and at most a
few recent rows per source, so ``datawarp alerts check`` stays fast on a long history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from datawarp.catalog.rows import fetch_dicts

Row = dict[str, Any]
RECENT_LOADS = 50  # consecutive failures are counted among a source's last loads


def failures_in_a_row(conn: psycopg.Connection, as_of: datetime) -> list[Row]:
    """Per source: failed or rolled-back loads since its last completed one (among recent)."""
    return fetch_dicts(conn, """
        SELECT s.source_code, s.owner, count(*) AS failures, max(r.load_id) AS latest_load_id,
               (array_agg(r.error_message ORDER BY r.started_at DESC))[1] AS last_error
          FROM datawarp.tbl_data_sources s
          JOIN LATERAL (
              SELECT recent.*,
                     bool_or(recent.load_status = 'completed')
                         OVER (ORDER BY recent.started_at DESC ROWS UNBOUNDED PRECEDING)
                         AS recovered
                FROM (SELECT e.load_id, e.started_at, e.load_status, e.error_message
                        FROM datawarp.tbl_load_events e
                       WHERE e.source_code = s.source_code AND e.target_schema = 'staging'
                         AND e.load_status <> 'in_progress' AND e.started_at <= %(as_of)s
                       ORDER BY e.started_at DESC LIMIT %(recent)s) recent
          ) r ON NOT r.recovered
         GROUP BY s.source_code, s.owner
    """, {"as_of": as_of, "recent": RECENT_LOADS})  # fmt: skip


def latest_load_speeds(conn: psycopg.Connection, as_of: datetime, history: int) -> list[Row]:
    """Per source: its latest completed load's duration and the average of the ones before."""
    return fetch_dicts(conn, """
        SELECT s.source_code, s.owner, last.load_id, last.duration_seconds,
               prior.average, prior.loads
          FROM datawarp.tbl_data_sources s
          JOIN LATERAL (
              SELECT e.load_id, e.duration_seconds, e.completed_at
                FROM datawarp.tbl_load_events e
               WHERE e.source_code = s.source_code AND e.load_status = 'completed'
                 AND e.target_schema = 'staging' AND e.completed_at <= %(as_of)s
               ORDER BY e.completed_at DESC LIMIT 1
          ) last ON true
          JOIN LATERAL (
              SELECT avg(p.duration_seconds) AS average, count(*) AS loads
                FROM (SELECT e.duration_seconds FROM datawarp.tbl_load_events e
                       WHERE e.source_code = s.source_code AND e.load_status = 'completed'
                         AND e.target_schema = 'staging' AND e.completed_at < last.completed_at
                       ORDER BY e.completed_at DESC LIMIT %(window)s) p
          ) prior ON prior.loads >= %(history)s
    """, {"as_of": as_of, "history": history, "window": max(history, 20)})  # fmt: skip


def new_tables(conn: psycopg.Connection, as_of: datetime, days: int) -> list[Row]:
    return fetch_dicts(conn, """
        SELECT c.source_code, s.owner, c.change_id, c.target_schema || '.' || c.target_table
               AS target, c.requested_at
          FROM datawarp.tbl_schema_changes c
          LEFT JOIN datawarp.tbl_data_sources s USING (source_code)
         WHERE c.kind = 'create' AND c.target_schema = 'staging'
           AND c.requested_at > %(as_of)s - make_interval(days => %(days)s)
           AND c.requested_at <= %(as_of)s
         ORDER BY c.requested_at
    """, {"as_of": as_of, "days": days})  # fmt: skip


def latest_validation(conn: psycopg.Connection, as_of: datetime) -> list[Row]:
    """Per source: the checks that warned or failed in the latest run on its latest load."""
    return fetch_dicts(conn, """
        SELECT s.source_code, s.owner, last.load_id,
               array_agg(v.check_name || ': ' || v.message ORDER BY v.validation_id)
                   FILTER (WHERE v.status = 'fail') AS failed,
               array_agg(v.check_name || ': ' || v.message ORDER BY v.validation_id)
                   FILTER (WHERE v.status = 'warn') AS warned
          FROM datawarp.tbl_data_sources s
          JOIN LATERAL (
              SELECT e.load_id FROM datawarp.tbl_load_events e
               WHERE e.source_code = s.source_code AND e.target_schema = 'staging'
                 AND e.load_status IN ('completed', 'rolled_back') AND e.started_at <= %(as_of)s
               ORDER BY e.started_at DESC LIMIT 1
          ) last ON true
          JOIN datawarp.tbl_validation_results v ON v.load_id = last.load_id
           AND v.run_id = (SELECT max(run_id) FROM datawarp.tbl_validation_results
                            WHERE load_id = last.load_id)
         GROUP BY s.source_code, s.owner, last.load_id
    """, {"as_of": as_of})  # fmt: skip


def old_pending_reviews(conn: psycopg.Connection, as_of: datetime, days: int) -> list[Row]:
    return fetch_dicts(conn, """
        SELECT c.source_code, s.owner, min(c.change_id) AS oldest_change_id,
               count(*) AS pending, min(c.requested_at) AS oldest_requested_at
          FROM datawarp.tbl_schema_changes c
          LEFT JOIN datawarp.tbl_data_sources s USING (source_code)
         WHERE c.status = 'pending'
           AND c.requested_at < %(as_of)s - make_interval(days => %(days)s)
         GROUP BY c.source_code, s.owner
    """, {"as_of": as_of, "days": days})  # fmt: skip


def lock_alert_state(conn: psycopg.Connection) -> None:
    """One alert check at a time, so two cannot raise the same alert."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('datawarp.alerts', 0))")
