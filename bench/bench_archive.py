"""Archive benchmark: DataWarp's verified archive vs a minimal COPY → pyarrow → Parquet script.

    python bench/bench_archive.py [--rows 1000000] [--big-rows 10000000] [--repeat 3]
                                  [--database-url URL]

Builds an NHS-shaped staging table (12 data columns: text, integers, numeric, date, and
DataWarp's provenance columns) with generate_series, then, against the same server, each step
in its own process so its peak memory (ru_maxrss) is its own:

  1. minimal: ``COPY (SELECT * ...) TO STDOUT (FORMAT csv)`` → pyarrow's streaming CSV reader
     with the same column types → ``ParquetWriter`` (zstd), nothing else;
  2. DataWarp: ``ops.lifecycle.archive_source`` of a deprecated source holding the same rows:
     numeric extents, export with the row hashes and value digest, the file read back and its
     values compared,
     the move to the archive schema, the metadata snapshot and the registry, in one
     transaction. Each repetition archives a fresh copy (an archived source stays archived).

Times are the median of --repeat runs at --rows; peak memory of both at --big-rows (0 skips).
Goal: DataWarp ≤ 1.5× the minimal script; peak memory under 400 MB at 10,000,000 rows.
Without --database-url it starts a throw-away embedded PostgreSQL.
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

TEMPLATE = """
CREATE UNLOGGED TABLE public.bench_template AS
SELECT to_char(date '2020-01-01' + (g % 60) * interval '1 month', 'YYYY-MM') AS period,
       'R' || lpad((g % 900)::text, 3, '0') AS org_code,
       'Trust number ' || (g % 900) || ' NHS Foundation Trust' AS org_name,
       (ARRAY['London', 'Midlands', 'North East and Yorkshire', 'South West'])[g % 4 + 1]
           AS region,
       (g % 50000)::integer AS attendances, (g % 7000)::integer AS admissions,
       (g % 1300)::integer AS breaches, (g % 20000)::integer AS referrals,
       (g % 3000)::integer AS waiting, (g % 800)::integer AS beds,
       round((g % 10000) / 97.0, (g % 3) + 1) AS occupancy,
       date '2020-01-01' + (g % 1800) AS snapshot_date,
       (g / 100000 + 1)::bigint AS _load_id,
       to_char(date '2020-01-01' + (g % 60) * interval '1 month', 'YYYY-MM') AS _period,
       'nhs_shaped.csv'::text AS _source_file, NULL::text AS _sheet,
       (g % 100000 + 2)::integer AS _row_number, false AS _is_total,
       timestamptz '2025-09-01 09:00:00+00' + (g / 100000) * interval '1 day' AS _loaded_at,
       NULL::text AS _level
  FROM generate_series(1, %s) g
"""


def _template_schema():
    import pyarrow as pa

    text, integer = pa.string(), pa.int32()
    return pa.schema([
        ("period", text), ("org_code", text), ("org_name", text), ("region", text),
        ("attendances", integer), ("admissions", integer), ("breaches", integer),
        ("referrals", integer), ("waiting", integer), ("beds", integer),
        ("occupancy", pa.decimal128(6, 3)), ("snapshot_date", pa.date32()),
        ("_load_id", pa.int64()), ("_period", text), ("_source_file", text), ("_sheet", text),
        ("_row_number", integer), ("_is_total", pa.bool_()),
        ("_loaded_at", pa.timestamp("us", tz="UTC")), ("_level", text),
    ])  # fmt: skip


def _minimal(url: str, folder: Path) -> int:
    """The least a script can do to stream the table to Parquet with the same types."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    schema = _template_schema()
    rows = 0
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cur,
        cur.copy("COPY public.bench_template TO STDOUT (FORMAT csv)") as copy,
        pq.ParquetWriter(folder / "minimal.parquet", schema, compression="zstd") as writer,
    ):
        reader = pa_csv.open_csv(
            _Chunks(copy),
            read_options=pa_csv.ReadOptions(column_names=schema.names, block_size=4 << 20),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict(zip(schema.names, schema.types, strict=True)),
                null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False,
                true_values=["t"], false_values=["f"],
            ),
        )  # fmt: skip
        for batch in reader:
            writer.write_batch(batch, 100_000)
            rows += batch.num_rows
    return rows


class _Chunks:
    """COPY's rows as a file (as small as a file adapter can be)."""

    def __init__(self, copy):
        self.copy, self.rest, self.closed = copy, b"", False

    def read(self, size: int = -1) -> bytes:
        parts, got = [self.rest], len(self.rest)
        while got < size:
            data = self.copy.read()
            if not data:
                break
            parts.append(data)
            got += len(data)
        block = b"".join(parts)
        self.rest = block[size:]
        return block[:size]


