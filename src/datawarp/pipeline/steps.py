"""The steps of one file's load, each a function with explicit inputs and outputs.

fetch → extract → prepare the table → copy → gates → record → notify. ``pipeline.load``
composes them inside one transaction; a dry run uses the first steps only. Steps never
commit or roll back: the caller owns the transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datawarp.catalog import loads, outbox, registry, schema_changes, staging
from datawarp.catalog.column_metadata import ColumnMetadata, record_columns
from datawarp.catalog.introspect import table_columns
from datawarp.core.errors import BadInputError
from datawarp.core.naming import TableRef
from datawarp.core.notifications import DBA, Notification, log_notification
from datawarp.core.pgtypes import IncomingColumn
from datawarp.core.settings import Settings
from datawarp.core.vocabulary import (
    LoadMode,
    LoadStatus,
    SchemaChangeKind,
    SchemaChangeStatus,
    SourceStatus,
)
from datawarp.pipeline.extract.engine import ExtractedTable, open_fetched
from datawarp.pipeline.fetch import FetchedFile, fetch
from datawarp.pipeline.fetch_pace import Pace
from datawarp.pipeline.gates import missing_key_columns
from datawarp.pipeline.outcome import BatchOptions, Hooks
from datawarp.pipeline.preflight import FileTask
from datawarp.pipeline.schema_policy import SchemaPlan, plan_changes, retypable
from datawarp.pipeline.validation import (
    ValidationFailed,
    column_stats,
    context_from_stats,
    validate_in_transaction,
)

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.checks import CheckResult


@dataclass(frozen=True)
class FileJob:
    """What every step of one file's load knows: the file, where it goes, how to load it."""

    task: FileTask
    target: TableRef
    settings: Settings
    options: BatchOptions
    hooks: Hooks

    @property
    def source_code(self) -> str:
        return self.task.source.source_code

    @property
    def period(self) -> str | None:
        return self.task.entry.period


# --- fetch and extract --------------------------------------------------------------------


def fetch_file(job: FileJob) -> FetchedFile:
    on_download = job.hooks.on_download

    def progress(done: int, total: int | None) -> None:
        if on_download:
            on_download(job.task, done, total)

    limits = job.settings.fetch
    pace = Pace(limits.deadline_seconds, limits.min_bytes_per_second)
    return fetch(job.task.location, cache_dir=job.settings.cache_dir, on_progress=progress,
                 timeout=limits.read_timeout_seconds, pace=pace)  # fmt: skip


def previous_load(conn: psycopg.Connection, job: FileJob, fetched: FetchedFile) -> int | None:
    """The completed load of these very bytes for this source and period, if any."""
    return loads.already_loaded(
        conn, job.source_code, job.target.schema, job.period, fetched.sha256
    )


def repeated_load(conn: psycopg.Connection, job: FileJob, fetched: FetchedFile) -> int | None:
    """The earlier completed load of these bytes and period that this one loads again (a forced
    reload, which replaced its rows); None under REPLACE, which removes the period's rows."""
    if job.task.load_mode == LoadMode.REPLACE:
        return None
    return previous_load(conn, job, fetched)


MAX_TABLE_COLUMNS = 1600  # PostgreSQL's limit for one table


def check_column_room(display_name: str, data_columns: int) -> None:
    """A table holds at most 1,600 columns, and DataWarp adds its provenance columns."""
    room = MAX_TABLE_COLUMNS - len(staging.PROVENANCE_COLUMNS)
    if data_columns > room:
        raise BadInputError(
            f"{display_name} would need {data_columns:,} columns; a PostgreSQL table holds at"
            f" most {room:,} besides DataWarp's {len(staging.PROVENANCE_COLUMNS)} provenance"
            " columns: load a sheet or extract with fewer columns"
        )


def extract_file(fetched: FetchedFile, task: FileTask) -> ExtractedTable:
    """The file's table; a workbook with several data sheets needs ``sheet:`` in the manifest
    (the refusal lists them as ``datawarp inspect`` does)."""
    table = open_fetched(fetched, sheet=task.sheet, member=task.member,
                         refuse_several_sheets=True, fill_down=task.fill_down,
                         block_title=task.block_title)  # fmt: skip
    check_table(table, task)
    return table


def check_table(table: ExtractedTable, task: FileTask) -> None:
    """Room in a table for its columns, and the primary key's columns among them."""
    check_column_room(table.source.name, len(table.columns))
    missing = missing_key_columns(task.source.primary_key, table.column_names)
    if missing:
        raise BadInputError(
            f"primary_key names {', '.join(missing)}, which {table.source.name} does not have"
            f" (its columns: {', '.join(table.column_names[:12])}"
            f"{', ...' if len(table.column_names) > 12 else ''}); fix primary_key in the manifest"
        )


def incoming_columns(table: ExtractedTable) -> list[IncomingColumn]:
    return [IncomingColumn(c.name, c.pg_type, c.original_header) for c in table.columns]


# --- prepare the table --------------------------------------------------------------------


