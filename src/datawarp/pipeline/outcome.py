"""What a batch reports: per-file outcomes, the batch's exit code, and the progress hooks.

Kept apart from the orchestration in ``pipeline.batch`` so the CLI and tests can name these
types without pulling in the loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from datawarp.core.notifications import Notification
from datawarp.pipeline.gates import CheckResult
from datawarp.pipeline.preflight import FileTask


@dataclass(frozen=True)
class BatchOptions:
    test: bool = False
    force: bool = False
    dry_run: bool = False
    validate: bool = False
    only_source: str | None = None
    batch_size: int = 10_000


@dataclass
class FileOutcome:
    source_code: str
    location: str
    period: str | None
    status: str  # completed, failed, rolled_back, skipped, planned
    load_id: int | None = None
    rows_loaded: int = 0
    columns_added: int = 0
    target: str | None = None
    sheet: str | None = None
    error: str | None = None
    error_detail: str | None = None  # the failure's traceback, shown under --verbose
    warnings: list[str] = field(default_factory=list)
    pending_change_ids: list[int] = field(default_factory=list)
    validation: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0
    period_kind: str | None = None
    period_source: str | None = None  # PeriodSource; None when no period was found
    rows_replaced: int = 0  # deleted first: REPLACE's period, or a forced reload's earlier copy
    notes: list[str] = field(default_factory=list)  # what the load did besides loading rows

    @property
    def ok(self) -> bool:
        return self.status in ("completed", "skipped", "planned")


@dataclass
class BatchReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)  # written to the outbox

    @property
    def exit_code(self) -> int:
        return 0 if all(o.ok for o in self.outcomes) else 1


@dataclass
class Hooks:
    """Callbacks the CLI uses for progress; tests leave them empty."""

    on_download: Callable[[FileTask, int, int | None], None] | None = None
    on_file_start: Callable[[FileTask, int | None], None] | None = None  # rows, if known
    on_rows: Callable[[int], None] | None = None
    on_file_done: Callable[[FileOutcome], None] | None = None
