"""Every query the success-criteria scorecard runs (the policy is ``ops.scorecard``).

Windowed facts come from loads into ``staging`` *started* in ``(since, as_of]``, the
convention of the dashboard functions of migration 0007, so the scorecard and the dashboards
count the same loads; they are read in one statement (``window_loads``). The rest describe the
catalog as it is now. Each returns plain facts: counts, names, times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from datawarp.core.naming import PROVENANCE_PREFIX, STAGING_SCHEMA

SAMPLE = 5  # names or ids quoted in a criterion's detail; the count says the rest


@dataclass(frozen=True)
class LoadCounts:
    finished: int
    completed: int


@dataclass(frozen=True)
class StagingTable:
    """A table in ``staging`` and the registered source it belongs to, if any."""

    table_name: str
    source_code: str | None
    owner: str | None


@dataclass(frozen=True)
class ValidationCounts:
    required: int
    unvalidated: int
    unvalidated_sample: list[int]


@dataclass(frozen=True)
class Recovery:
    """A failed load and the finish of its source's next completed load (None: none yet)."""

    load_id: int
    source_code: str
    failed_at: datetime
    recovered_at: datetime | None


@dataclass(frozen=True)
class ColumnCoverage:
    columns: int
    described: int
    undescribed_sample: list[str]


@dataclass(frozen=True)
class RepeatedFile:
    """A completed load of the same source, period and bytes as an earlier completed load."""

    source_code: str
    target_table: str
    period: str | None
    first_load_id: int
    repeat_load_id: int


def staging_tables(conn: psycopg.Connection) -> list[StagingTable]:
    """Every table of ``staging``; an archived source's name no longer claims a live table."""
    with conn.cursor(row_factory=class_row(StagingTable)) as cur:
        return cur.execute(
            "SELECT c.relname::text AS table_name, s.source_code, s.owner"
            "  FROM pg_class c"
            "  LEFT JOIN datawarp.tbl_data_sources s"
            "    ON c.relname::text = 'tbl_' || s.source_code AND s.status <> 'archived'"
            " WHERE c.relnamespace = to_regnamespace(%s) AND c.relkind IN ('r', 'p')"
            "   AND NOT c.relispartition"
            " ORDER BY 1",
            (STAGING_SCHEMA,),
        ).fetchall()


def undocumented_sources(conn: psycopg.Connection) -> list[str]:
    """Sources with a blank owner or purpose: the CHECK constraints forbid it, but a superuser
    can drop or bypass them, so the scorecard looks rather than trusts."""
    rows = conn.execute(
        "SELECT source_code FROM datawarp.tbl_data_sources"
        " WHERE btrim(coalesce(owner, '')) = '' OR btrim(coalesce(purpose, '')) = ''"
        " ORDER BY 1"
    ).fetchall()
    return [code for (code,) in rows]


def active_sources_staleness(
    conn: psycopg.Connection, as_of: datetime, default_days: int
) -> dict[str, bool]:
    """Each active source and whether it is stale: no completed load into ``staging`` in its
    last ``stale_after_days`` (the source's own, else ``default_days``) up to ``as_of`` — the
    freshness dashboard's rule, read with one index probe per source and no cadence work."""
    rows = conn.execute(
        "SELECT s.source_code, NOT EXISTS ("
        "    SELECT 1 FROM datawarp.tbl_load_events e"
        "     WHERE e.source_code = s.source_code AND e.load_status = 'completed'"
        "       AND e.target_schema = 'staging' AND e.completed_at <= %(as_of)s"
        "       AND e.completed_at >= %(as_of)s"
        "           - make_interval(days => coalesce(s.stale_after_days, %(days)s)))"
        "  FROM datawarp.tbl_data_sources s WHERE s.status = 'active' ORDER BY 1",
        {"as_of": as_of, "days": default_days},
    ).fetchall()
    return dict(rows)


@dataclass(frozen=True)
class WindowLoads:
    """What the scorecard judges about the window's loads, read in one pass."""

    loads: LoadCounts
    validation: ValidationCounts
    repeats: list[RepeatedFile]


