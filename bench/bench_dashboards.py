"""Dashboards at scale: every dashboard, the scorecard and /metrics-style queries on a big catalog.

    python bench/bench_dashboards.py [--events 1000000] [--sources 500] [--vacuum]

COPYs into a throw-away embedded PostgreSQL (or an empty --database-url) --events load events
over --sources sources and two years (94 % completed, durations log-normal, monthly, quarterly
or weekly periods, 2 % test loads, some sources stale, a few files loaded twice) with their
source periods, metrics, validation results, schema changes, alerts, a staging table per
source holding its last loads' rows, orphan and archive tables and column metadata. Then
ANALYZE with autovacuum off on them: the worst case, as in a real catalog whose recent events
are not all-visible yet (--vacuum: once autovacuum has caught up). Each item is timed at the
moment the history ends, median of --repeat runs after a warm-up: each dashboard through
ops.monitoring.dashboard (default window), ops.scorecard.scorecard, and what a Prometheus
/metrics would serve (METRICS), one by one and as one scrape. Goal: each under 100 ms. Rows
without a goal are for reference: the four dashboards together (`datawarp health`) and
all-time aggregates, which read the whole history.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import statistics
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg

from datawarp.catalog import report_queries
from datawarp.catalog.connect import connect
from datawarp.catalog.migrate import upgrade
from datawarp.core.clock import FixedClock
from datawarp.core.monitoring_settings import MonitoringSettings
from datawarp.ops.monitoring import DASHBOARDS, all_dashboards, dashboard
from datawarp.ops.scorecard import scorecard

GOAL_MS = 100.0
DAY = 86400.0
NULL = r"\N"  # COPY's text format
KINDS = ("month", "quarter", "week")
DOMAINS = ("Urgent and Emergency Care", "Mental Health", "Workforce", "Primary Care",
           "Cancer", "Maternity", "Community Services", "Prescribing")  # fmt: skip
COLUMNS = ("period", "org_code", "org_name", "attendances", "over_4_hours")
ROWS_PER_LOAD = 200  # rows each of a source's last loads keeps in its staging table
KEPT_LOADS = 4
HAND_MADE = ("staging.tbl_legacy_a", "staging.tbl_legacy_b", "staging.tbl_scratch",  # orphans
             "archive.tbl_old_1_archived_20240101", "archive.tbl_old_2_archived_20240601")  # fmt: skip
FILLED = ("tbl_data_sources", "tbl_load_events", "tbl_source_periods", "tbl_source_metrics",
          "tbl_validation_results", "tbl_schema_changes", "tbl_alerts", "tbl_column_metadata")  # fmt: skip

# What a Prometheus /metrics endpoint would serve. Load counts and durations are over the last
# 7 days (the load-health dashboard's window): all-time totals read the whole history at every
# scrape (ALL_TIME below, timed for reference, with no goal).
BUCKETS = (1, 5, 15, 60, 300, 900, 3600)  # seconds, cumulative as Prometheus counts them
_COUNTS = "".join(f"count(*) FILTER (WHERE duration_seconds <= {b}) AS le_{b}, " for b in BUCKETS)
_HISTOGRAM = (
    f"SELECT {_COUNTS}count(*) AS le_inf, sum(duration_seconds) AS sum"  # noqa: S608 - constants
    " FROM datawarp.tbl_load_events WHERE load_status = 'completed' AND target_schema = 'staging'"
)
_LAST_7_DAYS = " AND started_at > %(as_of)s - interval '7 days' AND started_at <= %(as_of)s"
METRICS = {
    "loads by status, 7 d": "SELECT target_schema, load_status, count(*)"
    " FROM datawarp.tbl_load_events"
    " WHERE started_at > %(as_of)s - interval '7 days' AND started_at <= %(as_of)s GROUP BY 1, 2",
    "duration histogram, 7 d": _HISTOGRAM + _LAST_7_DAYS,
    "last success per source": "SELECT s.source_code, l.completed_at"
    " FROM datawarp.tbl_data_sources s LEFT JOIN LATERAL ("
    "   SELECT e.completed_at FROM datawarp.tbl_load_events e"
    "    WHERE e.source_code = s.source_code AND e.load_status = 'completed'"
    "      AND e.target_schema = 'staging' AND e.completed_at <= %(as_of)s"
    "    ORDER BY e.completed_at DESC LIMIT 1) l ON true",
    "rows per source": "SELECT s.source_code, m.row_count"
    " FROM datawarp.tbl_data_sources s JOIN LATERAL ("
    "   SELECT m.row_count FROM datawarp.tbl_source_metrics m"
    "    WHERE m.source_code = s.source_code AND m.measured_at <= %(as_of)s"
    "    ORDER BY m.measured_at DESC LIMIT 1) m ON true",
    "open alerts by severity": "SELECT severity, count(*) FROM datawarp.tbl_alerts"
    " WHERE status <> 'resolved' GROUP BY 1",
    "table bytes": "SELECT schema_name, table_name, total_bytes FROM datawarp.table_sizes()",
}
ALL_TIME = {
    "loads by status, all time": "SELECT target_schema, load_status, count(*)"
    " FROM datawarp.tbl_load_events GROUP BY 1, 2",
    "duration histogram, all time": _HISTOGRAM,
}


@dataclass
class Source:
    code: str
    kind: str
    append: bool
    validated: bool
    ends: float  # epoch seconds of its last possible load (stale sources stopped early)
    mu: float  # log of its typical load duration in seconds
    kept: deque = field(default_factory=lambda: deque(maxlen=KEPT_LOADS))  # (load_id, period)
    last: tuple | None = None  # (load_id, period, sha) of its last completed staging load
    rows: int = 0


@dataclass
class History:  # what the load events imply for the other tables, gathered while copying them
    completed: list[tuple] = field(default_factory=list)  # (load_id, source, end, seconds, status)
    periods: dict[tuple, tuple] = field(default_factory=dict)  # (code, period) -> (kind, start, ts)
    duplicates: list[tuple[str, str, int, int]] = field(default_factory=list)  # code, period, ids


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _period(kind: str, day: date) -> tuple[str, date]:
    if kind == "month":
        return f"{day:%Y-%m}", day.replace(day=1)
    if kind == "quarter":
        quarter = (day.month - 1) // 3
        return f"{day.year}-Q{quarter + 1}", date(day.year, quarter * 3 + 1, 1)
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}", date.fromisocalendar(year, week, 1)


def _copy(conn: psycopg.Connection, statement: str, lines) -> None:  # in chunks of 4 MB
    with conn.cursor().copy(statement) as copy:
        buffer = io.StringIO()
        for line in lines:
            buffer.write(line)
            if buffer.tell() > 4_000_000:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def make_sources(conn: psycopg.Connection, rng: random.Random, count: int, end: float):
    sources = [
        Source(f"src_{i:03d}", KINDS[i % 3], i % 2 == 0, i % 10 != 0,
               end - (60 * DAY if 20 <= i < 40 else 0), rng.uniform(1.0, 4.0))
        for i in range(count)
    ]  # fmt: skip
    _copy(conn, "COPY datawarp.tbl_data_sources (source_code, publication, domain, owner,"
          " purpose, load_mode, validation_required, stale_after_days) FROM STDIN", (
        f"{s.code}\tPublication {i}\t{DOMAINS[i % len(DOMAINS)]}\tteam{i % 40}@nhs.net\t"
        f"Bench source {i}\t{'APPEND' if s.append else 'REPLACE'}\t{s.validated}\t"
        f"{100 if s.kind == 'quarter' else 45 if s.kind == 'month' else 14}\n"
        for i, s in enumerate(sources)
    ))  # fmt: skip
    # registered -> active -> deprecated is the only way the lifecycle trigger allows.
    conn.execute("UPDATE datawarp.tbl_data_sources SET status = 'active'"
                 " WHERE source_code >= 'src_010'")  # fmt: skip
    conn.execute("UPDATE datawarp.tbl_data_sources SET status = 'deprecated'"
                 " WHERE source_code BETWEEN 'src_490' AND 'src_499'")  # fmt: skip
    return sources


def _event_line(load_id, s: Source, start, seconds, status, schema, period, sha) -> str:
    error = NULL if status == "completed" else "Invalid file: header row not found"
    return (
        f"{load_id}\t{s.code}\t{int(seconds * 900)}\t{status}\t{_ts(start)}\t{_ts(start + seconds)}"
        f"\t{error}\t"
        f"{period}\thttps://files.digital.nhs.uk/{s.code}/{period}.csv\t{sha}\t"
        f"{int(seconds * 90_000)}\t{schema}\ttbl_{s.code}\t{'APPEND' if s.append else 'REPLACE'}"
        f"\t{s.kind}\t{seconds}\n"
    )


def _one_event(rng, history, load_id, s: Source, start, *, last: bool, in_window: bool) -> str:
    seconds = round(rng.lognormvariate(s.mu, 0.8), 3)
    roll = rng.random()
    status = "completed" if last or roll < 0.94 else "failed" if roll < 0.975 else "rolled_back"
    schema = "staging_test" if rng.random() < 0.02 else "staging"
    lag = {"month": 40, "quarter": 75, "week": 10}[s.kind]
    period, start_day = _period(s.kind, datetime.fromtimestamp(start - lag * DAY, UTC).date())
    sha = hashlib.sha256(load_id.to_bytes(8, "big")).hexdigest()  # real hashes differ early
    ok = status == "completed" and schema == "staging"
    if ok and in_window and s.append and s.last and len(history.duplicates) < 12:
        period, sha = s.last[1], s.last[2]  # the same file again, --force, APPEND
        history.duplicates.append((s.code, period, s.last[0], load_id))
    if ok:
        s.last = (load_id, period, sha)
        s.kept.append((load_id, period))
        history.periods.setdefault((s.code, period), (s.kind, start_day, start + seconds))
    history.completed.append((load_id, s, start + seconds, seconds, status))
    return _event_line(load_id, s, start, seconds, status, schema, period, sha)


def copy_events(conn, rng: random.Random, sources: list[Source], events: int, end: float):
    begin = end - 730 * DAY
    times = sorted(
        (rng.uniform(begin, s.ends - 3600), i) for i, s in enumerate(sources)
        for _ in range(events // len(sources))
    )  # fmt: skip
    last_of = {i: n for n, (_, i) in enumerate(times)}
    history = History()
    lines = (
        _one_event(rng, history, n + 1, sources[i], start, last=last_of[i] == n,
                   in_window=start > end - 20 * DAY)
        for n, (start, i) in enumerate(times)
    )  # fmt: skip
    _copy(conn, "COPY datawarp.tbl_load_events (load_id, source_code, rows_loaded, load_status,"
          " started_at, completed_at, error_message, period, source_file, file_sha256,"
          " file_bytes, target_schema, target_table, load_mode, period_kind, duration_seconds)"
          " FROM STDIN", lines)  # fmt: skip
    conn.execute("SELECT setval(pg_get_serial_sequence('datawarp.tbl_load_events', 'load_id'),"
                 " (SELECT max(load_id) FROM datawarp.tbl_load_events))")  # fmt: skip
    for minutes, (_, i) in enumerate(times[-3:], start=1):  # loads running right now
        conn.execute("INSERT INTO datawarp.tbl_load_events (source_code, started_at, period_kind)"
                     " VALUES (%s, %s, %s)", (sources[i].code, datetime.fromtimestamp(
                         end - minutes * 60, UTC), sources[i].kind))  # fmt: skip
    return history


def copy_history(conn, rng: random.Random, history: History) -> None:
    """Source periods, metrics and validation results implied by the load events."""
    _copy(conn, "COPY datawarp.tbl_source_periods FROM STDIN", (
        f"{code}\t{kind}\t{period}\t{start}\t{_ts(ts)}\n"
        for (code, period), (kind, start, ts) in history.periods.items()
    ))  # fmt: skip

    def metrics():
        for load_id, s, end, seconds, status in history.completed:
            if status == "completed":
                grown = s.append or not s.rows  # a REPLACE table keeps about its size
                s.rows = s.rows + 13 * 150 if grown else s.rows + rng.randint(-9, 9)
                yield f"{s.code}\t{load_id}\t{_ts(end)}\t{s.rows}\t5\t{s.rows * 130}\t{seconds}\n"

    _copy(conn, "COPY datawarp.tbl_source_metrics (source_code, load_id, measured_at, row_count,"
          " column_count, table_size_bytes, load_duration_seconds) FROM STDIN", metrics())  # fmt: skip

    def results():
        for load_id, s, end, _, status in history.completed:
            if status == "failed" or not s.validated or rng.random() < 0.001:
                continue  # a load that never reached the gates, or an odd one never validated
            verdict = "fail" if status == "rolled_back" else "pass"
            for kind in ("row_count", "quality"):
                yield f"{load_id}\t{s.code}\t{kind}\t{kind}\t{verdict}\t{verdict}\t{_ts(end)}\t{load_id}\n"

    _copy(conn, "COPY datawarp.tbl_validation_results (load_id, source_code, validation_type,"
          " check_name, status, severity, validated_at, run_id) FROM STDIN", results())  # fmt: skip


def copy_changes_and_alerts(conn, rng: random.Random, sources: list[Source], end: float) -> None:
    def changes():
        for s in sources:
            yield f"{s.code}\tstaging\ttbl_{s.code}\tcreate\t[]\tauto\t{_ts(end - 729 * DAY)}\t{NULL}\n"
            for _ in range(rng.randint(5, 35)):
                kind, at = rng.choice(("add", "widen")), rng.uniform(end - 729 * DAY, end)
                columns = '[{"name": "new_measure", "type": "integer"}]'
                status = "pending" if end - at < 20 * DAY and rng.random() < 0.1 else "approved"
                decided = _ts(at + 3600) if status == "approved" else NULL
                yield f"{s.code}\tstaging\ttbl_{s.code}\t{kind}\t{columns}\t{status}\t{_ts(at)}\t{decided}\n"

    _copy(conn, "COPY datawarp.tbl_schema_changes (source_code, target_schema, target_table,"
          " kind, columns, status, requested_at, decided_at) FROM STDIN", changes())  # fmt: skip

    def alerts():
        for n in range(2000):
            s, rule = sources[n % len(sources)], ("failed_loads", "stale", "slow_load")[n % 3]
            live = n < 60
            at = end - rng.uniform(0, 3 if live else 700) * DAY
            severity = ("info", "warning", "critical")[n % 3]
            state, resolved = ("open", NULL) if live else ("resolved", _ts(at + 3600))
            yield f"{rule}\t{s.code if live else s.code + str(n)}\t{severity}\t{state}\t{rule}\t{_ts(at)}\t{_ts(at)}\t{resolved}\n"

    _copy(conn, "COPY datawarp.tbl_alerts (rule, source_code, severity, status, message,"
          " first_seen_at, last_seen_at, resolved_at) FROM STDIN", alerts())  # fmt: skip


TABLE = (
    "CREATE TABLE staging.{name} (period text, org_code text, org_name text,"
    " attendances integer, over_4_hours integer, _load_id bigint NOT NULL, _period text,"
    " _source_file text NOT NULL, _sheet text, _row_number integer NOT NULL,"
    " _is_total boolean NOT NULL DEFAULT false, _loaded_at timestamptz NOT NULL DEFAULT now(),"
    " _level text)"
)
FILL = (
    "INSERT INTO {table} SELECT l.period, 'R' || g, 'Trust ' || g, g * 7, g, l.load_id,"
    " l.period, 'bench.csv', NULL, g, g = %(rows)s, now()"
    " FROM unnest(%(ids)s::bigint[], %(periods)s::text[]) AS l(load_id, period),"
    " generate_series(1, %(rows)s) AS g"
)


def build_tables(conn, rng: random.Random, sources: list[Source], history: History) -> None:
    """A staging table per loaded source with its last loads' rows; orphans; archive tables."""
    twins = defaultdict(list)  # both loads of a repeated file keep their rows
    for code, period, first, second in history.duplicates:
        twins[code] += [(first, period), (second, period)]
    for s in sources:
        if s.last is None:
            continue
        kept = sorted(set(s.kept) | set(twins[s.code]))
        conn.execute(TABLE.format(name=f"tbl_{s.code}"))
        conn.execute(FILL.format(table=f"staging.tbl_{s.code}"),
                     {"ids": [k[0] for k in kept], "periods": [k[1] for k in kept],
                      "rows": ROWS_PER_LOAD})  # fmt: skip
        for column in ("_load_id", "_period"):
            conn.execute(f"CREATE INDEX ON staging.tbl_{s.code} ({column})")
    for name in HAND_MADE:
        conn.execute(TABLE.replace("staging.{name}", name))
        conn.execute(FILL.format(table=name), {"ids": [0], "periods": ["2024-01"], "rows": 5000})
    _copy(conn, "COPY datawarp.tbl_column_metadata (source_code, column_name, description,"
          " original_header, data_type) FROM STDIN", (
        f"{s.code}\t{c}\t{'The ' + c if rng.random() < 0.95 else NULL}\t{c.title()}\ttext\n"
        for s in sources if s.last is not None for c in COLUMNS
    ))  # fmt: skip


