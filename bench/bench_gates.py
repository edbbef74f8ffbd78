"""Validation gates benchmark: the gates vs the hand-written queries they replace.

    python bench/bench_gates.py [--rows 10000000] [--database-url URL]

Builds an NHS-shaped staging table (12 data columns: 4 text, 6 integer, 1 numeric, 1 date)
with SQL generate_series, then times, best of --repeat runs each (warm cache):
  baseline  one `SELECT count(*)` plus one hand-written query with every column's
            count(col) and the date column's min/max/outlier counts;
  gates     datawarp.pipeline.gates.run_gates on the same load (no primary key set), with
            the duplicate-row check skipped (duplicate_rows_max_rows below the rows) and run;
  dup keys  the duplicate-key GROUP BY alone, for when a manifest sets primary_key;
  dup rows  the duplicate-row GROUP BY alone (every load up to duplicate_rows_max_rows);
  baseline + the duplicate-row check a DBA would hand-write (rows sharing a hash of their
            values), the like-for-like baseline of the gates with that check.
Goal from the issue: gates <= 1.2x baseline. Without --database-url a throw-away embedded
PostgreSQL is started.
"""

from __future__ import annotations

import argparse
import os
import time

from datawarp.catalog.connect import connect
from datawarp.catalog.gate_queries import duplicate_keys, duplicate_rows
from datawarp.catalog.migrate import upgrade
from datawarp.core.gate_settings import GateSettings
from datawarp.pipeline.gates import ColumnStat, GateContext, run_gates

TEXT = ["period", "org_code", "org_name", "region"]
INTEGERS = ["attendances", "admissions", "breaches", "referrals", "waiting", "beds"]
COLUMNS = [ColumnStat(n, "text") for n in TEXT] + [ColumnStat(n, "integer") for n in INTEGERS]
COLUMNS += [ColumnStat("occupancy", "numeric"), ColumnStat("snapshot_date", "date")]

BUILD = """
CREATE TABLE staging.tbl_bench_gates AS
SELECT '2025-09'::text AS period, 'R' || lpad(mod(g, 500)::text, 3, '0') AS org_code,
       'Trust ' || mod(g, 500) AS org_name, 'Region ' || mod(g, 7) AS region,
       mod(g, 10000)::int AS attendances, mod(g, 977)::int AS admissions, mod(g, 13)::int AS breaches,
       mod(g, 3331)::int AS referrals, mod(g, 101)::int AS waiting, mod(g, 57)::int AS beds,
       round((mod(g, 1000) / 10.0)::numeric, 1) AS occupancy,
       date '2025-09-01' - mod(g, 3650) AS snapshot_date,
       %(load_id)s::bigint AS _load_id, '2025-09'::text AS _period, 'bench.csv'::text AS _source_file,
       NULL::text AS _sheet, g::int AS _row_number, false AS _is_total, now() AS _loaded_at,
       NULL::text AS _level
  FROM generate_series(1, %(rows)s) AS g
"""


def _hand_written(table: str) -> str:
    parts = [f"count({c.name})" for c in COLUMNS]
    parts += [
        "min(snapshot_date)", "max(snapshot_date)",
        "count(*) FILTER (WHERE snapshot_date > current_date)",
        "count(*) FILTER (WHERE snapshot_date < current_date - interval '10 years')",
    ]  # fmt: skip
    return f"SELECT {', '.join(parts)} FROM {table}"  # noqa: S608 - fixed bench identifiers


def _hand_written_duplicates(table: str) -> str:
    row = ", ".join(c.name for c in COLUMNS)
    return (
        f"SELECT count(*) FROM (SELECT 1 FROM {table}"  # noqa: S608 - fixed bench identifiers
        f" GROUP BY hash_record_extended(row({row}), 0) HAVING count(*) > 1) d"
    )


def _best(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATAWARP_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    from bench_server import bench_database

    with bench_database(args.database_url, "bench_gates") as url:
        _measure(url, args)


def _measure(url: str, args: argparse.Namespace) -> None:
    with connect(url, autocommit=True) as conn:
        upgrade(conn)
        conn.execute("DROP TABLE IF EXISTS staging.tbl_bench_gates")
        load_id = conn.execute(
            "INSERT INTO datawarp.tbl_load_events (source_code, period, period_kind)"
            " VALUES ('bench_gates', '2025-09', 'month') RETURNING load_id"
        ).fetchone()[0]
        started = time.perf_counter()
        conn.execute(BUILD, {"rows": args.rows, "load_id": load_id})
        conn.execute("VACUUM ANALYZE staging.tbl_bench_gates")
        print(f"built {args.rows:,} rows x 12 columns in {time.perf_counter() - started:.1f} s")
        table = "staging.tbl_bench_gates"
        count = _best(lambda: conn.execute(f"SELECT count(*) FROM {table}").fetchone(), args.repeat)  # noqa: S608
        hand = _best(lambda: conn.execute(_hand_written(table)).fetchone(), args.repeat)
        hand_dups = _best(lambda: conn.execute(_hand_written_duplicates(table)).fetchone(), 1)
        skip = GateSettings(duplicate_rows_max_rows=args.rows - 1)
        ctx = GateContext("bench_gates", "staging", "tbl_bench_gates", load_id, "2025-09",
                          "month", COLUMNS, settings=skip)  # fmt: skip
        gates = _best(lambda: run_gates(conn, ctx), args.repeat)
        ctx.settings = GateSettings(duplicate_rows_max_rows=args.rows)
        all_gates = _best(lambda: run_gates(conn, ctx), 1)
        names = [c.name for c in COLUMNS]
        rows = _best(lambda: duplicate_rows(conn, "staging", "tbl_bench_gates", load_id,
                                            "2025-09", names), 1)  # fmt: skip
        key = ["org_code", "snapshot_date"]
        dups = _best(lambda: duplicate_keys(conn, "staging", "tbl_bench_gates", "2025-09", key), 1)
        conn.execute("DROP TABLE staging.tbl_bench_gates")
    baseline = count + hand
    print(f"SELECT count(*)              {count:8.2f} s")
    print(f"hand-written aggregates      {hand:8.2f} s")
    print(f"baseline (sum)               {baseline:8.2f} s")
    print(f"run_gates, duplicate rows skipped {gates:8.2f} s = {gates / baseline:.2f}x baseline")
    print(f"run_gates, duplicate rows checked {all_gates:8.2f} s = {all_gates / baseline:.2f}x")
    print(f"hand-written duplicate rows  {hand_dups:8.2f} s")
    like = baseline + hand_dups
    print(
        f"baseline with it (sum)       {like:8.2f} s; gates with the check = {all_gates / like:.2f}x"
    )
    print(f"duplicate-key GROUP BY       {dups:8.2f} s   (extra, only with primary_key)")
    print(f"duplicate-row GROUP BY       {rows:8.2f} s   (in the line above)")


if __name__ == "__main__":
    main()
