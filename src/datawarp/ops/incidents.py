"""Incident response and hygiene: failed loads, retries, duplicate rows, growth, test tables.

Every function takes a connection and returns plain data for the CLI, ``--json`` and the
weekly maintenance. Reloading a file belongs to ``pipeline``, which ``ops`` never imports: so
``retry_plan`` only checks a load may be retried and hands back its recorded manifest entry,
and the command composes the reload; reachability is a callable for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from datawarp.catalog import incidents as queries
from datawarp.catalog import loads, outbox, registry
from datawarp.catalog.introspect import table_columns
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.errors import BadInputError, ConflictError, DataWarpError, NotFoundError
from datawarp.core.naming import TEST_SCHEMA, TableRef
from datawarp.core.notifications import DBA, Notification
from datawarp.core.vocabulary import LoadMode, LoadStatus

if TYPE_CHECKING:
    import psycopg

CheckReachable = Callable[[str], None]  # raises a DataWarpError when the location is not there
DUPLICATE_EXAMPLES = 5
GROWTH_LIMIT_PERCENT = 20.0  # a week
_AGE = re.compile(r"(\d+)([hdw])")
_AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


class SourceBusy(DataWarpError):
    """A load of the source holds its lock; nothing was changed."""

    exit_code = 1


# --- failed loads and retries -------------------------------------------------------------


@dataclass
class FailedLoad:
    load_id: int
    source_code: str
    status: str
    started_at: datetime
    period: str | None
    location: str | None
    error: str | None
    interrupted: bool
    manifest_path: str | None
    retryable: bool  # its manifest entry was recorded, and no later load of the file completed
    reloaded_as: int | None
    reachable: bool | None = None  # None: not checked
    reachability: str | None = None  # why it is not reachable
    error_detail: str | None = None  # the failure's traceback (shown under --verbose)


def failed_loads(
    conn: psycopg.Connection,
    *,
    days: int = 7,
    source_code: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    check: CheckReachable | None = None,
) -> list[FailedLoad]:
    """Failed and rolled-back loads of the last ``days``, newest first; with ``check``, whether
    each file's URL or path answers now (each location asked once)."""
    _positive_days(days)
    if source_code is not None and not queries.source_known(conn, source_code):
        raise NotFoundError(f"Source {source_code!r} is not registered and has no loads")
    now = clock.now()
    events = queries.failed_loads(conn, now - timedelta(days=days), now, source_code)
    answers: dict[str, str | None] = {}
    result = []
    for event in events:
        item = FailedLoad(
            event.load_id, event.source_code, event.load_status, event.started_at, event.period,
            event.source_file, event.error_message, event.interrupted, event.manifest_path,
            event.manifest_entry is not None and event.reloaded_as is None, event.reloaded_as,
            error_detail=event.error_detail,
        )  # fmt: skip
        if check is not None and item.location:
            if item.location not in answers:
                answers[item.location] = _problem(check, item.location)
            item.reachability = answers[item.location]
            item.reachable = item.reachability is None
        result.append(item)
    return result


def _problem(check: CheckReachable, location: str) -> str | None:
    try:
        check(location)
    except DataWarpError as exc:
        return exc.message
    return None


@dataclass(frozen=True)
class RetryPlan:
    """What a retry loads: the failed load's manifest entry for its one file, as recorded."""

    load_id: int
    source_code: str
    test: bool
    manifest_path: str | None
    manifest_entry: dict[str, Any]


def retry_plan(conn: psycopg.Connection, load_id: int, *, test: bool = False) -> RetryPlan:
    """Check that a load may be retried; one line naming the reason when it may not."""
    event = queries.load_event(conn, load_id)
    if event is None:
        raise NotFoundError(f"Load {load_id} not found")
    if event.load_status == LoadStatus.COMPLETED:
        raise ConflictError(
            f"Load {load_id} completed; only failed or rolled-back loads are retried"
        )
    if event.load_status == LoadStatus.IN_PROGRESS:
        raise ConflictError(f"Load {load_id} is still running")
    was_test = event.target_schema == TEST_SCHEMA
    if was_test and not test:
        raise ConflictError(
            f"Load {load_id} was a test load into {TEST_SCHEMA}; retry it with --test"
        )
    if test and not was_test:
        raise BadInputError(f"Load {load_id} loaded into staging, not a test load; drop --test")
    if event.reloaded_as is not None:
        raise ConflictError(
            f"Load {load_id}'s file was loaded again for the same period as load"
            f" {event.reloaded_as}, which completed; nothing to retry"
        )
    if event.manifest_entry is None:
        raise BadInputError(
            f"Load {load_id} has no recorded manifest entry (an older load); load its manifest"
            " again with: datawarp load-batch MANIFEST --force"
        )
    return RetryPlan(
        load_id, event.source_code, was_test, event.manifest_path, event.manifest_entry
    )


