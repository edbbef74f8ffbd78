"""`load-batch`: every file of a manifest through the load, one transaction per file.

manifest → preflight (every check that can fail before data moves, reported at once) →
for each file: ``pipeline.load.load_file`` (fetch → extract → prepare → copy → gates →
record, with its notifications in the outbox). A failure of one file is recorded and
rolled back; the batch goes on. Delivering the outbox is the caller's next step
(``ops.notify``), after every transaction of the batch has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datawarp.catalog.loads import LoadRecorder
from datawarp.core.naming import TableRef
from datawarp.pipeline.load import load_file
from datawarp.pipeline.outcome import BatchOptions, BatchReport, FileOutcome, Hooks
from datawarp.pipeline.preflight import preflight
from datawarp.pipeline.steps import FileJob

if TYPE_CHECKING:
    from datawarp.catalog.database import Database
    from datawarp.core.settings import Settings
    from datawarp.pipeline.manifest import Manifest

__all__ = ["BatchOptions", "BatchReport", "FileOutcome", "Hooks", "run_batch"]


def run_batch(
    database: Database,
    settings: Settings,
    manifest: Manifest,
    options: BatchOptions,
    *,
    hooks: Hooks | None = None,
) -> BatchReport:
    hooks = hooks or Hooks()
    with database.connect(autocommit=True) as recorder_conn:
        checked = preflight(
            recorder_conn, manifest, test=options.test, only_source=options.only_source
        )
        report = BatchReport(warnings=list(checked.warnings))
        recorder = LoadRecorder(recorder_conn)
        for task in checked.tasks:
            target = TableRef.for_source(task.source.source_code, test=options.test)
            result = load_file(database, recorder, FileJob(task, target, settings, options, hooks))
            report.notifications += result.notifications
            report.outcomes.append(result.outcome)
            if hooks.on_file_done:
                hooks.on_file_done(result.outcome)
    return report