def record_load_facts(conn) -> None:
    """What the loader writes on an event as it finishes (migration 0012): whether the gates
    ran, and the earlier load of the same file a forced reload repeats. Copied events have
    neither, so they are derived once, as the migration derives them for older catalogs."""
    conn.execute("SELECT datawarp.derive_load_facts()")
    conn.execute("SELECT datawarp.recount_load_totals()")  # the counters' trigger saw no update


def build(url: str, events: int, count: int, *, vacuum: bool = False) -> datetime:
    """The whole catalog; returns the moment its history ends (the benchmark's "now")."""
    rng = random.Random(20251015)
    as_of = datetime.now(UTC).replace(microsecond=0)
    end = as_of.timestamp()
    with connect(url, autocommit=True) as conn:
        upgrade(conn)
        for table in FILLED:  # the worst case: no page all-visible, no index-only shortcut
            conn.execute(f"ALTER TABLE datawarp.{table} SET (autovacuum_enabled = false)")
        started = time.perf_counter()
        sources = make_sources(conn, rng, count, end)
        history = copy_events(conn, rng, sources, events, end)
        copy_history(conn, rng, history)
        record_load_facts(conn)
        copy_changes_and_alerts(conn, rng, sources, end)
        build_tables(conn, rng, sources, history)
        conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        built = time.perf_counter() - started
        total = conn.execute("SELECT count(*) FROM datawarp.tbl_load_events").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
    print(f"built {total:,} load events, {count} sources, {len(history.duplicates)} repeated"
          f" files in {built:.0f} s; database {size.fetchone()[0]}")  # fmt: skip
    return as_of