# --- duplicate rows -----------------------------------------------------------------------


@dataclass
class DuplicateReport:
    source_code: str
    table: str
    load_mode: str
    total_rows: int
    groups: int  # distinct rows found in more than one load
    later_copies: list[dict[str, Any]]  # per load and period: rows a fix removes
    examples: list[dict[str, Any]]  # up to 5 groups: copies, and rows (load_id, period, row)
    suggestion: str | None = None
    removed: list[dict[str, Any]] | None = None  # after a fix: rows deleted per load and period
    notification_id: int | None = None

    @property
    def removable_rows(self) -> int:
        return sum(item["rows"] for item in self.later_copies)

    @property
    def other_period_rows(self) -> int:
        """Later copies of a row kept under another period: identical values in two periods
        can be real data when the period lives only in ``_period``, so the report says so."""
        return sum(item["of_other_periods"] for item in self.later_copies)

    @property
    def removed_rows(self) -> int:
        return sum(item["rows"] for item in self.removed or [])


def find_duplicates(conn: psycopg.Connection, source_code: str) -> DuplicateReport:
    """Identical data rows across loads of a source; reads only."""
    return _duplicates(conn, *_duplicate_target(conn, source_code))


def _duplicates(conn, record, target: TableRef, columns: list[str]) -> DuplicateReport:
    source_code = record.source_code
    found = queries.duplicate_summary(conn, target, columns, DUPLICATE_EXAMPLES)
    report = DuplicateReport(
        source_code, str(target), record.load_mode, found["total_rows"], found["groups"],
        found["later_copies"], found["examples"],
    )  # fmt: skip
    if report.groups and record.load_mode == LoadMode.APPEND:
        report.suggestion = (
            f"{source_code} loads in APPEND mode, which adds a file's rows again when it is"
            " loaded again; if each file restates whole periods, REPLACE swaps the period"
            f" instead: datawarp update {source_code} --load-mode REPLACE"
        )
    return report


def remove_duplicates(
    conn: psycopg.Connection, source_code: str, *, lock_timeout: float = 30.0
) -> DuplicateReport:
    """Delete the later copies of identical rows, keeping each row of its earliest load.

    One transaction under the source's load lock, so no load interleaves with it. The audit
    log is written by triggers on catalog tables only, and the data tables carry none: the fix
    is recorded instead as a note to the DBAs in the notification outbox, written in the same
    transaction (it exists exactly when the rows were deleted) and delivered like every other
    notification, with a metrics row so the next load counts the table right.
    """
    with conn.transaction():
        if not loads.lock_source_for_load(conn, source_code, lock_timeout):
            raise SourceBusy(
                f"Source {source_code} is being loaded; try again when it has finished"
            )
        record, target, columns = _duplicate_target(conn, source_code)
        report = _duplicates(conn, record, target, columns)
        report.removed = queries.delete_later_copies(conn, target, columns)
        if report.removed_rows:
            queries.record_rows_removed(conn, source_code, target, report.removed_rows)
            report.notification_id = outbox.enqueue(conn, _fix_note(report))
    return report


def _duplicate_target(conn, source_code: str):
    record = registry.get_source(conn, source_code)
    target = TableRef.for_source(source_code)
    columns = table_columns(conn, target.schema, target.table)
    if not columns:
        raise NotFoundError(f"Source {source_code} has no loaded rows ({target} does not exist)")
    return record, target, list(columns)


def _fix_note(report: DuplicateReport) -> Notification:
    loads_text = ", ".join(
        f"load {item['load_id']} ({item['period'] or 'no period'}): {item['rows']}"
        for item in report.removed or []
    )
    return Notification(
        "duplicates_removed", DBA, report.source_code,
        f"{report.removed_rows:,} duplicate rows removed from {report.table}",
        f"later copies of rows already loaded were deleted, keeping each row of its earliest"
        f" load; rows deleted by load: {loads_text}",
    )  # fmt: skip


# --- growth -------------------------------------------------------------------------------


