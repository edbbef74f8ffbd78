"""Running the gates for a load: inside the loader's transaction, or again later on demand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datawarp.catalog.gate_queries import completed_load
from datawarp.catalog.validation_results import record_results
from datawarp.core.checks import CheckResult, ColumnStat, GateContext, local_today
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.errors import DataWarpError, NotFoundError
from datawarp.core.gate_settings import GateSettings
from datawarp.core.vocabulary import CheckStatus
from datawarp.pipeline.gates import run_gates
from datawarp.pipeline.validation_report import worst

if TYPE_CHECKING:
    from psycopg import Connection


class ValidationFailed(DataWarpError):
    """A gate with severity ``fail`` tripped on a source that requires validation."""

    exit_code = 1

    def __init__(self, results: list[CheckResult]):
        failed = [r for r in results if r.status == CheckStatus.FAIL]
        super().__init__(
            "validation failed: " + "; ".join(f"{r.check_name}: {r.message}" for r in failed)
        )
        self.results = results


def column_stats(columns, primary_key: list[str], *, cumulative: bool = False) -> dict[str, Any]:
    """What the gates need from extraction and the manifest, stored with the load event for
    later re-runs."""
    return {
        "primary_key": list(primary_key),
        "cumulative": cumulative,
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
        columns=columns, primary_key=stats.get("primary_key", []), settings=settings,
        cumulative=bool(stats.get("cumulative")), **identity,
    )  # fmt: skip


def validate_in_transaction(
    data_conn: Connection,
    recorder_conn: Connection,
    ctx: GateContext,
    *,
    registered: bool,
    rollback_on_fail: bool,
) -> list[CheckResult]:
    """Run the gates on the uncommitted rows; results are recorded on the recorder connection
    first, so they are kept even when a failure then rolls the load back."""
    results = run_gates(data_conn, ctx)
    record_results(recorder_conn, ctx, results, registered=registered)
    if rollback_on_fail and worst(results) == CheckStatus.FAIL:
        raise ValidationFailed(results)
    return results


def revalidate(
    conn: Connection,
    source_code: str,
    load_id: int | None,
    settings: GateSettings,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[int, list[CheckResult]]:
    """`datawarp validate`: run the gates again on a completed load's rows and record them.

    Date outliers are judged against today (from ``clock``), not the day of the load.
    """
    found = completed_load(conn, source_code, load_id)
    if found is None:
        which = (
            f"load {load_id} of {source_code}" if load_id else f"a completed load of {source_code}"
        )
        raise NotFoundError(f"No {which} to validate")
    ctx = context_from_stats(
        found.column_stats or {"columns": []}, settings=settings, source_code=source_code,
        schema=found.schema, table=found.table, load_id=found.load_id, period=found.period,
        period_kind=found.period_kind, today=local_today(clock),
    )  # fmt: skip
    results = run_gates(conn, ctx)
    record_results(conn, ctx, results, registered=found.schema == "staging")
    return found.load_id, results