@dataclass
class PreparedTable:
    """What preparing the table did: created it, or applied this file's schema plan to it."""

    created: bool = False
    columns_added: int = 0
    plan: SchemaPlan = field(default_factory=SchemaPlan)
    pending_change_ids: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def held_back(self) -> dict[int, list[str]]:
        """Columns COPY leaves out (their values go to quarantine), by change request."""
        return {cid: [c.name for c in cols] for cid, cols in self.plan.held_back.items()}


def columns_to_add(conn: psycopg.Connection, job: FileJob, incoming: list[IncomingColumn]):
    """For a dry run: the columns this file would add to an existing table (none if new)."""
    existing = table_columns(conn, job.target.schema, job.target.table)
    if existing is None:
        return []
    plan = plan_changes(existing, incoming, {}, job.settings.schema_auto_add_limit)
    return [c.name for c in plan.add + plan.new_request_columns]


def schema_plan(
    conn: psycopg.Connection, job: FileJob, existing: dict[str, str], incoming: list
) -> SchemaPlan:
    """The schema policy's plan, told which requests are pending and which columns are empty."""
    target = job.target
    pending = schema_changes.pending_requests(conn, target.schema, target.table)
    empty = schema_changes.empty_columns(
        conn, target.schema, target.table, retypable(existing, incoming)
    )
    return plan_changes(existing, incoming, pending, job.settings.schema_auto_add_limit, empty)


def prepare_table(
    conn: psycopg.Connection, job: FileJob, incoming: list[IncomingColumn], load_id: int
) -> PreparedTable:
    """Create the table, or review this file's columns against it and apply the plan."""
    target, result = job.target, PreparedTable()
    record = dict(source_code=job.source_code, schema=target.schema, table=target.table,
                  load_id=load_id)  # fmt: skip
    existing = table_columns(conn, target.schema, target.table)
    if existing is None:
        staging.create_table(conn, target, incoming, first_load=True)
        schema_changes.record_change(conn, **record, kind=SchemaChangeKind.CREATE,
                                     status=SchemaChangeStatus.AUTO, columns=incoming)  # fmt: skip
        result.created, result.columns_added = True, len(incoming)
        return result
    staging.add_missing_provenance(conn, target)  # _level, for a table made before it
    plan = result.plan = schema_plan(conn, job, existing, incoming)
    if plan.add:
        check_column_room(f"{target} with this file's new columns", len(existing) + len(plan.add))
        schema_changes.add_columns(conn, target.schema, target.table, plan.add)
        schema_changes.record_change(
            conn,
            **record,
            kind=SchemaChangeKind.ADD,
            status=SchemaChangeStatus.AUTO,
            columns=plan.add,
        )
        result.columns_added = len(plan.add)
    if plan.widen:
        schema_changes.widen_columns(conn, target.schema, target.table, plan.widen)
        schema_changes.record_change(conn, **record, kind=SchemaChangeKind.WIDEN,
                                     status=SchemaChangeStatus.AUTO, widened=plan.widen)  # fmt: skip
    if plan.new_request_columns:
        change_id = schema_changes.record_change(
            conn, **record, kind=SchemaChangeKind.ADD, status=SchemaChangeStatus.PENDING,
            columns=plan.new_request_columns,
        )  # fmt: skip
        result.pending_change_ids.append(change_id)
        plan.held_back[change_id] = plan.new_request_columns
    result.pending_change_ids += [
        cid for cid in plan.held_back if cid not in result.pending_change_ids
    ]
    if plan.missing:
        result.warnings.append(
            f"{len(plan.missing)} column(s) of the table are not in this file and stay NULL: "
            + ", ".join(plan.missing[:10])
        )
    return result


# --- copy ---------------------------------------------------------------------------------


def copy_table(
    conn: psycopg.Connection,
    job: FileJob,
    table: ExtractedTable,
    load_id: int,
    prepared: PreparedTable,
    arrow_batches: Callable[[int], Iterable] | None = None,
) -> int:
    """COPY every row with its provenance; the Arrow path when the table offers typed batches
    (or ``arrow_batches`` gives them). A table created by this load gets its indexes after the
    COPY: building an index once is cheaper than maintaining it row by row."""
    provenance = staging.Provenance(load_id, job.period, job.task.location, table.sheet)
    uniform = [name for name, every_row_default in (("_is_total", not table.total_rows),
                                                    ("_level", not table.row_levels))
               if every_row_default]  # fmt: skip
    defaulted = staging.defaulted_columns(conn, job.target, uniform, new_table=prepared.created)
    size = job.options.batch_size
    copier: Callable[..., int]
    if arrow_batches is not None or table.supports_arrow:
        from datawarp.catalog.staging_arrow import WHOLE_BATCHES, copy_arrow  # pyarrow: if used

        # A CSV's record batches come whole, as parsed (tens of thousands of rows): the COPY
        # shapes each at once, then sends it ``size`` rows at a time.
        whole = arrow_batches is not None or table.format == "csv"
        batches = (arrow_batches or table.iter_arrow_batches)(WHOLE_BATCHES if whole else size)
        copier = functools.partial(copy_arrow, send_rows=size)
    else:
        copier, batches = staging.copy_rows, table.iter_batches(size)
    rows = copier(conn, job.target, table.column_names, batches, provenance,
                  held_back=prepared.held_back, on_rows=job.hooks.on_rows,
                  new_table=prepared.created, defaulted=defaulted)  # fmt: skip
    if prepared.created:
        staging.create_indexes(conn, job.target)
    return rows


