"""``datawarp inspect``: fetch a file, extract its table, and report what would load.

``open_table`` is the two stages in one call (fetch, then extract), for inspect, tests and
scripts; the loader calls them separately so it can fingerprint the file in between.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from datawarp.core.settings import load_settings
from datawarp.pipeline.extract.engine import (
    ExtractedColumn,
    ExtractedLayout,
    ExtractedTable,
    open_fetched,
)
from datawarp.pipeline.extract.sheets import UNREAD, SheetCandidate
from datawarp.pipeline.fetch import fetch

LISTED_TOTAL_ROWS = 100  # inspect lists the first rows marked as totals, then counts the rest


def open_table(
    location: str,
    *,
    sheet: str | None = None,
    member: str | None = None,
    cache_dir: Path | None = None,
    max_bytes: int | None = None,
    fill_down: Sequence[str] = (),
) -> ExtractedTable:
    """Fetch ``location`` (path, ``file://`` or http(s) URL), find its table and profile it.

    ``sheet`` names the worksheet (default: the first visible sheet holding a table, with
    ``sheet_candidates`` and a warning when several do); ``member`` picks a file inside a ZIP
    (exact name or glob); ``fill_down`` as in a manifest. Raises ``BadInputError`` (or
    ``NotFoundError``) with a one-line message when there is nothing loadable.
    """
    fetch_options = {} if max_bytes is None else {"max_bytes": max_bytes}
    source = fetch(location, cache_dir=cache_dir or load_settings().cache_dir, **fetch_options)
    return open_fetched(source, sheet=sheet, member=member, fill_down=fill_down)


@dataclass(frozen=True)
class SheetReport:
    name: str
    hidden: bool
    kind: str  # data, cover, contents, notes, chart, empty, or unread (another was named)
    has_table: bool | None  # None: not read
    chosen: bool


@dataclass(frozen=True)
class InspectReport:
    """Everything ``datawarp inspect`` shows; ``to_dict`` is its JSON form."""

    file: str
    location: str
    sha256: str
    size: int
    format: str
    member: str | None
    encoding: str | None
    delimiter: str | None
    sheets: list[SheetReport]
    sheet: str
    sheet_ambiguous: bool
    sheet_candidates: list[SheetCandidate]  # several sheets hold tables: a load needs sheet:
    layout: ExtractedLayout
    columns: list[ExtractedColumn]
    row_count: int
    total_row_count: int
    total_rows: list[int]  # the first LISTED_TOTAL_ROWS of them
    row_levels: dict[str, int]  # rows per _level, coarsest first; {} when one level only
    metadata: dict[str, str]
    warnings: list[str]
    filled_down: dict[str, int]  # fill_down: empty cells that took the value above, by column

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def inspect(
    location: str,
    *,
    sheet: str | None = None,
    member: str | None = None,
    cache_dir: Path | None = None,
    fill_down: Sequence[str] = (),
) -> InspectReport:
    """What DataWarp would load from ``location``: sheets, table, columns, totals, warnings."""
    table = open_table(
        location, sheet=sheet, member=member, cache_dir=cache_dir, fill_down=fill_down
    )
    return report_for(table)


def report_for(table: ExtractedTable) -> InspectReport:
    return InspectReport(
        file=table.source.name,
        location=table.source.location,
        sha256=table.source.sha256,
        size=table.source.size,
        format=table.format,
        member=table.member,
        encoding=table.encoding,
        delimiter=table.delimiter,
        sheets=[
            SheetReport(
                s.name,
                s.hidden,
                s.kind,
                None if s.kind == UNREAD else s.layout is not None,
                s.name == table.sheet,
            )
            for s in table.sheets
        ],
        sheet=table.sheet,
        sheet_ambiguous=table.sheet_ambiguous,
        sheet_candidates=table.sheet_candidates,
        layout=table.layout,
        columns=table.columns,
        row_count=table.row_count,
        total_row_count=len(table.total_rows),
        total_rows=table.total_rows[:LISTED_TOTAL_ROWS],
        row_levels=table.row_levels,
        metadata=table.metadata,
        warnings=table.warnings,
        filled_down=table.filled_down,
    )
