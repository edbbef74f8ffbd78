"""Running the gates for a load: inside the loader's transaction, or again later on demand."""

from __future__ import annotations

from typing import Any

import psycopg

from datawarp.catalog.validation_results import record_results
from datawarp.core.errors import DataWarpError, NotFoundError
from datawarp.core.gate_settings import GateSettings
from datawarp.pipeline.gates import CheckResult, ColumnStat, GateContext, run_gates
from datawarp.pipeline.validation_report import worst


class ValidationFailed(DataWarpError):
    """A gate with severity ``fail`` tripped on a source that requires validation."""

    exit_code = 1

    def __init__(self, results: list[CheckResult]):
        failed = [r for r in results if r.status == "fail"]
        super().__init__(
            "validation failed: " + "; ".join(f"{r.check_name}: {r.message}" for r in failed)
        )
        self.results = results


def column_stats(columns, primary_key: list[str]) -> dict[str, Any]:
    """What the gates need from extraction, stored with the load event for later re-runs."""
    return {
        "primary_key": list(primary_key),
        "columns": [
            {
                "name": c.name, "type": c.pg_type, "fully_suppressed": c.is_fully_suppressed,
                "suppressed": c.suppressed_count,
            }
            for c in columns
        ],
    }  # fmt: skip


def context_from_stats(
    stats: dict[str, Any], *, settings: GateSettings, **identity: Any
) -> GateContext:
    columns = [
        ColumnStat(c["name"], c["type"], c["fully_suppressed"], c.get("suppressed", 0))
        for c in stats["columns"]
    ]
    return GateContext(
        columns=columns, primary_key=stats.get("primary_key", []), settings=settings, **identity
    )


def validate_in_transaction(
    data_conn: psycopg.Connection,
    recorder_conn: psycopg.Connection,
    ctx: GateContext,
    *,
    registered: bool,
    rollback_on_fail: bool,
) -> list[CheckResult]:
    """Run the gates on the uncommitted rows; results are recorded on the recorder connection
    first, so they are kept even when a failure then rolls the load back."""
    results = run_gates(data_conn, ctx)
    record_results(recorder_conn, ctx, results, registered=registered)
    if rollback_on_fail and worst(results) == "fail":
        raise ValidationFailed(results)
    return results


def revalidate(
    conn: psycopg.Connection, source_code: str, load_id: int | None, settings: GateSettings
) -> tuple[int, list[CheckResult]]:
    """`datawarp validate`: run the gates again on a completed load's rows and record them."""
    row = conn.execute(
        "SELECT load_id, target_schema, target_table, period, period_kind, column_stats"
        " FROM datawarp.tbl_load_events WHERE source_code = %s AND load_status = 'completed'"
        " AND (%s::bigint IS NULL OR load_id = %s) ORDER BY load_id DESC LIMIT 1",
        (source_code, load_id, load_id),
    ).fetchone()
    if row is None:
        which = (
            f"load {load_id} of {source_code}" if load_id else f"a completed load of {source_code}"
        )
        raise NotFoundError(f"No {which} to validate")
    found_id, schema, table, period, kind, stats = row
    ctx = context_from_stats(
        stats or {"columns": []}, settings=settings, source_code=source_code, schema=schema,
        table=table, load_id=found_id, period=period, period_kind=kind,
    )  # fmt: skip
    results = run_gates(conn, ctx)
    record_results(conn, ctx, results, registered=schema == "staging")
    return found_id, results
