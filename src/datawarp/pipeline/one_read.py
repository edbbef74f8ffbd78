"""A load from a plain CSV in one read of the file.

Otherwise a load reads its file twice: pass 1 types every column from every row, pass 2
converts and COPYs. A plain CSV (``extract.one_pass``) is instead typed from its first
block and the COPY started at once, pass 1 profiling each batch as it goes: the file is
parsed once, and the server stores rows while the rest is read. For a table this load
creates, the table is created with those types; an existing table takes the file this way
only when the first block's columns fit it as they are (nothing to add, widen or hold back
for review), REPLACE's deletions then made as usual. All of it happens in a savepoint: when
pass 1, at the end of the file, types it otherwise than the first block did
(``guess_held``), the savepoint is rolled back (a new table, the rows, the deletions) and the
load goes on as usual from pass 1's complete findings, reading the file once more for pass 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from datawarp.catalog.introspect import table_columns
from datawarp.pipeline import reload, steps
from datawarp.pipeline.extract.engine import ExtractedTable
from datawarp.pipeline.extract.one_pass import (
    ProvisionalTable,
    guess_held,
    open_provisional,
    take_provisional,
)

if TYPE_CHECKING:
    import psycopg

    from datawarp.pipeline.fetch import FetchedFile
    from datawarp.pipeline.outcome import FileOutcome
    from datawarp.pipeline.reload import Replacement
    from datawarp.pipeline.steps import FileJob, PreparedTable


@dataclass
class OneRead:
    """The table as pass 1 over every row makes it; ``copied`` (what preparing the table did
    and what was replaced) when its rows are loaded, None when they must be COPYed as usual."""

    table: ExtractedTable
    copied: tuple[PreparedTable, Replacement] | None


class _GuessWrong(Exception):
    """Rolls the savepoint back: the rows went in typed otherwise than the file says."""


def load_in_one_read(
    conn: psycopg.Connection, job: FileJob, fetched: FetchedFile, outcome: FileOutcome
) -> OneRead | None:
    """Prepare the table and fill it in one read of a plain CSV; None where the usual path
    must run from the start (a file that is not a plain CSV, one the fast path gives up on
    part way, or an existing table the file's columns do not fit as they are)."""
    target, task = job.target, job.task
    if job.options.dry_run or task.fill_down or task.block_title:
        return None
    existing = table_columns(conn, target.schema, target.table)
    ahead = take_provisional(fetched, sheet=task.sheet, member=task.member)
    if ahead is not None:
        provisional = ahead.table
    else:
        provisional = open_provisional(fetched, sheet=task.sheet, member=task.member)
    if provisional is None:
        return None
    incoming = steps.incoming_columns(provisional.table)
    if existing is not None and not _fits_as_is(conn, job, existing, incoming):
        return _usual_path(provisional)
    # A plain CSV: pyarrow is imported (a workbook's load never imports it).
    from datawarp.pipeline.extract.arrow_one_pass import GuessMissed
    from datawarp.pipeline.extract.arrow_stream import ArrowFallback

    steps.check_table(provisional.table, task)
    try:
        with conn.transaction():  # a savepoint: a wrong guess takes the table's changes back
            copied, rows = _prepare_and_copy(conn, job, provisional, fetched, outcome.load_id)
            settled = provisional.settled()
            if not guess_held(provisional, settled):
                raise _GuessWrong
    except ArrowFallback:  # a blank row or a notes line late in the file: the Python path
        return _usual_path(provisional)
    except (_GuessWrong, GuessMissed):  # pass 1 has read the whole file either way
        settled, copied = provisional.settled(), None
    steps.check_table(settled, task)
    if copied is not None:
        outcome.rows_loaded = rows
    return OneRead(settled, copied)


def _usual_path(provisional: ProvisionalTable) -> None:
    """None, the file's encoding kept for the usual path, which opens the file again."""
    provisional.hand_back_encoding()


def _fits_as_is(conn: psycopg.Connection, job: FileJob, existing: dict, incoming: list) -> bool:
    """Whether the schema review leaves an existing table as it is for these columns."""
    plan = steps.schema_plan(conn, job, existing, incoming)
    return not (plan.add or plan.widen or plan.held_back or plan.new_request_columns)


def _prepare_and_copy(
    conn: psycopg.Connection,
    job: FileJob,
    provisional: ProvisionalTable,
    fetched: FetchedFile,
    load_id: int,
) -> tuple[tuple[PreparedTable, Replacement], int]:
    table = provisional.table
    incoming = steps.incoming_columns(table)
    prepared, replaced = reload.prepare_and_replace(conn, job, incoming, fetched, load_id)
    if job.hooks.on_file_start:
        job.hooks.on_file_start(job.task, None)  # rows: known once the file is read
    rows = steps.copy_table(conn, job, table, load_id, prepared, provisional.iter_arrow_batches)
    return (prepared, replaced), rows
