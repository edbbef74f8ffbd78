"""Extraction speed and memory: the engine against the raw readers it is built on.

    python bench/bench_extract.py            # 100,000 x 12 xlsx and 1,000,000-row CSV
    python bench/bench_extract.py --quick    # 10x smaller, for a smoke run
    python bench/bench_extract.py --csv-only --python-path --repeat 3

Generates an NHS-shaped xlsx (openpyxl write-only; slow, so cached in the temp folder) and
CSV, then times each reader in its own subprocess so every peak-memory figure (ru_maxrss)
is that reader's alone. "engine" is ``open_table`` (pass 1: detect and profile every row)
plus pass 2 (convert every row) as load-batch runs it, i.e. everything the loader does short
of COPY: for the CSV and a workbook table of a million cells or more the typed Arrow batches
(``iter_arrow_batches``), for a smaller workbook table the rows (``iter_batches``), as the
loader chooses. ``--python-path`` also times the CSV engine with
DATAWARP_NO_ARROW=1. Goals: engine time <= 1.5x the raw reader's; CSV peak memory < 400 MB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

XLSX_ROWS, CSV_ROWS, COLUMNS = 100_000, 1_000_000, 12
CACHE = Path(tempfile.gettempdir()) / "datawarp-bench"
HEADER = [
    "Period", "Org Code", "Parent Org", "Org Name", "Attendances Type 1", "Attendances Type 2",
    "Attendances Other", "Over 4hrs Type 1", "Over 4hrs Type 2", "Emergency Admissions",
    "Percentage in 4 hours", "Median wait (mins)",
]  # fmt: skip
REGIONS = ["NHS ENGLAND LONDON", "NHS ENGLAND MIDLANDS", "NHS ENGLAND NORTH WEST "]


def nhs_row(number: int, rng: random.Random) -> list[object]:
    """A provider row: codes and names repeat, counts vary, a few cells are suppressed."""
    org = number % 250
    type_1 = rng.randrange(0, 20_000)
    return [
        dt.date(2010 + number % 14, 1 + number % 12, 1),
        f"R{org:03d}",
        REGIONS[org % 3],
        f"PROVIDER {org} NHS FOUNDATION TRUST",
        type_1,
        rng.randrange(0, 900),
        "*" if number % 97 == 0 else rng.randrange(0, 9_000),
        rng.randrange(0, type_1 + 1),
        rng.randrange(0, 50),
        rng.randrange(0, 6_000),
        round(rng.random(), 4),
        round(rng.uniform(60, 400), 1),
    ]


def make_xlsx(rows: int) -> Path:
    path = CACHE / f"provider_{rows}x{COLUMNS}.xlsx"
    if path.exists():
        return path
    import openpyxl  # only needed to generate

    CACHE.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Provider Data")
    sheet.append(["Title:", "Bench provider data"])
    sheet.append(["Period:", "2010 - 2023"])
    sheet.append([])
    sheet.append(HEADER)
    rng = random.Random(1)
    for number in range(rows):
        sheet.append(nhs_row(number, rng))
    partial = path.with_suffix(".partial.xlsx")
    book.save(partial)
    partial.rename(path)
    return path


def make_csv(rows: int) -> Path:
    path = CACHE / f"provider_{rows}.csv"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2)
    partial = path.with_suffix(".partial")
    with open(partial, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for number in range(rows):
            row = nhs_row(number, rng)
            row[0] = row[0].strftime("%d/%m/%Y")
            writer.writerow(row)
    partial.rename(path)
    return path


# ---------------------------------------------------------------------------------------------
# Readers (each runs in a fresh subprocess)


def read_calamine(path: Path) -> int:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return sum(1 for _ in book.get_sheet_by_index(0).iter_rows())


def read_fastexcel(path: Path) -> int:
    import fastexcel

    return fastexcel.read_excel(str(path)).load_sheet(0, header_row=3).height


def read_csv_module(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as stream:
        return sum(1 for _ in csv.reader(stream))


def read_pyarrow(path: Path) -> int:
    import pyarrow.csv

    return pyarrow.csv.read_csv(path).num_rows


def read_engine(path: Path) -> int:
    """Both passes, as load-batch runs them: typed Arrow batches for a plain CSV (the fast
    path), Python tuples for anything else."""
    from datawarp.pipeline.inspect import open_table

    table = open_table(str(path))
    if table.supports_arrow:
        return sum(batch.num_rows for batch in table.iter_arrow_batches())
    return sum(len(batch) for batch in table.iter_batches())


def read_engine_python(path: Path) -> int:
    """The Python path (the reference the fast path is checked against)."""
    os.environ["DATAWARP_NO_ARROW"] = "1"
    return read_engine(path)


READERS = {
    "calamine": read_calamine,
    "fastexcel": read_fastexcel,
    "csv module": read_csv_module,
    "pyarrow.csv": read_pyarrow,
    "engine": read_engine,
    "engine (py)": read_engine_python,
}


IMPORTS = {  # what each reader imports, timed apart from the reading
    "calamine": ["python_calamine"],
    "fastexcel": ["fastexcel"],
    "csv module": [],
    "pyarrow.csv": ["pyarrow.csv"],
    "engine": ["datawarp.pipeline.extract.engine"],
    "engine (py)": ["datawarp.pipeline.extract.engine"],
}


def measure(reader: str, path: Path) -> dict:
    started = time.perf_counter()
    for module in IMPORTS[reader]:
        importlib.import_module(module)
    imported = time.perf_counter()
    rows = READERS[reader](path)
    finished = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "rows": rows,
        "seconds": finished - imported,
        "import_seconds": imported - started,
        "peak_mb": peak_kib / 1024,
    }


def in_subprocess(reader: str, path: Path, repeat: int) -> dict | None:
    """The best of ``repeat`` runs, each in a fresh process (the machine is shared and noisy)."""
    runs = []
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, __file__, "--measure", reader, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"  {reader:<12} skipped: {reason}")
            return None
        runs.append(json.loads(result.stdout))
    best = min(runs, key=lambda run: run["seconds"])
    best["peak_mb"] = max(run["peak_mb"] for run in runs)
    return best


def compare(
    title: str, path: Path, raw_readers: list[str], engines: list[str], repeat: int
) -> None:
    print(f"\n{title}: {path.name} ({path.stat().st_size / 1e6:,.1f} MB), best of {repeat}")
    figures = {name: in_subprocess(name, path, repeat) for name in [*raw_readers, *engines]}
    base = figures.get(raw_readers[0])
    print(f"  {'':<12} {'rows':>14}  {'read s':>7}  {'rows/s':>11}  {'ratio':>6}  "
          f"{'+import s':>9}  {'ratio':>6}  peak")  # fmt: skip
    for name, figure in figures.items():
        if figure is None:
            continue
        total = figure["seconds"] + figure["import_seconds"]
        ratio = f"{figure['seconds'] / base['seconds']:5.2f}x" if base else ""
        base_total = base["seconds"] + base["import_seconds"] if base else None
        total_ratio = f"{total / base_total:5.2f}x" if base_total else ""
        print(
            f"  {name:<12} {figure['rows']:>10,} rows  {figure['seconds']:7.2f}  "
            f"{figure['rows'] / figure['seconds']:>11,.0f}  {ratio:>6}  "
            f"{total:9.2f}  {total_ratio:>6}  {figure['peak_mb']:4.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller files")
    parser.add_argument(
        "--python-path", action="store_true", help="also time the CSV engine without the fast path"
    )
    parser.add_argument("--csv-only", action="store_true", help="skip the xlsx comparison")
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader (best counts)")
    parser.add_argument("--measure", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    from bench_server import compile_datawarp

    compile_datawarp()
    scale = 10 if args.quick else 1
    print("generating (cached in", CACHE, ")...", flush=True)
    if not args.csv_only:
        xlsx = make_xlsx(XLSX_ROWS // scale)
        compare("xlsx", xlsx, ["calamine", "fastexcel"], ["engine"], args.repeat)
    csv_engines = ["engine", "engine (py)"] if args.python_path else ["engine"]
    csv_file = make_csv(CSV_ROWS // scale)
    compare("CSV", csv_file, ["pyarrow.csv", "csv module"], csv_engines, args.repeat)
    print(
        "\nread s: the reading alone; +import s: with the reader's imports. ratio: against the"
        " first raw reader (xlsx: calamine, CSV: pyarrow.csv.read_csv, what the engines build on)"
    )


if __name__ == "__main__":
    main()
