"""DataWarp's success criteria, measured from the catalog: ``datawarp scorecard``.

Every criterion is judged at one moment ("now", from the injectable clock). Windowed ones look
at loads *started* in the last 30 days (``WINDOW_DAYS``), the dashboards' convention, and only
at loads into ``staging``: test loads are experiments. A "live registered source" is a row of
``tbl_data_sources`` that is not archived (an archived source's rows moved to ``archive``).

- **Load success rate ≥ 95 %**: completed loads / finished loads (completed, failed, rolled
  back) in the window.
- **Orphaned tables < 5 %**: tables of ``staging`` whose name is no live registered source's
  ``tbl_<code>``, as a share of all ``staging`` tables.
- **Undocumented sources = 0**: registered sources (any status) whose owner or purpose is
  blank. The registry's CHECK constraints forbid it, but a superuser in psql can drop or
  bypass them, so the scorecard measures instead of trusting.
- **Loads validated = 100 %**: of the window's completed loads of sources that require
  validation, the share with at least one validation result (a later ``datawarp validate``
  counts).
- **Failures resolved within 24 h**: for each failed or rolled-back load of the window, the
  time from its end to the end of its source's next completed load. A failure not yet followed
  by one counts the time so far, so it fails once 24 h have passed without a success. Value: the
  worst time; passes when every failure was resolved in time, or there was none.
- **Metadata coverage ≥ 90 %**: data (non-provenance) columns of live registered sources'
  ``staging`` tables that have a non-blank description in ``tbl_column_metadata``. The columns
  are PostgreSQL's own list, so a column added by hand counts as undescribed.
- **Duplicate data = 0**: completed loads of the window repeating an earlier completed load of
  the same source, period and file SHA-256 while both still have rows in the table: the same
  file loaded twice without replacement (REPLACE deletes the earlier rows, so it is no
  duplicate). Value: the number of repeating loads.
- **Tables with an owner = 100 %**: ``staging`` tables that belong to a live registered source
  whose owner is not blank.
- **Stale sources < 5 %**: active sources the freshness dashboard calls stale (no completed load
  within the source's ``stale_after_days``, else the monitoring setting), as a share of active
  sources.

A criterion with nothing to measure (no loads, no tables, no active source) passes with no
value. Shares are compared unrounded and shown to one decimal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from datawarp.catalog import scorecard_queries
from datawarp.catalog.introspect import loads_with_rows
from datawarp.catalog.scorecard_queries import (
    ColumnCoverage,
    LoadCounts,
    Recovery,
    RepeatedFile,
    StagingTable,
    ValidationCounts,
)
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.naming import STAGING_SCHEMA, TableRef

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.monitoring_settings import MonitoringSettings

WINDOW_DAYS = 30
RECOVERY_HOURS = 24.0
SAMPLE = 5  # names quoted in a detail line; the counts tell the rest


@dataclass(frozen=True)
class Criterion:
    """One success criterion: ``value`` in ``unit`` (None: nothing to measure) against ``target``."""

    key: str
    name: str
    value: float | int | None
    target: str
    passed: bool
    unit: str
    detail: str


@dataclass
class Scorecard:
    as_of: datetime
    days: int
    criteria: list[Criterion]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "days": self.days, "passed": self.passed,
                "criteria": [asdict(c) for c in self.criteria]}  # fmt: skip


@dataclass(frozen=True)
class Facts:
    """What the catalog says at one moment: everything the policy below judges."""

    as_of: datetime
    loads: LoadCounts
    tables: list[StagingTable]
    undocumented: list[str]
    validation: ValidationCounts
    recoveries: list[Recovery]
    columns: ColumnCoverage
    duplicates: list[RepeatedFile]
    active_sources: int
    stale_sources: list[str]


# --- policy: pure, from facts to criteria ---------------------------------------------------


def _listed(prefix: str, names: list[str]) -> str:
    if not names:
        return ""
    more = f" and {len(names) - SAMPLE} more" if len(names) > SAMPLE else ""
    return f"{prefix}{', '.join(map(str, names[:SAMPLE]))}{more}"


def _share(
    key: str,
    name: str,
    part: int,
    whole: int,
    target: str,
    ok: Callable[[float], bool],
    detail: str,
) -> Criterion:
    """A percentage criterion; with nothing to measure it passes without a value."""
    if whole == 0:
        return Criterion(key, name, None, target, True, "%", detail)
    percent = 100 * part / whole
    return Criterion(key, name, round(percent, 1), target, ok(percent), "%", detail)  # fmt: skip


def load_success(f: Facts) -> Criterion:
    done, finished = f.loads.completed, f.loads.finished
    detail = f"{done} of {finished} finished loads completed" if finished else "no finished loads"
    return _share("load_success_rate", "Load success rate", done, finished, "≥ 95",
                  lambda p: p >= 95, detail)  # fmt: skip


def orphaned_tables(f: Facts) -> Criterion:
    orphans = [t.table_name for t in f.tables if t.source_code is None]
    detail = f"{len(orphans)} of {len(f.tables)} staging tables have no registered source"
    return _share("orphaned_tables", "Orphaned tables", len(orphans), len(f.tables), "< 5",
                  lambda p: p < 5, detail + _listed(": ", orphans))  # fmt: skip


def undocumented_sources(f: Facts) -> Criterion:
    detail = (
        _listed("blank owner or purpose: ", f.undocumented)
        or "every source has an owner and a purpose"
    )
    count = len(f.undocumented)
    return Criterion("undocumented_sources", "Undocumented sources", count, "= 0", count == 0,
                     "sources", detail)  # fmt: skip


def loads_validated(f: Facts) -> Criterion:
    v = f.validation
    detail = f"{v.required - v.unvalidated} of {v.required} completed loads needing validation"
    detail += " have results" + _listed("; none for loads ", v.unvalidated_sample)
    if v.unvalidated > len(v.unvalidated_sample):
        detail += f" ({v.unvalidated} in all)"
    return _share("loads_validated", "Loads validated", v.required - v.unvalidated, v.required,
                  "= 100", lambda p: p == 100, detail)  # fmt: skip


def _hours(r: Recovery, as_of: datetime) -> float:
    return ((r.recovered_at or as_of) - r.failed_at).total_seconds() / 3600


def failures_resolved(f: Facts) -> Criterion:
    key, name, target = "failures_resolved", "Failures resolved within 24 h", "≤ 24"
    if not f.recoveries:
        return Criterion(key, name, None, target, True, "h", "no failed loads")
    worst = max(f.recoveries, key=lambda r: _hours(r, f.as_of))
    hours = _hours(worst, f.as_of)
    late = [r for r in f.recoveries if _hours(r, f.as_of) > RECOVERY_HOURS]
    waiting = [r for r in f.recoveries if r.recovered_at is None]
    detail = (
        f"{len(f.recoveries)} failed loads, {len(late)} not followed by a success within 24 h,"
        f" {len(waiting)} not followed by one yet; worst: load {worst.load_id}"
        f" of {worst.source_code}"
        f" ({'unresolved' if worst.recovered_at is None else 'resolved'} after {hours:.1f} h)"
    )
    return Criterion(key, name, round(hours, 1), target, not late, "h", detail)


def metadata_coverage(f: Facts) -> Criterion:
    c = f.columns
    detail = f"{c.described} of {c.columns} loaded data columns described"
    detail += _listed("; not: ", c.undescribed_sample)
    return _share("metadata_coverage", "Metadata coverage", c.described, c.columns, "≥ 90",
                  lambda p: p >= 90, detail)  # fmt: skip


def duplicate_data(f: Facts) -> Criterion:
    earliest: dict[int, RepeatedFile] = {}  # a file loaded 3 times: each repeat named once
    for d in sorted(f.duplicates, key=lambda d: (d.repeat_load_id, d.first_load_id)):
        earliest.setdefault(d.repeat_load_id, d)
    repeats = sorted(earliest)
    pairs = [
        f"{d.source_code} {d.period or '(no period)'}: load {d.repeat_load_id}"
        f" repeats {d.first_load_id}"
        for d in (earliest[r] for r in repeats)
    ]
    detail = _listed("same file loaded twice, both with rows: ", pairs) or "no file loaded twice"
    return Criterion("duplicate_data", "Duplicate data", len(repeats), "= 0", not repeats,
                     "loads", detail)  # fmt: skip


def tables_with_owners(f: Facts) -> Criterion:
    unowned = [t.table_name for t in f.tables if not (t.owner or "").strip()]
    owned = len(f.tables) - len(unowned)
    detail = f"{owned} of {len(f.tables)} staging tables have an owner"
    return _share("tables_with_owners", "Tables with an owner", owned, len(f.tables), "= 100",
                  lambda p: p == 100, detail + _listed("; not: ", unowned))  # fmt: skip


def stale_sources(f: Facts) -> Criterion:
    stale, active = len(f.stale_sources), f.active_sources
    detail = f"{stale} of {active} active sources stale" + _listed(": ", f.stale_sources)
    return _share("stale_sources", "Stale sources", stale, active, "< 5", lambda p: p < 5,
                  detail)  # fmt: skip


POLICY: tuple[Callable[[Facts], Criterion], ...] = (
    load_success, orphaned_tables, undocumented_sources, loads_validated, failures_resolved,
    metadata_coverage, duplicate_data, tables_with_owners, stale_sources,
)  # fmt: skip


def judge(facts: Facts) -> Scorecard:
    return Scorecard(facts.as_of, WINDOW_DAYS, [criterion(facts) for criterion in POLICY])


def duplicates_with_rows(repeats: list[RepeatedFile], present: set[int]) -> list[RepeatedFile]:
    """Repeats of a file whose earlier load's rows are still there beside the repeat's."""
    return [r for r in repeats if r.first_load_id in present and r.repeat_load_id in present]


# --- reading the facts ------------------------------------------------------------------------


def _loads_with_rows(conn: psycopg.Connection, repeats: list[RepeatedFile]) -> set[int]:
    by_table: dict[str, set[int]] = {}
    for r in repeats:
        by_table.setdefault(r.target_table, set()).update((r.first_load_id, r.repeat_load_id))
    present: set[int] = set()
    for table, ids in by_table.items():
        target = TableRef(STAGING_SCHEMA, table)
        present |= loads_with_rows(conn, target, ids)
    return present


def gather(conn: psycopg.Connection, settings: MonitoringSettings, as_of: datetime) -> Facts:
    since = as_of - timedelta(days=WINDOW_DAYS)
    window = scorecard_queries.window_loads(conn, since, as_of)
    staleness = scorecard_queries.active_sources_staleness(conn, as_of, settings.stale_after_days)
    return Facts(
        as_of=as_of,
        loads=window.loads,
        tables=scorecard_queries.staging_tables(conn),
        undocumented=scorecard_queries.undocumented_sources(conn),
        validation=window.validation,
        recoveries=scorecard_queries.recoveries(conn, since, as_of),
        columns=scorecard_queries.column_coverage(conn),
        duplicates=duplicates_with_rows(window.repeats, _loads_with_rows(conn, window.repeats)),
        active_sources=len(staleness),
        stale_sources=[code for code, stale in staleness.items() if stale],
    )


def scorecard(
    conn: psycopg.Connection, settings: MonitoringSettings, *, clock: Clock = SYSTEM_CLOCK
) -> Scorecard:
    """Measure every criterion now; ``settings`` are the monitoring thresholds (staleness)."""
    return judge(gather(conn, settings, clock.now()))