def record_column_metadata(
    conn: psycopg.Connection, job: FileJob, table: ExtractedTable, load_id: int
) -> None:
    """Each loaded column's header and type, with the manifest's descriptions if it has them."""
    described = job.task.source.columns
    record_columns(
        conn,
        job.source_code,
        job.target,
        [
            ColumnMetadata(
                c.name,
                described[c.name].description if c.name in described else None,
                tuple(described[c.name].search_terms) if c.name in described else (),
                c.original_header,
                c.pg_type,
                load_id,
                unit=c.unit,
                originals_of=c.originals_of,
            )
            for c in table.columns
        ],
    )


# --- gates and record ---------------------------------------------------------------------


def validation_required(job: FileJob) -> bool:
    """A ``fail`` rolls back only where the registry requires validation (never test loads)."""
    record = job.task.registered
    return record is not None and record.validation_required and not job.options.test


def run_gates(
    conn: psycopg.Connection,
    recorder_conn: psycopg.Connection,
    job: FileJob,
    stats: dict[str, Any],
    load_id: int,
) -> list[CheckResult]:
    """Gates for sources that require validation, or for all with ``--validate``.

    Raises ``ValidationFailed`` (results recorded first) when a ``fail`` must roll back.
    """
    required = validation_required(job)
    if not (required or job.options.validate):
        return []
    settings = job.settings.validation.for_source(job.source_code, job.task.source.validation)
    ctx = context_from_stats(
        stats, settings=settings, source_code=job.source_code, schema=job.target.schema,
        table=job.target.table, load_id=load_id, period=job.period,
        period_kind=job.task.entry.period_kind,
    )  # fmt: skip
    return validate_in_transaction(
        conn, recorder_conn, ctx, registered=job.task.registered is not None,
        rollback_on_fail=required,
    )  # fmt: skip


def gate_stats(job: FileJob, table: ExtractedTable) -> dict[str, Any]:
    source = job.task.source
    return column_stats(table.columns, source.primary_key, cumulative=source.cumulative)


def activate_source(conn: psycopg.Connection, job: FileJob) -> None:
    """A registered source becomes active with its first completed (non-test) load."""
    record = job.task.registered
    if not job.options.test and record is not None and record.status == SourceStatus.REGISTERED:
        registry.set_status(conn, record.source_code, SourceStatus.ACTIVE)


@dataclass(frozen=True)
class Completion:
    load_id: int
    rows_loaded: int
    rows_removed: int
    columns_added: int
    created_table: bool
    sheet: str | None
    stats: dict[str, Any]
    validated: bool
    repeat_of: int | None


def record_completion(conn: psycopg.Connection, job: FileJob, done: Completion) -> None:
    """Finish the event and add the metrics row inside the data transaction: rows and record
    commit together, so neither exists without the other."""
    loads.finish_event(
        conn, done.load_id, LoadStatus.COMPLETED, rows_loaded=done.rows_loaded,
        columns_added=done.columns_added, sheet=done.sheet, column_stats=done.stats,
        validated=done.validated, repeat_of=done.repeat_of, rows_replaced=done.rows_removed,
    )  # fmt: skip
    rows = loads.table_rows_after_load(
        conn, job.source_code, job.target.schema, job.target.table, loaded=done.rows_loaded,
        removed=done.rows_removed, created=done.created_table,
    )  # fmt: skip
    loads.add_metrics(conn, done.load_id, job.source_code, job.target.schema, job.target.table,
                      rows)  # fmt: skip


# --- notify -------------------------------------------------------------------------------


def failure_notice(job: FileJob, status: str, message: str) -> Notification:
    """To the source's owner (the DBA for an unregistered test load)."""
    owner = job.task.registered.owner if job.task.registered else DBA
    kind = "validation_failed" if status == LoadStatus.ROLLED_BACK else "load_failed"
    subject = f"Load of {job.task.location} {status.replace('_', ' ')}"
    return Notification(kind, owner, job.source_code, subject, message)


def schema_review_notice(job: FileJob, prepared: PreparedTable) -> Notification:
    columns = ", ".join(c.name for c in prepared.plan.new_request_columns)
    return Notification(
        "schema_review",
        DBA,
        job.source_code,
        f"Schema change review needed for {job.target}",
        f"changes {prepared.pending_change_ids} hold back new columns ({columns});"
        " run: datawarp schema-changes list",
    )


def notify(conn: psycopg.Connection, notification: Notification, load_id: int | None) -> None:
    """Into the outbox, in the caller's transaction: it is sent only if that commits."""
    outbox.enqueue(conn, notification, load_id=load_id)
    log_notification(notification)


def failure_status(exc: Exception) -> str:
    return LoadStatus.ROLLED_BACK if isinstance(exc, ValidationFailed) else LoadStatus.FAILED