def median_ms(run, repeat: int) -> float:
    run()  # warm-up: caches and plans, as a long-running server has them
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def served_metrics(conn) -> None:
    """Every read of datawarp serve's /metrics collector (web.metrics), whole-history
    counters included (kept by the load events' trigger, migration 0013)."""
    report_queries.loads_by_status(conn)
    report_queries.load_duration_histogram(conn)
    report_queries.last_successful_loads(conn)
    report_queries.source_rows(conn)
    report_queries.open_alerts_by_severity(conn)
    report_queries.table_bytes(conn)


def measure(url: str, as_of: datetime, repeat: int) -> list[tuple[str, float, bool]]:
    """(item, median ms, has the goal) for every item."""
    settings, clock, at = MonitoringSettings(), FixedClock(as_of), {"as_of": as_of}
    items = {f"dashboard {name}": (lambda name=name: dashboard(conn, name, settings, clock=clock))
             for name in DASHBOARDS}  # fmt: skip
    items["scorecard"] = lambda: scorecard(conn, settings, clock=clock)
    items |= {f"/metrics {name}": (lambda q=query: conn.execute(q, at).fetchall())
              for name, query in METRICS.items()}  # fmt: skip
    items["/metrics all six"] = lambda: [conn.execute(q, at).fetchall() for q in METRICS.values()]
    items["/metrics as datawarp serve reads it"] = lambda: served_metrics(conn)
    reference = {f"/metrics {name}": (lambda q=query: conn.execute(q).fetchall())
                 for name, query in ALL_TIME.items()}  # fmt: skip
    reference["all four dashboards (health)"] = lambda: all_dashboards(conn, settings, clock=clock)
    with connect(url, autocommit=True) as conn:
        timed = [(name, median_ms(run, repeat), True) for name, run in items.items()]
        return timed + [(name, median_ms(run, repeat), False) for name, run in reference.items()]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vacuum", action="store_true", help="VACUUM after ANALYZE")
    parser.add_argument("--database-url", default=os.environ.get("DATAWARP_BENCH_DATABASE_URL"))
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    from bench_server import bench_database

    with bench_database(args.database_url, "bench_dashboards") as url:
        as_of = build(url, args.events, args.sources, vacuum=args.vacuum)
        results = measure(url, as_of, args.repeat)
    print(f"{'item':<36} {'median ms':>10} {'goal':>6}  met")
    for name, ms, goal in results:
        met = ("yes" if ms < GOAL_MS else "NO") if goal else "-"
        print(f"{name:<36} {ms:>10.1f} {f'{GOAL_MS:.0f}' if goal else '-':>6}  {met}")


if __name__ == "__main__":
    main()
