"""The demo: what `datawarp demo` does on a fresh (usually embedded) database.

It registers NHS-shaped demo sources, generates their publication files locally with the
project's own generator (no network: two months of an A&E workbook whose layout drifts, the
same month as a Windows-1252 CSV, an RTT ZIP), loads them through a manifest exactly as a user
would, and reports what landed. Re-running is safe: registered sources are left as they are
and files already loaded are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datawarp.catalog import registry
from datawarp.catalog.database import Database
from datawarp.catalog.staging import table_summary
from datawarp.core.errors import ConflictError
from datawarp.core.naming import TableRef
from datawarp.core.settings import Settings
from datawarp.demo.samplegen import DEMO_SOURCES, write_demo_publication
from datawarp.pipeline.batch import BatchOptions, BatchReport, run_batch
from datawarp.pipeline.manifest import load_manifest


@dataclass
class LoadedTable:
    source_code: str
    table: str
    rows: int
    periods: list[str]
    columns: int


@dataclass
class DemoResult:
    manifest: Path
    registered: list[str] = field(default_factory=list)
    already_registered: list[str] = field(default_factory=list)
    report: BatchReport | None = None
    tables: list[LoadedTable] = field(default_factory=list)


def run_demo(database: Database, settings: Settings, *, hooks=None) -> DemoResult:
    folder = settings.home / "demo"
    manifest_path = folder / "manifest.yaml"
    if not manifest_path.is_file():  # generated once: a re-run finds the same bytes and skips
        manifest_path = write_demo_publication(folder)
    result = DemoResult(manifest_path)
    with database.connect() as conn:
        for spec in DEMO_SOURCES:
            try:
                registry.register_source(conn, **spec)
                result.registered.append(spec["source_code"])
            except ConflictError:
                result.already_registered.append(spec["source_code"])
    result.report = run_batch(
        database,
        settings,
        load_manifest(manifest_path),
        BatchOptions(),
        hooks=hooks,
    )
    with database.connect() as conn:
        result.tables = [_describe_table(conn, spec["source_code"]) for spec in DEMO_SOURCES]
    return result


def _describe_table(conn, source_code: str) -> LoadedTable:
    target = TableRef.for_source(source_code)
    summary = table_summary(conn, target)
    if summary is None:
        return LoadedTable(source_code, str(target), 0, [], 0)
    return LoadedTable(
        source_code, str(target), summary.rows, summary.periods, summary.data_columns
    )
