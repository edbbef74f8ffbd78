"""Settling a file's period before it loads: the manifest's, else one the file itself names.

A file with no ``period:`` in the manifest is opened first, and its period read from its title
block (``Period: July to September 2020``), else from its name (``…-Oct-2023.csv``); see
``core.period_inference`` for the order and what counts as one period. What was found, and
where, is recorded on the load event and shown by ``--dry-run``.

A file whose period cannot be found is refused under REPLACE, where it would replace the whole
table, unless the manifest says ``period: none``; under APPEND it loads with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from datawarp.catalog import loads
from datawarp.core.errors import BadInputError
from datawarp.core.period_inference import disagreements, infer_period
from datawarp.core.periods import Period
from datawarp.core.vocabulary import LoadMode, PeriodSource
from datawarp.pipeline import steps

if TYPE_CHECKING:
    import psycopg

    from datawarp.pipeline.extract.engine import ExtractedTable
    from datawarp.pipeline.fetch import FetchedFile
    from datawarp.pipeline.steps import FileJob


@dataclass(frozen=True)
class SettledPeriod:
    job: FileJob  # with the period found in its manifest entry
    table: ExtractedTable | None  # opened to read the title block; the load reuses it
    evidence: str | None = None  # where an inferred period was read
    warnings: list[str] = field(default_factory=list)


def manifest_decides(job: FileJob) -> bool:
    entry = job.task.entry
    return entry.period is not None or entry.period_source == PeriodSource.NONE


def _with_period(job: FileJob, period: Period | None, source: str | None) -> FileJob:
    entry = job.task.entry.model_copy(
        update={
            "period": period.text if period else None,
            "period_kind": period.kind if period else None,
            "period_source": source,
        }
    )
    return replace(job, task=replace(job.task, entry=entry))


def settle_period(
    job: FileJob, fetched: FetchedFile, conn: psycopg.Connection | None = None
) -> SettledPeriod:
    """The job with its period settled; raises BadInputError for REPLACE without one.

    Without ``--force``, bytes already loaded from the same place take the period their load
    read, without opening the file again: a re-run then skips them as cheaply as a file whose
    manifest names its period.
    """
    if manifest_decides(job):
        return SettledPeriod(job, None)
    if conn is not None and not job.options.force:
        recorded = loads.inferred_period(
            conn, job.source_code, job.target.schema, fetched.sha256, job.task.location
        )
        if recorded is not None:
            load_id, text, kind, source = recorded
            evidence = f"load {load_id} of the same file"
            return SettledPeriod(_with_period(job, Period(text, kind), source), None, evidence)
    table = steps.extract_file(fetched, job.task)
    found = infer_period(table.metadata, job.task.location)
    warnings = list(found.warnings)
    if found.period is None:
        warnings.append(_without_period(job, found.tried))
    settled = _with_period(job, found.period, found.source)
    return SettledPeriod(settled, table, found.evidence, warnings)


def _without_period(job: FileJob, tried: list[str]) -> str:
    said = "; ".join(tried)
    name = job.task.location.replace("\\", "/").rsplit("/", 1)[-1]
    if job.task.load_mode == LoadMode.REPLACE:
        raise BadInputError(
            f"{name}: no period found ({said}); under REPLACE a file without a period would"
            f" replace the whole of {job.target}: write the file's period: in the manifest, or"
            " period: none if the file holds the whole table (a time series)"
        )
    return (
        f"no period found ({said}); its rows load with no period: write period: in the"
        " manifest, or period: none to say the file has none"
    )


def manifest_period_warnings(job: FileJob, table: ExtractedTable) -> list[str]:
    """Where the file names another period than the manifest gives it."""
    entry = job.task.entry
    if entry.period_source != PeriodSource.MANIFEST and entry.period_source is not None:
        return []
    if entry.period is None or entry.period_kind is None:
        return []
    period = Period(entry.period, entry.period_kind)
    return disagreements(period, table.metadata, job.task.location)


def period_note(job: FileJob, evidence: str | None) -> str | None:
    """How the period was settled, when the manifest did not give it."""
    entry = job.task.entry
    if evidence is None or entry.period is None:
        return None
    shown = f"week ending {entry.period}" if entry.period_kind == "week_ending" else entry.period
    return f"period {shown} ({entry.period_kind}) read from {evidence}"
