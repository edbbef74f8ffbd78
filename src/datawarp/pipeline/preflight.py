"""Pre-load checks (preflight): everything that can be known wrong before any data moves, reported at once.

Checks: the source filter names a manifest source; every source is registered (unless
``--test``) and not archived; every path exists and every URL answers. Deprecated sources load
with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datawarp.catalog import registry
from datawarp.core.errors import DataWarpError, InputProblems
from datawarp.core.vocabulary import LoadMode, PeriodSource, SourceStatus
from datawarp.pipeline.fetch import check_reachable
from datawarp.pipeline.manifest import NO_PERIOD, FileEntry, Manifest, SourceEntry

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class FileTask:
    source: SourceEntry
    entry: FileEntry
    registered: registry.SourceRecord | None
    manifest_path: str | None = None
    # (title, load id): a file with no banner takes the first block title of that load
    inherited_block_title: tuple[str, int] | None = None

    def manifest_entry(self) -> dict:
        """The source's manifest entry narrowed to this file, as the load event keeps it (so
        ``datawarp loads retry`` can load the same file the same way)."""
        source = self.source.model_dump(mode="json", exclude={"files", "url", "path", "period"})
        file = self.entry.model_dump(mode="json", exclude_none=True)
        if self.entry.period_source == PeriodSource.NONE:
            file["period"] = NO_PERIOD
        found = {"period_kind": self.entry.period_kind, "period_source": self.entry.period_source}
        return {**source, "files": [{**file, **found}]}

    @property
    def location(self) -> str:
        return self.entry.url or self.entry.path or ""

    @property
    def sheet(self) -> str | None:
        return self.entry.sheet or self.source.sheet

    @property
    def member(self) -> str | None:
        return self.entry.member or self.source.member

    @property
    def fill_down(self) -> list[str]:
        """The file's own ``fill_down`` (``[]`` turns the source's off), else the source's."""
        return self.source.fill_down if self.entry.fill_down is None else self.entry.fill_down

    @property
    def block_title(self) -> str | None:
        """The block_title for the rows of a file with no banner: the file's, else the
        source's, else the one taken from an earlier load (``pipeline.block_title``)."""
        given = self.entry.block_title or self.source.block_title
        inherited = self.inherited_block_title
        return given or (inherited[0] if inherited else None)

    @property
    def load_mode(self) -> str:
        return self.registered.load_mode if self.registered else LoadMode.APPEND


@dataclass
class Preflight:
    tasks: list[FileTask] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def not_registered_message(source_code: str) -> str:
    return f"Source {source_code} not registered. Use --test flag for experiments."


def preflight(
    conn: psycopg.Connection,
    manifest: Manifest,
    *,
    test: bool = False,
    only_source: str | None = None,
    check_urls: bool = True,
) -> Preflight:
    problems: list[str] = []
    checked = Preflight()
    sources = manifest.sources
    if only_source is not None:
        sources = [s for s in sources if s.source_code == only_source]
        if not sources:
            known = ", ".join(s.source_code for s in manifest.sources)
            raise InputProblems([f"--source {only_source}: not in the manifest (it has: {known})"])
    for source in sources:
        record = _registered(conn, source.source_code, test, problems, checked.warnings)
        if record is False:
            continue
        for entry in source.files:
            problem = _reachability_problem(entry, check_urls)
            if problem:
                problems.append(f"{source.source_code}: {problem}")
            where = str(manifest.path) if manifest.path else None
            checked.tasks.append(FileTask(source, entry, record or None, where))
    if problems:
        raise InputProblems(problems)
    return checked


def _registered(conn, source_code, test, problems, warnings):
    """The registry row, None for an allowed unregistered test load, False when refused."""
    try:
        record = registry.get_source(conn, source_code)
    except DataWarpError:
        if test:
            return None
        problems.append(not_registered_message(source_code))
        return False
    if record.status == SourceStatus.ARCHIVED and not test:
        problems.append(f"Source {source_code} is archived; archived sources cannot be loaded")
        return False
    if record.status == SourceStatus.DEPRECATED:
        reason = f" ({record.deprecation_reason})" if record.deprecation_reason else ""
        warnings.append(f"Source {source_code} is deprecated{reason}; loading it anyway")
    return record


def _reachability_problem(entry: FileEntry, check_urls: bool) -> str | None:
    if entry.url and not check_urls:
        return None
    try:
        check_reachable(entry.url or entry.path or "")
    except DataWarpError as exc:
        return exc.message
    return None