def _datawarp(url: str, folder: Path, code: str) -> tuple[int, dict[str, float]]:
    """The archive, with the time of its export and of its verification noted on the way."""
    from datawarp.catalog.connect import connect
    from datawarp.core.settings import Settings
    from datawarp.ops import parquet_export
    from datawarp.ops.archive_store import ArchiveStore
    from datawarp.ops.lifecycle import archive_source

    phases: dict[str, float] = {}
    for name in ("_write", "verify_file"):
        step = getattr(parquet_export, name)

        def timed(*args, _step=step, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _step(*args, **kwargs)
            finally:
                phases[_name] = time.perf_counter() - started

        setattr(parquet_export, name, timed)
    settings = Settings(database_url=url, home=folder)
    with connect(url) as conn:
        record = archive_source(conn, code, ArchiveStore.at(str(folder)), settings, force=True)
    return record["row_count"], {"export": phases["_write"], "verify": phases["verify_file"]}


def _child(argv: list[str]) -> None:
    kind, url, folder = argv[0], argv[1], Path(argv[2])
    started = time.perf_counter()
    if kind == "minimal":
        rows, phases = _minimal(url, folder), {}
    else:
        rows, phases = _datawarp(url, folder, argv[3])
    print(json.dumps({
        "seconds": time.perf_counter() - started, "rows": rows, "phases": phases,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))  # fmt: skip


def _measure(kind: str, url: str, folder: Path, code: str = "") -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, url, str(folder), code],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if output.returncode != 0:
        raise SystemExit(f"{kind} failed: {output.stderr.strip().splitlines()[-1:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def _fill(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.bench_template")
        conn.execute(TEMPLATE.replace("%s", str(int(rows))))
        conn.execute("VACUUM ANALYZE public.bench_template")


def _deprecated_copy(url: str, code: str) -> None:
    """A registered, deprecated source whose staging table holds the template's rows."""
    from datawarp.catalog.connect import connect

    with connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE staging.tbl_{code} AS TABLE public.bench_template")  # noqa: S608
        conn.execute(
            "INSERT INTO datawarp.tbl_data_sources (source_code, publication, domain, owner,"
            " purpose) VALUES (%s, 'Bench', 'Bench', 'bench@nhs.net', 'Benchmark')",
            (code,),
        )
        for status in ("active", "deprecated"):
            conn.execute(
                "UPDATE datawarp.tbl_data_sources SET status = %s, archive_after = current_date"
                " WHERE source_code = %s",
                (status, code),
            )
        conn.execute(f"VACUUM ANALYZE staging.tbl_{code}")  # noqa: S608


def _round(url: str, work: Path, code: str) -> tuple[dict, dict]:
    _deprecated_copy(url, code)
    minimal = _measure("minimal", url, work / f"min-{code}")
    datawarp = _measure("datawarp", url, work / f"dw-{code}", code)
    shutil.rmtree(work / f"min-{code}", ignore_errors=True)
    shutil.rmtree(work / f"dw-{code}", ignore_errors=True)
    with psycopg.connect(url, autocommit=True) as conn:  # keep the server's disk in check
        for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname ="
                                     " 'archive' AND tablename LIKE %s", (f"%{code}%",)).fetchall():  # fmt: skip
            conn.execute(
                psycopg.sql.SQL("DROP TABLE archive.{}").format(psycopg.sql.Identifier(table))
            )
    return minimal, datawarp


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATAWARP_BENCH_DATABASE_URL"))
    args = parser.parse_args()

    from bench_server import bench_database

    from datawarp.catalog.connect import connect
    from datawarp.catalog.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="dw-bench-archive-"))
    try:
        with bench_database(args.database_url, "bench_archive") as url:
            with connect(url, autocommit=True) as conn:
                upgrade(conn)
            _run(url, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(url: str, work: Path, args: argparse.Namespace) -> None:
    if args.repeat:
        _timings(url, work, args.rows, args.repeat)
    if args.big_rows:
        _fill(url, args.big_rows)
        big_min, big_dw = _round(url, work, "bench_big")
        print(f"{args.big_rows:,} rows, peak memory (ru_maxrss):")
        print(f"  minimal  {big_min['peak_mb']:6.0f} MB  {big_min['seconds']:7.1f} s")
        print(f"  DataWarp {big_dw['peak_mb']:6.0f} MB  {big_dw['seconds']:7.1f} s"
              "   (goal < 400 MB)")  # fmt: skip


def _timings(url: str, work: Path, rows: int, repeat: int) -> None:
    _fill(url, rows)
    runs = [_round(url, work, f"bench_{i}") for i in range(repeat)]
    minimal = statistics.median(m["seconds"] for m, _ in runs)
    datawarp = statistics.median(d["seconds"] for _, d in runs)
    export = statistics.median(d["phases"]["export"] for _, d in runs)
    verify = statistics.median(d["phases"]["verify"] for _, d in runs)
    print(f"{rows:,} rows, median of {repeat}:")
    print(f"  minimal COPY → pyarrow → Parquet  {minimal:7.2f} s")
    print(f"  DataWarp archive (verified, moved) {datawarp:7.2f} s"
          f"   {datawarp / minimal:.2f}× (goal ≤ 1.5×)")  # fmt: skip
    print(f"    of which export {export:.2f} s ({export / minimal:.2f}×),"
          f" read-back verification {verify:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
