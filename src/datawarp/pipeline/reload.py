"""What a load removes before adding its rows, inside its transaction.

REPLACE swaps the file's period (the whole table when the file has no period, which the
manifest must have said with ``period: none``). APPEND adds, but the same file loaded again for
the same period with ``--force`` takes the place of its earlier copy, never sits beside it: the
rows of earlier completed loads of the same source and period with the same bytes or the same
path or URL are deleted first. A rolled-back load restores them with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from datawarp.catalog import loads, staging
from datawarp.catalog.introspect import loads_with_rows
from datawarp.core.vocabulary import LoadMode

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.pgtypes import IncomingColumn
    from datawarp.pipeline.fetch import FetchedFile
    from datawarp.pipeline.steps import FileJob, PreparedTable


@dataclass(frozen=True)
class Replacement:
    rows: int = 0
    note: str | None = None  # what was replaced, for the report
    warning: str | None = None


def _period_words(job: FileJob) -> str:
    return f"period {job.period}" if job.period is not None else "no period"


def _loads_words(load_ids: list[int]) -> str:
    return f"load{'s' if len(load_ids) > 1 else ''} {', '.join(map(str, load_ids))}"


def earlier_copies(conn: psycopg.Connection, job: FileJob, fetched: FetchedFile) -> list[int]:
    """Completed loads of this file (same bytes, or same path or URL) and period whose rows are
    still in the table (an earlier --force, REPLACE or retention may have taken them)."""
    earlier = loads.earlier_loads_of_file(
        conn, job.source_code, job.target.schema, job.period,
        sha256=fetched.sha256, source_file=job.task.location,
    )  # fmt: skip
    kept = loads_with_rows(conn, job.target, earlier)
    return [load_id for load_id in earlier if load_id in kept]


def prepare_and_replace(
    conn: psycopg.Connection,
    job: FileJob,
    incoming: list[IncomingColumn],
    fetched: FetchedFile,
    load_id: int,
) -> tuple[PreparedTable, Replacement]:
    """The table prepared for these columns (``steps.prepare_table``), then what this load
    replaces in it: nothing in a table it created (nor, yet, the _period to find it by)."""
    from datawarp.pipeline import steps  # steps' FileJob is this module's too

    prepared = steps.prepare_table(conn, job, incoming, load_id)
    return prepared, Replacement() if prepared.created else replace_rows(conn, job, fetched)


def replace_rows(conn: psycopg.Connection, job: FileJob, fetched: FetchedFile) -> Replacement:
    if job.task.load_mode == LoadMode.REPLACE:
        rows = staging.delete_for_replace(conn, job.target, job.period)
        what = f"of {job.period}" if job.period is not None else "(the whole table)"
        return Replacement(rows, f"replaced {rows:,} rows {what}" if rows else None)
    earlier = earlier_copies(conn, job, fetched)
    if not earlier:
        return Replacement()
    if job.options.force:
        rows = staging.delete_loads(conn, job.target, earlier, job.period)
        note = (f"replaced {rows:,} rows of {_loads_words(earlier)} (this file, "
                f"{_period_words(job)})")  # fmt: skip
        return Replacement(rows, note)
    one = len(earlier) == 1
    return Replacement(
        warning=f"{_loads_words(earlier)} of this file for {_period_words(job)}"
        f" {'is' if one else 'are'} still in the table: APPEND keeps {'its' if one else 'their'}"
        " rows beside these; use --force to replace them"
    )


def planned_replacement(conn: psycopg.Connection, job: FileJob, fetched: FetchedFile) -> str | None:
    """For a dry run: what ``replace_rows`` would delete."""
    if job.task.load_mode == LoadMode.REPLACE:
        rows = staging.count_replaced(conn, job.target, job.period, None)
        what = f"of {job.period}" if job.period is not None else "(the whole table)"
        return f"would replace {rows:,} rows {what}" if rows else None
    earlier = earlier_copies(conn, job, fetched) if job.options.force else []
    if not earlier:
        return None
    rows = staging.count_replaced(conn, job.target, job.period, earlier)
    return f"would replace {rows:,} rows of {_loads_words(earlier)} ({_period_words(job)})"
