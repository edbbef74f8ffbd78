"""`load-batch`: compose the stages for every file of a manifest.

manifest → plan (checks) → fetch → extract → load (one transaction per file, with the
validation gates inside it) → record (event and metrics on their own connection) → notify.
A failure of one file is recorded, notified and rolled back; the batch goes on.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

from datawarp.catalog import registry
from datawarp.catalog import schema_changes as schema_review
from datawarp.catalog.column_metadata import record_column_metadata
from datawarp.catalog.database import Database
from datawarp.catalog.loads import (
    SERIALISE_LOCK,
    EventStart,
    LoadRecorder,
    add_metrics,
    already_loaded,
    finish_event,
    table_rows_after_load,
)
from datawarp.catalog.schema_changes import IncomingColumn
from datawarp.catalog.staging import (
    LoadTarget,
    Provenance,
    copy_rows,
    create_indexes,
    delete_for_replace,
    prepare_table,
)
from datawarp.catalog.staging_arrow import copy_arrow
from datawarp.core.errors import BadInputError, DataWarpError
from datawarp.core.notifications import DBA, LogNotifier, Notification, Notifier
from datawarp.core.settings import Settings
from datawarp.pipeline.extract.engine import ExtractedTable, open_fetched
from datawarp.pipeline.fetch import FetchedFile, fetch
from datawarp.pipeline.manifest import Manifest
from datawarp.pipeline.outcome import BatchOptions, BatchReport, FileOutcome, Hooks, LoadAborted
from datawarp.pipeline.preflight import build_plan
from datawarp.pipeline.validation import (
    ValidationFailed,
    column_stats,
    context_from_stats,
    validate_in_transaction,
)

__all__ = ["BatchOptions", "BatchReport", "FileOutcome", "Hooks", "run_batch"]


def run_batch(
    database: Database,
    settings: Settings,
    manifest: Manifest,
    options: BatchOptions,
    *,
    notifier: Notifier | None = None,
    hooks: Hooks | None = None,
) -> BatchReport:
    notifier = notifier or LogNotifier()
    hooks = hooks or Hooks()
    with database.connect(autocommit=True) as recorder_conn:
        plan = build_plan(
            recorder_conn, manifest, test=options.test, only_source=options.only_source
        )
        report = BatchReport(warnings=list(plan.warnings))
        recorder = LoadRecorder(recorder_conn)
        for task in plan.tasks:
            loader = _FileLoader(database, settings, recorder, task, options, notifier, hooks)
            outcome = loader.run()
            report.outcomes.append(outcome)
            if hooks.on_file_done:
                hooks.on_file_done(outcome)
    return report


class _FileLoader:
    """Loads one file of the plan; ``run`` never raises for a failed file."""

    def __init__(self, database, settings, recorder, task, options, notifier, hooks):
        self.database, self.settings, self.recorder = database, settings, recorder
        self.task, self.options, self.notifier, self.hooks = task, options, notifier, hooks
        code = task.source.source_code
        self.target = LoadTarget("staging_test" if options.test else "staging", f"tbl_{code}")
        self.outcome = FileOutcome(code, task.location, task.entry.period, "failed")
        self.column_stats: dict | None = None
        self.created_table, self.rows_removed = False, 0
        self.outcome.target = f"{self.target.schema}.{self.target.table}"

    def run(self) -> FileOutcome:
        started = time.monotonic()
        try:
            fetched = fetch(
                self.task.location, cache_dir=self.settings.cache_dir, on_progress=self._downloaded
            )
        except DataWarpError as exc:
            self._record_failure_without_load(exc.message)
            return self._done(started)
        if self._skip_if_loaded(fetched):
            return self._done(started)
        if self.options.dry_run:
            try:
                self._dry_run(fetched)
            except DataWarpError as exc:
                self.outcome.status, self.outcome.error = "failed", exc.message
        else:
            self._load(fetched)
        return self._done(started)

    def _downloaded(self, done: int, total: int | None) -> None:
        if self.hooks.on_download:
            self.hooks.on_download(self.task, done, total)

    def _done(self, started: float) -> FileOutcome:
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    def _skip_if_loaded(self, fetched: FetchedFile) -> bool:
        if self.options.force:
            return False
        previous = already_loaded(
            self.recorder.conn,
            self.task.source.source_code,
            self.target.schema,
            self.task.entry.period,
            fetched.sha256,
        )
        if previous is None:
            return False
        self.outcome.status = "skipped"
        self.outcome.warnings.append(
            f"already loaded as load {previous} (same SHA-256 and period); use --force to reload"
        )
        return True

    def _extract(self, fetched: FetchedFile) -> ExtractedTable:
        table = open_fetched(fetched, sheet=self.task.sheet, member=self.task.member)
        if table.sheet_ambiguous and self.task.sheet is None:
            others = [s.name for s in table.sheets if s.kind == "data" and s.name != table.sheet]
            names = ", ".join(f"'{name}'" for name in [table.sheet, *others])
            raise BadInputError(
                f"{table.source.name} has several sheets holding tables ({names});"
                " name one with sheet: in the manifest"
            )
        self.outcome.sheet = table.sheet
        self.outcome.warnings += table.warnings
        return table

    def _dry_run(self, fetched: FetchedFile) -> None:
        table = self._extract(fetched)
        with self.database.connect() as conn:
            existing = schema_review.existing_columns(conn, self.target.schema, self.target.table)
        incoming = _incoming(table)
        if existing is not None:
            plan = schema_review.plan_changes(
                existing, incoming, {}, self.settings.schema_auto_add_limit
            )
            if plan.add or plan.new_request_columns:
                names = [c.name for c in plan.add + plan.new_request_columns]
                self.outcome.warnings.append(f"would add columns: {', '.join(names)}")
        self.outcome.status = "planned"
        self.outcome.rows_loaded = table.row_count

    def _load(self, fetched: FetchedFile) -> None:
        code = self.task.source.source_code
        with self.database.connect() as conn:
            try:
                with conn.transaction():
                    self._serialise(conn)
                    if self._skip_if_loaded(fetched):  # loaded while we waited for the lock
                        return
                    self.outcome.load_id = self.recorder.start(self._event(fetched))
                    self._load_in_transaction(conn, fetched)
                    finish_event(
                        conn, self.outcome.load_id, "completed",
                        rows_loaded=self.outcome.rows_loaded,
                        columns_added=self.outcome.columns_added, sheet=self.outcome.sheet,
                        column_stats=self.column_stats,
                    )  # fmt: skip
                    rows = table_rows_after_load(
                        conn, code, self.target.schema, self.target.table,
                        loaded=self.outcome.rows_loaded, removed=self.rows_removed,
                        created=self.created_table,
                    )  # fmt: skip
                    add_metrics(
                        conn, self.outcome.load_id, code, self.target.schema, self.target.table,
                        rows,
                    )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, then reported
                self._fail(exc)
                return
        self.recorder.release(code)
        self.outcome.status = "completed"

    def _serialise(self, conn: psycopg.Connection) -> None:
        """One load of a source at a time; wait up to the configured lock timeout."""
        code = self.task.source.source_code
        timeout_ms = int(self.settings.lock_timeout_seconds * 1000)
        if timeout_ms == 0:
            got = conn.execute(f"SELECT pg_try_advisory_xact_lock({SERIALISE_LOCK})", (code,))
            if not got.fetchone()[0]:
                raise LoadAborted(self._busy_message())
            return
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{timeout_ms}ms")))
        try:
            conn.execute(f"SELECT pg_advisory_xact_lock({SERIALISE_LOCK})", (code,))
        except psycopg.errors.LockNotAvailable:
            raise LoadAborted(self._busy_message()) from None
        conn.execute("SET LOCAL lock_timeout = 0")

    def _busy_message(self) -> str:
        code = self.task.source.source_code
        row = self.recorder.conn.execute(
            "SELECT load_id, started_at, loaded_by FROM datawarp.tbl_load_events"
            " WHERE source_code = %s AND load_status = 'in_progress'"
            " ORDER BY load_id DESC LIMIT 1",
            (code,),
        ).fetchone()
        held = f" (load {row[0]} by {row[2]}, started {row[1]:%Y-%m-%d %H:%M:%S %Z})" if row else ""
        return (
            f"Source {code} is being loaded by another DataWarp process{held};"
            " nothing was loaded, try again when it has finished"
        )

    def _event(self, fetched: FetchedFile | None) -> EventStart:
        return EventStart(
            source_code=self.task.source.source_code,
            target_schema=self.target.schema,
            target_table=self.target.table,
            source_file=self.task.location,
            period=self.task.entry.period,
            period_kind=self.task.entry.period_kind,
            sheet=self.task.sheet,
            load_mode=self.task.load_mode,
            file_sha256=fetched.sha256 if fetched else None,
            file_bytes=fetched.size if fetched else None,
        )

    def _load_in_transaction(self, conn: psycopg.Connection, fetched: FetchedFile) -> None:
        table = self._extract(fetched)
        incoming = _incoming(table)
        code = self.task.source.source_code
        prepared = prepare_table(
            conn, self.target, incoming, source_code=code, load_id=self.outcome.load_id,
            auto_add_limit=self.settings.schema_auto_add_limit,
        )  # fmt: skip
        self.outcome.columns_added = prepared.columns_added
        self.outcome.warnings += prepared.warnings
        self.outcome.pending_change_ids = prepared.pending_change_ids
        self.created_table = prepared.created_table
        if self.task.load_mode == "REPLACE":
            self.rows_removed = delete_for_replace(conn, self.target, self.task.entry.period)
        if self.hooks.on_file_start:
            self.hooks.on_file_start(self.task, table.row_count)
        held = {cid: [c.name for c in cols] for cid, cols in prepared.plan.held_back.items()}
        # Arrow fast path hook (load_arrow.py): typed record batches when the table has them.
        copier, batches = (
            (copy_arrow, table.iter_arrow_batches(self.options.batch_size))
            if table.supports_arrow
            else (copy_rows, table.iter_batches(self.options.batch_size))
        )
        self.outcome.rows_loaded = copier(
            conn,
            self.target,
            table.column_names,
            batches,
            Provenance(
                self.outcome.load_id, self.task.entry.period, self.task.location, table.sheet
            ),
            held_back=held,
            on_rows=self.hooks.on_rows,
        )
        if self.created_table:
            create_indexes(conn, self.target)
        if not self.options.test:
            record_column_metadata(
                conn, code, table, self.task.source.columns, self.outcome.load_id
            )
        self.column_stats = column_stats(table.columns, self.task.source.primary_key)
        self._validate(conn)
        if not self.options.test:
            self._activate(conn)
        if prepared.pending_change_ids:
            self._notify_schema_review(prepared)

    def _validate(self, conn: psycopg.Connection) -> None:
        """Gates run for sources that require validation, or for all with --validate; a
        ``fail`` rolls back only where the registry says validation is required."""
        record = self.task.registered
        required = record is not None and record.validation_required and not self.options.test
        if not (required or self.options.validate):
            return
        code = self.task.source.source_code
        ctx = context_from_stats(
            self.column_stats,
            settings=self.settings.validation.for_source(code, self.task.source.validation),
            source_code=code, schema=self.target.schema, table=self.target.table,
            load_id=self.outcome.load_id, period=self.task.entry.period,
            period_kind=self.task.entry.period_kind,
        )  # fmt: skip
        try:
            self.outcome.validation = validate_in_transaction(
                conn, self.recorder.conn, ctx, registered=record is not None,
                rollback_on_fail=required,
            )  # fmt: skip
        except ValidationFailed as exc:
            self.outcome.validation = exc.results
            raise

    def _activate(self, conn: psycopg.Connection) -> None:
        record = self.task.registered
        if record is not None and record.status == "registered":
            registry.set_status(conn, record.source_code, "active")

    def _fail(self, exc: Exception) -> None:
        message = exc.message if isinstance(exc, DataWarpError) else _one_line(exc)
        status = "rolled_back" if isinstance(exc, ValidationFailed) else "failed"
        self.outcome.status, self.outcome.error = status, message
        if self.outcome.load_id is None:
            self._record_failure_without_load(message)
            return
        self.recorder.finish(
            self.outcome.load_id, self.task.source.source_code, status, error_message=message,
            column_stats=self.column_stats,
        )  # fmt: skip
        kind = "validation_failed" if status == "rolled_back" else "load_failed"
        self._notify_owner(
            kind, f"Load of {self.task.location} {status.replace('_', ' ')}", message
        )

    def _record_failure_without_load(self, message: str) -> None:
        """A file that failed before its load began (download, lock) still leaves an event."""
        self.outcome.status, self.outcome.error = "failed", message
        self.outcome.load_id = self.recorder.start(self._event(None))
        self.recorder.finish(
            self.outcome.load_id, self.task.source.source_code, "failed", error_message=message
        )
        self._notify_owner("load_failed", f"Load of {self.task.location} failed", message)

    def _notify_owner(self, kind: str, subject: str, body: str) -> None:
        owner = self.task.registered.owner if self.task.registered else DBA
        self.notifier.send(Notification(kind, owner, self.task.source.source_code, subject, body))

    def _notify_schema_review(self, prepared) -> None:
        recipient = self.settings.dba_email or DBA
        columns = ", ".join(c.name for c in prepared.plan.new_request_columns)
        self.notifier.send(
            Notification(
                "schema_review",
                recipient,
                self.task.source.source_code,
                f"Schema change review needed for {self.target.schema}.{self.target.table}",
                f"changes {prepared.pending_change_ids} hold back new columns ({columns});"
                " run: datawarp schema-changes list",
            )
        )


def _incoming(table: ExtractedTable) -> list[IncomingColumn]:
    return [IncomingColumn(c.name, c.pg_type, c.original_header) for c in table.columns]


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
