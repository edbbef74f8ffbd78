"""One file's load: the steps of ``pipeline.steps`` composed into one transaction.

The data connection holds the transaction; the batch's autocommit recorder connection writes
the load event before any data moves and finishes it after a failure, so the record of what
was attempted survives a rollback. ``load_file`` never raises for a failed file: the outcome
says what happened. Notifications go to the outbox in the transaction that commits what they
announce: a schema review with the load, a failure with its event.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datawarp.catalog import loads
from datawarp.catalog.loads import EventStart, LoadRecorder
from datawarp.core.errors import ConnectionLost, DataWarpError, LoadAborted
from datawarp.core.notifications import Notification
from datawarp.core.vocabulary import LoadStatus
from datawarp.pipeline import block_title, file_period, one_read, reload, steps
from datawarp.pipeline.extract.engine import ExtractedTable
from datawarp.pipeline.fetch import FetchedFile
from datawarp.pipeline.outcome import FileOutcome
from datawarp.pipeline.steps import Completion, FileJob
from datawarp.pipeline.validation import ValidationFailed

if TYPE_CHECKING:
    import psycopg

    from datawarp.catalog.database import Database

MAX_DETAIL = 20_000  # characters of a failure's traceback kept with its load event


@dataclass
class FileResult:
    outcome: FileOutcome
    notifications: list[Notification] = field(default_factory=list)


@dataclass(frozen=True)
class _Fetched:
    """A fetched file whose period is settled; its table, when settling had to open it."""

    job: FileJob
    file: FetchedFile
    table: ExtractedTable | None


def load_file(database: Database, recorder: LoadRecorder, job: FileJob) -> FileResult:
    started = time.monotonic()
    result = FileResult(
        FileOutcome(
            job.source_code,
            job.task.location,
            job.period,
            LoadStatus.FAILED,
            target=str(job.target),
        )  # fmt: skip
    )
    ready = _fetch_and_settle(recorder, job, result)
    if ready is not None and not _skipped(recorder.conn, ready.job, ready.file, result.outcome):
        (_dry_run if job.options.dry_run else _load)(database, recorder, ready, result)
    result.outcome.seconds = time.monotonic() - started
    return result


def _fetch_and_settle(recorder: LoadRecorder, job: FileJob, result: FileResult) -> _Fetched | None:
    """The file's bytes, and its period when the manifest gives none (read from the file);
    a failure here is recorded as the load's, with the period as the manifest gave it."""
    try:
        fetched = steps.fetch_file(job)
        job = block_title.with_inherited_title(recorder.conn, job)
        settled = file_period.settle_period(job, fetched, recorder.conn)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, then reported
        if job.options.dry_run and isinstance(exc, DataWarpError):  # a dry run writes nothing
            result.outcome.error = exc.message
            return None
        _record_failure(recorder, job, result, exc, None)
        return None
    outcome, entry = result.outcome, settled.job.task.entry
    outcome.period, outcome.period_kind = entry.period, entry.period_kind
    outcome.period_source = entry.period_source
    outcome.warnings += settled.warnings
    note = file_period.period_note(settled.job, settled.evidence)
    outcome.notes += [note] if note else []
    return _Fetched(settled.job, fetched, settled.table)


def _skipped(conn, job: FileJob, fetched: FetchedFile, outcome: FileOutcome) -> bool:
    """Files already loaded (same bytes, same period) are skipped unless ``--force``."""
    previous = None if job.options.force else steps.previous_load(conn, job, fetched)
    if previous is None:
        return False
    outcome.status = "skipped"
    outcome.warnings.append(
        f"already loaded as load {previous} (same SHA-256 and period); use --force to load it"
        f" again in place of load {previous}"
    )
    return True


def _opened(
    ready: _Fetched, outcome: FileOutcome, table: ExtractedTable | None = None
) -> ExtractedTable:
    """The file's table (opened once), its warnings and the manifest period's check."""
    table = table or ready.table or steps.extract_file(ready.file, ready.job.task)
    outcome.sheet = table.sheet
    outcome.warnings += table.warnings + file_period.manifest_period_warnings(ready.job, table)
    if table.filled_down:
        filled = ", ".join(f"{name} {count:,}" for name, count in table.filled_down.items())
        outcome.notes.append(f"fill_down: empty cells that took the value above ({filled})")
    note = block_title.block_title_note(ready.job, table)
    outcome.notes += [note] if note else []
    return table


def _dry_run(database, recorder, ready: _Fetched, result: FileResult) -> None:
    outcome, job = result.outcome, ready.job
    try:
        table = _opened(ready, outcome)
        with database.connect() as conn:
            added = steps.columns_to_add(conn, job, steps.incoming_columns(table))
            replaced = reload.planned_replacement(conn, job, ready.file)
    except DataWarpError as exc:
        outcome.status, outcome.error = LoadStatus.FAILED, exc.message
        return
    if added:
        outcome.warnings.append(f"would add columns: {', '.join(added)}")
    outcome.notes += [replaced] if replaced else []
    outcome.status, outcome.rows_loaded = "planned", table.row_count


def _load(database, recorder, ready: _Fetched, result: FileResult) -> None:
    job, fetched = ready.job, ready.file
    outcome, stats = result.outcome, None
    with database.connect() as conn:
        try:
            with conn.transaction():
                if not loads.lock_source_for_load(
                    conn, job.source_code, job.settings.lock_timeout_seconds
                ):
                    raise LoadAborted(_busy_message(recorder.conn, job.source_code))
                if _skipped(recorder.conn, job, fetched, outcome):  # loaded while we waited
                    return
                outcome.load_id = recorder.start(_event(job, fetched))
                read = (
                    None if ready.table else one_read.load_in_one_read(conn, job, fetched, outcome)
                )
                table = _opened(ready, outcome, read.table if read else None)
                stats = steps.gate_stats(job, table)
                copied = read.copied if read else None
                prepared = _load_table(conn, recorder, job, table, stats, outcome, copied)
                if prepared.pending_change_ids:  # in the outbox only if the load commits
                    result.notifications.append(steps.schema_review_notice(job, prepared))
                    steps.notify(conn, result.notifications[-1], outcome.load_id)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, then reported
            result.notifications.clear()  # rolled back with the load
            _record_failure(recorder, job, result, exc, stats)
            return
    recorder.release(job.source_code)
    outcome.status = LoadStatus.COMPLETED


