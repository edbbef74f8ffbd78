"""Maintenance runs: weekly, monthly and quarterly, for cron or a systemd timer.

| schedule  | steps |
|-----------|-------|
| weekly    | VACUUM (ANALYZE) of the data and catalog tables; orphan check (the DBA told of new ones, orphans older than 7 days archived unless ``orphans = "alert"``); failed loads of the week; stale sources; test-load purge; usage sample; the health report by e-mail |
| monthly   | deprecated sources past their archive date archived; retention; capacity forecast; schema-change summary |
| quarterly | audit chain verified; load events older than a year exported to Parquet (they stay in the catalog); slow-query and missing-index hints |

Runs are idempotent and serialised per schedule by an advisory lock, so cron firing twice
gives one run and one recorded as skipped. Every step is a row of
``datawarp.tbl_maintenance_runs``; a failed step is recorded and the next one still runs.
``--dry-run`` reports what each step would do and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from datawarp.catalog import maintenance as records
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.errors import BadInputError, DataWarpError
from datawarp.core.vocabulary import MaintenanceSchedule, StepOutcome
from datawarp.ops import maintenance_steps as steps

if TYPE_CHECKING:
    from datawarp.catalog.database import Database
    from datawarp.core.settings import Settings


@dataclass(frozen=True)
class StepContext:
    database: Database
    settings: Settings
    clock: Clock
    dry_run: bool

    @property
    def now(self) -> datetime:
        return self.clock.now()


Step = Callable[[StepContext], tuple[str, dict[str, Any]]]

SCHEDULES: dict[str, list[tuple[str, Step]]] = {
    MaintenanceSchedule.WEEKLY: [
        ("vacuum_analyze", steps.vacuum_analyze),
        ("orphan_check", steps.orphan_check),
        ("failed_loads", steps.failed_loads),
        ("stale_sources", steps.stale_sources),
        ("test_load_purge", steps.test_load_purge),
        ("usage_sample", steps.usage_sample),
        ("health_report", steps.health_report),
    ],
    MaintenanceSchedule.MONTHLY: [
        ("archive_due_sources", steps.archive_due_sources),
        ("retention", steps.retention),
        ("capacity_forecast", steps.capacity_forecast),
        ("schema_change_summary", steps.schema_change_summary),
    ],
    MaintenanceSchedule.QUARTERLY: [
        ("audit_verify", steps.audit_verify),
        ("export_old_load_events", steps.export_old_load_events),
        ("query_hints", steps.query_hints),
    ],
}


@dataclass
class StepResult:
    step: str
    outcome: str
    details: dict[str, Any]
    seconds: float


@dataclass
class MaintenanceRun:
    schedule: str
    run_id: int
    dry_run: bool
    skipped: str | None = None  # why the run did not happen
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.skipped is None and all(s.outcome != StepOutcome.FAILED for s in self.steps)


def run_maintenance(
    database: Database,
    settings: Settings,
    schedule: str,
    *,
    dry_run: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> MaintenanceRun:
    if schedule not in SCHEDULES:
        raise BadInputError(f"Unknown schedule {schedule!r}: use weekly, monthly or quarterly")
    context = StepContext(database, settings, clock, dry_run)
    with database.connect(autocommit=True) as conn:
        if not records.try_lock(conn, schedule):
            reason = f"another {schedule} maintenance run is in progress"
            run_id = records.record_skipped(conn, schedule, reason, dry_run=dry_run)
            return MaintenanceRun(schedule, run_id, dry_run, skipped=reason)
        try:
            run = MaintenanceRun(schedule, records.new_run_id(conn), dry_run)
            for name, step in SCHEDULES[schedule]:
                run.steps.append(_run_step(conn, run, name, step, context))
            return run
        finally:
            records.unlock(conn, schedule)


def _run_step(conn, run: MaintenanceRun, name: str, step: Step, context: StepContext):
    step_id = records.start_step(conn, run.run_id, run.schedule, name, dry_run=run.dry_run)
    started = context.clock.now()
    try:
        outcome, details = step(context)
    except DataWarpError as exc:  # recorded; the next step still runs
        outcome, details = StepOutcome.FAILED, {"error": exc.message}
    except Exception as exc:  # noqa: BLE001 - one broken step must not stop the others
        outcome, details = StepOutcome.FAILED, {"error": f"{type(exc).__name__}: {exc}"}
    records.finish_step(conn, step_id, outcome, details)
    seconds = (context.clock.now() - started) / timedelta(seconds=1)
    return StepResult(name, outcome, details, round(seconds, 3))
