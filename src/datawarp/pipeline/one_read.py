"""A table's first load from a plain CSV, in one read of the file.

Otherwise a load reads its file twice: pass 1 types every column from every row, pass 2
converts and COPYs. For a table this load creates, a plain CSV (``extract.one_pass``) is
instead typed from its first block, the table created that way and the COPY started at once,
pass 1 profiling each batch as it goes; the file is parsed once, and the server stores rows
while the rest is read. All of it happens in a savepoint: when pass 1, at the end of the
file, types the table otherwise than the first block did (``guess_held``), the savepoint is
rolled back (the table and its rows with it) and the load goes on as usual from pass 1's
complete findings, reading the file once more for pass 2. A table that already exists takes
the usual path: its columns are reviewed against the file's before any row moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from datawarp.catalog.introspect import table_exists
from datawarp.pipeline import steps
from datawarp.pipeline.extract.engine import ExtractedTable
from datawarp.pipeline.extract.one_pass import ProvisionalTable, guess_held, open_provisional

if TYPE_CHECKING:
    import psycopg

    from datawarp.pipeline.fetch import FetchedFile
    from datawarp.pipeline.outcome import FileOutcome
    from datawarp.pipeline.steps import FileJob, PreparedTable


@dataclass
class FirstRead:
    """The table as pass 1 over every row makes it; ``prepared`` when its rows are loaded
    (the guess held), None when they must be COPYed as usual."""

    table: ExtractedTable
    prepared: PreparedTable | None


class _GuessWrong(Exception):
    """Rolls the savepoint back: the rows went in typed otherwise than the file says."""


def load_first(
    conn: psycopg.Connection, job: FileJob, fetched: FetchedFile, outcome: FileOutcome
) -> FirstRead | None:
    """Create and fill a new table in one read of a plain CSV; None where the usual path
    must run from the start (an existing table, a file that is not a plain CSV, or one the
    fast path gives up on part way)."""
    target, task = job.target, job.task
    if job.options.dry_run or task.fill_down or task.block_title:
        return None
    if table_exists(conn, target.schema, target.table):
        return None
    provisional = open_provisional(fetched, sheet=task.sheet, member=task.member)
    if provisional is None:
        return None
    # A plain CSV: pyarrow is imported (a workbook's load never imports it).
    from datawarp.pipeline.extract.arrow_one_pass import GuessMissed
    from datawarp.pipeline.extract.arrow_stream import ArrowFallback

    steps.check_table(provisional.table, task)
    try:
        with conn.transaction():  # a savepoint: a wrong guess takes its table and rows back
            prepared, rows = _create_and_copy(conn, job, provisional, outcome.load_id)
            settled = provisional.settled()
            if not guess_held(provisional.table, settled):
                raise _GuessWrong
    except ArrowFallback:  # a blank row or a notes line late in the file: the Python path
        return None
    except (_GuessWrong, GuessMissed):  # pass 1 has read the whole file either way
        settled, prepared = provisional.settled(), None
    steps.check_table(settled, task)
    if prepared is not None:
        outcome.rows_loaded = rows
    return FirstRead(settled, prepared)


def _create_and_copy(
    conn: psycopg.Connection, job: FileJob, provisional: ProvisionalTable, load_id: int
) -> tuple[PreparedTable, int]:
    table = provisional.table
    prepared = steps.prepare_table(conn, job, steps.incoming_columns(table), load_id)
    if job.hooks.on_file_start:
        job.hooks.on_file_start(job.task, None)  # rows: known once the file is read
    rows = steps.copy_table(conn, job, table, load_id, prepared, provisional.iter_arrow_batches)
    return prepared, rows