@dataclass
class Growth:
    source_code: str
    rows_before: int | None
    rows_now: int
    growth_percent: float
    weekly_growth_percent: float
    total_bytes: int | None
    load_mode: str
    retention_days: int
    oldest_load_at: datetime | None
    holds_data_past_retention: bool | None  # None: the table holds no rows


def storage_growth(
    conn: psycopg.Connection,
    *,
    days: int = 7,
    clock: Clock = SYSTEM_CLOCK,
    limit_percent: float = GROWTH_LIMIT_PERCENT,
) -> list[Growth]:
    """Sources whose rows grew more than ``limit_percent`` a week over the last ``days``, and
    whether their table holds rows loaded longer ago than their retention."""
    _positive_days(days)
    now = clock.now()
    result = []
    for row in queries.growing_sources(conn, now, days, limit_percent):
        oldest = queries.oldest_load_started(conn, TableRef.for_source(row["source_code"]))
        expired = None if oldest is None else oldest < now - timedelta(days=row["retention_days"])
        result.append(
            Growth(
                row["source_code"],
                row["rows_before"],
                row["rows_now"],
                float(row["growth_percent"]),
                float(row["weekly_growth_percent"]),
                row["total_bytes"],
                row["load_mode"],
                row["retention_days"],
                oldest,
                expired,
            )  # fmt: skip
        )
    return result


# --- test loads ---------------------------------------------------------------------------


@dataclass
class PurgedTable:
    table: str  # staging_test.<name>
    created_at: datetime | None  # None: nothing dates it, so it is kept
    dated_by: str | None  # "DDL log", "loaded rows" or "load event"
    age_days: float | None
    total_bytes: int
    dropped: bool = False
    kept_because: str | None = None  # a dry run, the table in use, objects depending on it


def purge_test_loads(
    conn: psycopg.Connection,
    older_than: timedelta,
    *,
    dry_run: bool,
    clock: Clock = SYSTEM_CLOCK,
    lock_timeout_seconds: float = 5.0,
) -> list[PurgedTable]:
    """Drop the ``staging_test`` tables older than ``older_than``; never anything in ``staging``.

    A table's age comes from its CREATE in the DDL log when there is one, else from its newest
    ``_loaded_at``, else from the newest load event targeting it. Returns the tables over the
    limit (``dropped`` says which went; ``total_bytes`` is what each freed) and any table
    nothing dates, which is kept: an unknown age is never taken for an old one. Each drop is
    a transaction of its own on an autocommit connection, a savepoint inside a caller's.
    """
    if older_than <= timedelta(0):
        raise BadInputError("The age limit must be positive")
    now = clock.now()
    result = []
    for table in queries.staging_test_tables(conn):
        created_at, dated_by = _table_time(conn, table)
        name = f"{TEST_SCHEMA}.{table.table}"
        if created_at is None:
            result.append(PurgedTable(name, None, None, None, table.total_bytes,
                                      kept_because="nothing records when it was made"))  # fmt: skip
            continue
        age = now - created_at
        if age <= older_than:
            continue
        item = PurgedTable(name, created_at, dated_by, round(age / timedelta(days=1), 1),
                           table.total_bytes)  # fmt: skip
        if dry_run:
            item.kept_because = "dry run"
        else:
            item.kept_because = queries.drop_test_table(conn, table.table, lock_timeout_seconds)
            item.dropped = item.kept_because is None
        result.append(item)
    return result


def _table_time(conn, table: queries.StagingTestTable) -> tuple[datetime | None, str | None]:
    if table.created_at is not None:
        return table.created_at, "DDL log"
    columns = table_columns(conn, TEST_SCHEMA, table.table, include_provenance=True) or {}
    loaded_at = queries.newest_loaded_at(conn, table.table) if "_loaded_at" in columns else None
    if loaded_at is not None:
        return loaded_at, "loaded rows"
    if table.last_load_at is not None:
        return table.last_load_at, "load event"
    return None, None


def parse_age(text: str) -> timedelta:
    """``48h``, ``7d``, ``2w`` as a timedelta; anything else refused in one line."""
    found = _AGE.fullmatch(text.strip().lower())
    if found is None or int(found[1]) == 0:
        raise BadInputError(
            f"Invalid age {text!r}: give a whole number of hours, days or weeks, e.g. 48h, 7d, 2w"
        )
    return timedelta(**{_AGE_UNITS[found[2]]: int(found[1])})


def _positive_days(days: int) -> None:
    if days < 1:
        raise BadInputError(f"Invalid --days {days}: give 1 or more")