# One pass over the window's events (40,000 in a million-event catalog) and nothing else:
# whether the gates ran, and which earlier load a forced reload repeats, were recorded on
# each event when it finished (migration 0012), so no load needs a probe of its own.
_WINDOW_LOADS = """
SELECT count(*) AS finished,
       count(*) FILTER (WHERE e.load_status = 'completed') AS completed,
       count(*) FILTER (WHERE e.load_status = 'completed' AND s.validation_required) AS required,
       count(*) FILTER (WHERE e.load_status = 'completed' AND s.validation_required
                          AND NOT coalesce(e.validated, false)) AS unvalidated,
       coalesce(array_agg(e.load_id) FILTER (WHERE e.load_status = 'completed'
                          AND s.validation_required AND NOT coalesce(e.validated, false)),
                '{}') AS unvalidated_ids,
       coalesce(jsonb_agg(jsonb_build_object(
           'source_code', e.source_code,
           'target_table', coalesce(e.target_table, 'tbl_' || e.source_code),
           'period', e.period, 'repeat_load_id', e.load_id, 'earlier', jsonb_build_array(e.repeat_of)
       )) FILTER (WHERE e.load_status = 'completed' AND e.repeat_of IS NOT NULL), '[]') AS repeats
  FROM datawarp.tbl_load_events e
  LEFT JOIN datawarp.tbl_data_sources s ON s.source_code = e.source_code
 WHERE e.started_at > %(since)s AND e.started_at <= %(as_of)s
   AND e.target_schema = 'staging' AND e.load_status <> 'in_progress'
"""


def window_loads(conn: psycopg.Connection, since: datetime, as_of: datetime) -> WindowLoads:
    """Loads into ``staging`` started in ``(since, as_of]``: counts, validation, and the
    completed loads repeating an earlier completed load's file for the same period."""
    row = conn.execute(_WINDOW_LOADS, {"since": since, "as_of": as_of}).fetchone()
    finished, completed, required, unvalidated, unvalidated_ids, repeats = row
    return WindowLoads(
        LoadCounts(finished, completed),
        ValidationCounts(required, unvalidated, sorted(unvalidated_ids)[:SAMPLE]),
        [
            RepeatedFile(r["source_code"], r["target_table"], r["period"], first, repeat)
            for repeat, r in sorted((r["repeat_load_id"], r) for r in repeats)
            for first in r["earlier"]
        ],
    )


def recoveries(conn: psycopg.Connection, since: datetime, as_of: datetime) -> list[Recovery]:
    """Each failed or rolled-back load of the window and its source's next success by as_of."""
    with conn.cursor(row_factory=class_row(Recovery)) as cur:
        return cur.execute(
            "SELECT f.load_id, f.source_code, f.completed_at AS failed_at,"
            "       r.completed_at AS recovered_at"
            "  FROM datawarp.tbl_load_events f"
            "  LEFT JOIN LATERAL ("
            "      SELECT e.completed_at FROM datawarp.tbl_load_events e"
            "       WHERE e.source_code = f.source_code AND e.load_status = 'completed'"
            "         AND e.target_schema = 'staging'"
            "         AND e.completed_at > f.completed_at AND e.completed_at <= %(as_of)s"
            "       ORDER BY e.completed_at LIMIT 1"
            "  ) r ON true"
            " WHERE f.started_at > %(since)s AND f.started_at <= %(as_of)s"
            "   AND f.target_schema = 'staging' AND f.load_status IN ('failed', 'rolled_back')"
            " ORDER BY f.load_id",
            {"since": since, "as_of": as_of},
        ).fetchall()


def column_coverage(conn: psycopg.Connection) -> ColumnCoverage:
    """Data columns of registered sources' staging tables, and those with a description.

    Read from ``pg_attribute`` rather than from the metadata table, so that a column added by
    hand, which DataWarp never recorded, counts as undescribed.
    """
    with conn.cursor(row_factory=class_row(ColumnCoverage)) as cur:
        return cur.execute(
            "SELECT count(*) AS columns,"
            "       count(*) FILTER (WHERE described) AS described,"
            "       coalesce((array_agg(name ORDER BY name) FILTER (WHERE NOT described))[1:%s::int],"
            "                '{}') AS undescribed_sample"
            "  FROM (SELECT s.source_code || '.' || a.attname AS name,"
            "               coalesce(btrim(m.description) <> '', false) AS described"
            "          FROM datawarp.tbl_data_sources s"
            "          JOIN pg_class c ON c.relname::text = 'tbl_' || s.source_code"
            "           AND c.relnamespace = to_regnamespace(%s) AND c.relkind IN ('r', 'p')"
            "          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
            "           AND NOT a.attisdropped AND NOT starts_with(a.attname::text, %s)"
            "          LEFT JOIN datawarp.tbl_column_metadata m"
            "            ON m.source_code = s.source_code AND m.column_name = a.attname::text"
            "         WHERE s.status <> 'archived') columns",
            (SAMPLE, STAGING_SCHEMA, PROVENANCE_PREFIX),
        ).fetchone()
