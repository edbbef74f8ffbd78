"""Storing gate results (on the recorder connection, so they outlive a rollback) and reading them."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from datawarp.core.checks import CheckResult, GateContext


def record_results(
    conn: psycopg.Connection, ctx: GateContext, results: list[CheckResult], *, registered: bool
) -> int:
    """One row per check, grouped by a run id; returns the run id."""
    run_id = conn.execute("SELECT nextval('datawarp.validation_run_seq')").fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO datawarp.tbl_validation_results (load_id, source_code, validation_type,"
            " check_name, status, severity, message, details, run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    ctx.load_id, ctx.source_code, r.validation_type, r.check_name, r.status,
                    _configured_severity(ctx, r.check_name), r.message, Jsonb(r.details), run_id,
                )
                for r in results
            ],
        )  # fmt: skip
    if registered:
        conn.execute(
            "UPDATE datawarp.tbl_data_sources SET last_validated_at = now() WHERE source_code = %s",
            (ctx.source_code,),
        )
    return run_id


def _configured_severity(ctx: GateContext, check: str) -> str | None:
    try:
        return ctx.settings.severity_of(check)
    except KeyError:  # informational checks (columns_added) have no severity of their own
        return None


def read_results(conn: psycopg.Connection, load_id: int) -> tuple[int | None, list[CheckResult]]:
    """The latest validation run of a load: (run id, results)."""
    rows = conn.execute(
        "SELECT run_id, validation_type, check_name, status, message, details"
        " FROM datawarp.tbl_validation_results WHERE load_id = %s"
        " AND run_id = (SELECT max(run_id) FROM datawarp.tbl_validation_results"
        "               WHERE load_id = %s)"
        " ORDER BY validation_id",
        (load_id, load_id),
    ).fetchall()
    if not rows:
        return None, []
    return rows[0][0], [CheckResult(*row[1:]) for row in rows]
