"""Rows per second of DataWarp's CSV reader against a bare ``csv.reader`` loop.

Generates an NHS-style CSV (default 1,000,000 rows x 12 columns, a few empty cells) in a
temporary folder, then reads it both ways. Usage: ``python bench/bench_read.py [rows]``.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

from datawarp.pipeline.extract.formats import open_workbook

COLUMNS = 12


def write_sample(path: Path, rows: int) -> None:
    rng = random.Random(7)
    orgs = [f"R{rng.randrange(100, 999)}" for _ in range(200)]
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        measure_names = [f"Measure {i}" for i in range(COLUMNS - 3)]
        writer.writerow(["Period", "Org Code", "Org Name", *measure_names])
        for number in range(rows):
            org = orgs[number % len(orgs)]
            measures = [str(rng.randrange(0, 50_000)) for _ in range(8)]
            suppressed = "" if number % 7 == 0 else f"{rng.random() * 100:.1f}"
            writer.writerow(["2024-01", org, f"{org} NHS Trust, Hospital", *measures, suppressed])


def time_plain_reader(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with open(path, encoding="utf-8", newline="") as source:
        for _ in csv.reader(source):
            count += 1
    return count, time.perf_counter() - started


def time_datawarp_reader(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with open_workbook(path, display_name=path.name) as book:
        for _ in book.iter_rows(book.sheets[0].name):
            count += 1
    return count, time.perf_counter() - started


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="datawarp-bench-") as folder:
        path = Path(folder) / "bench.csv"
        write_sample(path, rows)
        size_mb = path.stat().st_size / 1024**2
        print(f"{rows:,} rows x {COLUMNS} columns, {size_mb:.0f} MiB")
        readers = {"csv.reader": time_plain_reader, "datawarp": time_datawarp_reader}
        for label, read in readers.items():
            count, seconds = read(path)
            print(f"{label:>11}: {count:,} rows in {seconds:.2f} s = {count / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