def _load_table(
    conn: psycopg.Connection,
    recorder: LoadRecorder,
    job: FileJob,
    table: ExtractedTable,
    stats: dict,
    outcome: FileOutcome,
    copied: tuple[steps.PreparedTable, reload.Replacement] | None = None,
) -> steps.PreparedTable:
    """prepare → replace → copy → metadata → gates → record, inside the caller's transaction;
    ``copied``: the table was prepared and filled already (``one_read``)."""
    prepared, replaced = copied or _prepare_and_copy(conn, job, table, outcome)
    outcome.columns_added = prepared.columns_added
    outcome.warnings += prepared.warnings
    outcome.pending_change_ids = prepared.pending_change_ids
    outcome.rows_replaced = replaced.rows
    outcome.notes += [replaced.note] if replaced.note else []
    outcome.warnings += [replaced.warning] if replaced.warning else []
    if not job.options.test:
        steps.record_column_metadata(conn, job, table, outcome.load_id)
    try:
        outcome.validation = steps.run_gates(conn, recorder.conn, job, stats, outcome.load_id)
    except ValidationFailed as exc:
        outcome.validation = exc.results
        raise
    steps.activate_source(conn, job)
    steps.record_completion(
        conn, job, Completion(outcome.load_id, outcome.rows_loaded, replaced.rows,
                              outcome.columns_added, prepared.created, outcome.sheet, stats,
                              validated=bool(outcome.validation),
                              repeat_of=steps.repeated_load(conn, job, table.source)),
    )  # fmt: skip
    return prepared


def _prepare_and_copy(
    conn: psycopg.Connection, job: FileJob, table: ExtractedTable, outcome: FileOutcome
) -> tuple[steps.PreparedTable, reload.Replacement]:
    prepared, replaced = reload.prepare_and_replace(
        conn, job, steps.incoming_columns(table), table.source, outcome.load_id
    )
    if job.hooks.on_file_start:
        job.hooks.on_file_start(job.task, table.row_count)
    outcome.rows_loaded = steps.copy_table(conn, job, table, outcome.load_id, prepared)
    return prepared, replaced


def _event(job: FileJob, fetched: FetchedFile | None) -> EventStart:
    return EventStart(
        source_code=job.source_code,
        target_schema=job.target.schema,
        target_table=job.target.table,
        source_file=job.task.location,
        period=job.period,
        period_kind=job.task.entry.period_kind,
        sheet=job.task.sheet,
        load_mode=job.task.load_mode,
        file_sha256=fetched.sha256 if fetched else None,
        file_bytes=fetched.size if fetched else None,
        manifest_path=job.task.manifest_path,
        manifest_entry=job.task.manifest_entry(),
        period_source=job.task.entry.period_source,
    )


def _busy_message(conn: psycopg.Connection, source_code: str) -> str:
    running = loads.running_load(conn, source_code)
    held = (
        f" (load {running.load_id} by {running.loaded_by},"
        f" started {running.started_at:%Y-%m-%d %H:%M:%S %Z})"
        if running
        else ""
    )
    return (
        f"Source {source_code} is being loaded by another DataWarp process{held};"
        " nothing was loaded, try again when it has finished"
    )


def _record_failure(
    recorder: LoadRecorder, job: FileJob, result: FileResult, exc: Exception, stats
) -> None:
    message = exc.message if isinstance(exc, DataWarpError) else _one_line(exc)
    result.outcome.error_detail = "".join(traceback.format_exception(exc))[-MAX_DETAIL:]
    try:
        if result.outcome.load_id is None:
            _record_early_failure(recorder, job, result, message)
            return
        _finish_failed(recorder, job, result, steps.failure_status(exc), message, stats)
    except Exception as recording_failed:
        if not loads.connection_lost(recording_failed, recorder.conn):
            raise
        # The server went away: the load's transaction died with it, and the next command
        # marks its event failed. The batch cannot go on without a database.
        during = f" during load {result.outcome.load_id}" if result.outcome.load_id else ""
        raise ConnectionLost(
            f"lost the database connection{during} ({_one_line(recording_failed)});"
            " nothing was committed"
        ) from exc


def _record_early_failure(
    recorder: LoadRecorder, job: FileJob, result: FileResult, message: str
) -> None:
    """A file that failed before its load began (download, lock) still leaves an event."""
    result.outcome.load_id = recorder.start(_event(job, None))
    _finish_failed(recorder, job, result, LoadStatus.FAILED, message, None)


def _finish_failed(
    recorder: LoadRecorder,
    job: FileJob,
    result: FileResult,
    status: str,
    message: str,
    stats: dict | None,
) -> None:
    """The event's end and the owner's notification commit together, then the loader lets go."""
    outcome = result.outcome
    outcome.status, outcome.error = status, message
    notification = steps.failure_notice(job, status, message)
    with recorder.conn.transaction():
        loads.finish_event(recorder.conn, outcome.load_id, status, error_message=message,
                           column_stats=stats, error_detail=outcome.error_detail)  # fmt: skip
        steps.notify(recorder.conn, notification, outcome.load_id)
    recorder.release(job.source_code)
    result.notifications.append(notification)


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
