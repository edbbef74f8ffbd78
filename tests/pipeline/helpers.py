"""Building manifests and NHS-shaped CSVs for loader tests, and running batches."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from datawarp.catalog import registry
from datawarp.catalog.database import database_for_url, make_ready
from datawarp.core.notifications import Notification
from datawarp.core.settings import Settings
from datawarp.pipeline.batch import BatchOptions, BatchReport, run_batch
from datawarp.pipeline.manifest import load_manifest

HEADER = ["Period", "Org Code", "Org Name", "Attendances", "Over 4 hours"]


def provider_rows(period: str, count: int = 12, *, scale: int = 1) -> list[list[object]]:
    rows = [
        [period, f"R{index:02d}", f"Trust number {index}", 100 * index * scale, index * scale]
        for index in range(1, count + 1)
    ]
    total = [period, "-", "England", sum(r[3] for r in rows), sum(r[4] for r in rows)]
    return [*rows, total]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_manifest(folder: Path, sources: list[dict], **top) -> Path:
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump({**top, "sources": sources}, sort_keys=False))
    return path


def provider_manifest(folder: Path, code: str, *, period: str | None = None) -> Path:
    """One provider CSV (12 trusts and an England row) and a manifest loading it into ``code``."""
    data = write_csv(folder / "a.csv", HEADER, provider_rows("2025-09"))
    top = {"period": period} if period else {}
    return write_manifest(folder, [{"source_code": code, "path": data.name}], **top)


def reissued_manifest(folder: Path, code: str, *, period: str = "2025-09") -> Path:
    """The same provider rows in two files (the second re-issued under another name, written
    differently, so its bytes differ) for one period: duplicate data that no --force replaces."""
    first = write_csv(folder / "a.csv", HEADER, provider_rows(period))
    second = folder / "a-reissued.csv"
    with second.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([HEADER, *provider_rows(period)])
    files = [{"path": first.name}, {"path": second.name}]
    return write_manifest(folder, [{"source_code": code, "files": files}], period=period)


ADHD_MI = dict(
    source_code="adhd_mi",
    publication="ADHD Management Information",
    domain="Clinical - Mental Health",
    owner="someone@nhs.net",
    purpose="Track ADHD referral waiting times",
)


def register(conn, code: str, **fields) -> registry.SourceRecord:
    values = dict(
        source_code=code,
        publication="A&E Attendances",
        domain="Urgent and Emergency Care",
        owner="owner@nhs.net",
        purpose="Test loads",
    )
    values.update(fields)
    return registry.register_source(conn, **values)


def run(
    db_url: str, home: Path, manifest: Path, **options
) -> tuple[BatchReport, list[Notification]]:
    """Load a manifest as load-batch does; returns the report and the notifications written."""
    settings = Settings(database_url=db_url, home=home, **options.pop("settings", {}))
    database = database_for_url(db_url)
    make_ready(database)  # as load-batch does before loading
    report = run_batch(
        database,
        settings,
        load_manifest(manifest),
        BatchOptions(**options),
    )
    return report, report.notifications


def table_rows(conn, table: str, columns: str = "*", order: str = "_row_number") -> list[tuple]:
    return conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()  # noqa: S608


def events(conn, source_code: str) -> list[dict]:
    cur = conn.execute(
        "SELECT load_id, load_status, rows_loaded, columns_added, period, period_kind,"
        " file_sha256, file_bytes, target_schema, error_message, interrupted"
        " FROM datawarp.tbl_load_events WHERE source_code = %s ORDER BY load_id",
        (source_code,),
    )
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def table_exists(conn, qualified: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,)).fetchone()[0]
