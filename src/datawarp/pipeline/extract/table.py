"""Find the table in a sheet: title block, banner, header rows, columns and side-by-side blocks.

Detection looks only at a bounded window of leading rows (``WINDOW_ROWS``); the rows after it
are streamed by ``table_rows.TableReader``. The decisions, in the order they are made:

* **Header row.** The first row (outside a ``Title:``-style key-value block) with at least
  two labels, at least half as wide as the widest row of the window, without wide gaps, and
  with no more than a stray number: title lines and banners are narrow, data rows hold
  numbers. (A one-column CSV needs one label; a one-column sheet is notes, not a table.)
  A row of months ('Service | Apr-25 | May-25 …', as text or Excel dates) is a header too
  when a label starts it and the row below holds numbers under the months: the table is
  wide by month, and a warning says so.
* **Band rows** above it (at most two) join the header when they are labels only. A banner
  ('Provider Level Data', or any lone label saying 'Level Data'), a title sentence at the
  table's left edge running over empty cells, or a row with a stray count (the '227' beside a
  banner) is never part of the header, so it never reaches a column name. A group row
  separated from the header by title or note lines joins it when it tells apart columns the
  header names alike (``header_bands``).
* **Names.** A band is carried right over the columns below it (Excel merges leave only the
  first cell filled) until the next band or a spacer column; a band label written in an
  empty spacer column belongs to the group on its right. A column's name joins every level
  of its header (``column_names``). Any text in a header row names its column, even 'C' or
  'NA', which would be markers in the data.
* **Columns.** A column without any header text is a spacer and is dropped unless the data
  holds labels there or fills most of it (then it loads as ``column_<letter>``, with a warning).
* **Side-by-side blocks.** When spacer columns split the header into groups that each start
  with the same label ('Monthly', 'Period'), the groups are blocks of one shape; they are
  stacked into one long table, with the blocks' titles in leading ``block_title`` columns.
  One block under a banner has the banner as its ``block_title`` the same way, so editions
  of a publication with one block and with two name their rows alike.
* **Metadata.** ``Key: value`` lines above the header are kept (Title, Period, Source…), and
  so are untitled lines (first as ``Title``) and banners (``Banner``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.column_names import table_names
from datawarp.pipeline.extract.header import (
    MAX_BAND_ROWS,
    Window,
    cell_at,
    cell_text,
    column_letter,
    column_range,
    column_text,
    data_sample,
    filled,
    header_parts,
    header_position,
    heading_text,
    is_band_row,
    is_heading,
    is_label,
    is_navigation,
    kept_columns,
    key_value,
    period_columns,
    side_by_side,
    spacers,
    titles_per_block,
)
from datawarp.pipeline.extract.header_bands import (
    banner_above,
    distant_group_row,
    shift_group_labels,
)
from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.values import TEXT

__all__ = [
    "WINDOW_ROWS",
    "Block",
    "NoTableError",
    "TableColumn",
    "TableLayout",
    "detect_layout",
    "with_block_title",
]

WINDOW_ROWS = 100
_WIDE_BY_MONTH = 3  # columns headed by months that make a table wide by month
_COPYRIGHT = re.compile(r"(?i)\s*(copyright\b|\u00a9)")


@dataclass(frozen=True)
class TableColumn:
    """One output column: where it comes from and what it is called."""

    name: str
    original_header: str
    sheet_column: int | None  # 0-based column of the first block; None for a block title


@dataclass(frozen=True)
class Block:
    """One side-by-side block: its sheet columns and the title cells above it."""

    sheet_columns: tuple[int, ...]
    titles: tuple[str | None, ...]


@dataclass
class TableLayout:
    """Where the table is and how to read it; rows after ``first_data_row`` are streamed."""

    header_rows: list[int]
    first_data_row: int | None
    columns: list[TableColumn]
    blocks: list[Block]
    label_columns: tuple[int, ...] = ()  # positions in ``columns`` the totals rule reads
    metadata: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    header_width: int = 0  # fields in the header record (the ragged-CSV check uses it)
    block_title_count: int = 0  # leading title columns of a stacked table

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


class NoTableError(BadInputError):
    """A sheet holds no recognisable table (a cover, notes or an empty sheet)."""


# ---------------------------------------------------------------------------------------------
# The layout


def detect_layout(
    rows: Sequence[tuple[int, list[object]]], *, sheet_label: str, is_csv: bool = False
) -> TableLayout:
    """Find the table in the leading rows of a sheet (``rows`` is the look-ahead window).

    In a CSV the header record fixes the width: fields beyond it are ragged, not a column.
    """
    window = Window([(number, list(cells)) for number, cells in rows])
    header = header_position(window, is_csv=is_csv)
    if header is None:
        raise NoTableError(f"{sheet_label}: no table found (no row of column headers)")
    header_cells = window.cells(header)
    sample = data_sample(window, header)
    columns = column_range(header_cells, sample)
    if is_csv:
        columns = range(columns.start, min(columns.stop, len(header_cells)))
    first_label = min(index for index in filled(header_cells) if is_heading(header_cells[index]))
    band_positions = _band_positions(window, header, first_label)
    band_rows = shift_group_labels(
        [window.cells(position) for position in band_positions], header_cells, columns, sample
    )
    layout = TableLayout(
        header_rows=[window.number(position) for position in [*band_positions, header]],
        first_data_row=_first_data_row(window, header),
        columns=[],
        blocks=[],
        header_width=len(header_cells),
    )
    _read_title_block(window, header, set(band_positions), layout)
    kept = kept_columns(columns, spacers(band_rows, header_cells, columns), sample, layout.warnings)
    if not kept:
        raise NoTableError(f"{sheet_label}: no table found (the header row names no columns)")
    blocks = side_by_side(kept, header_cells)
    if blocks:
        bands = list(zip(band_positions, band_rows, strict=True))
        _stack_blocks(window, bands, header_cells, blocks, layout)
    else:
        top = band_positions[0] if band_positions else header
        banner = banner_above(window, top, first_label)
        _one_block(band_rows, header_cells, kept, banner, layout)
    _note_months(header_cells, kept, layout)
    layout.label_columns = _label_columns(layout, sample)
    if layout.first_data_row is None:
        layout.warnings.append(f"{sheet_label}: the table has a header but no data rows")
    return layout


def _one_block(
    band_rows: list[list[object]],
    header_cells: list[object],
    kept: list[int],
    banner: tuple[int, str] | None,
    layout: TableLayout,
) -> None:
    """One table; a banner over it ('England Level Data') is its ``block_title`` column."""
    parts = header_parts(band_rows, header_cells, kept)
    texts = [column_text(parts[index], index) for index in kept]
    titles = [["block_title"]] if banner else []
    names = table_names(titles + [levels for levels, _ in texts])
    originals = [f"(title above the table, row {banner[0]})"] if banner else []
    originals += [original for _, original in texts]
    sheet_columns = [None] * len(titles) + list(kept)
    layout.columns = [
        TableColumn(name, original, sheet_column)
        for name, original, sheet_column in zip(names, originals, sheet_columns, strict=True)
    ]
    layout.blocks = [Block(tuple(kept), (banner[1],) if banner else ())]
    layout.block_title_count = len(titles)


def with_block_title(layout: TableLayout, title: str, original: str) -> TableLayout:
    """The layout of a one-block table with no banner, its rows titled ``title``: a leading
    ``block_title`` column, as a banner over it makes (``_one_block``). Any other layout (its
    own block titles, side-by-side blocks, a ``block_title`` column) is returned unchanged."""
    if layout.block_title_count or len(layout.blocks) != 1 or "block_title" in layout.column_names:
        return layout
    return replace(
        layout,
        columns=[TableColumn("block_title", original, None), *layout.columns],
        blocks=[Block(layout.blocks[0].sheet_columns, (title,))],
        block_title_count=1,
        label_columns=tuple(position + 1 for position in layout.label_columns),
    )


def _note_months(header_cells: list[object], kept: list[int], layout: TableLayout) -> None:
    months = period_columns(header_cells, kept)
    if len(months) < _WIDE_BY_MONTH:
        return
    first, last = (heading_text(header_cells[index]) for index in (months[0], months[-1]))
    layout.warnings.append(
        f"the table is wide by month: {len(months)} columns are headed by months or dates "
        f"({first} to {last}, columns {column_letter(months[0])} to "
        f"{column_letter(months[-1])}); a later month will arrive as a new column"
    )


def _band_positions(window: Window, header: int, first_column: int) -> list[int]:
    header_cells = window.cells(header)
    positions: list[int] = []
    position = header - 1
    while position >= 0 and len(positions) < MAX_BAND_ROWS:
        cells = window.cells(position)
        if not filled(cells):
            above = window.cells(position - 1) if position > 0 else []
            if positions or not _is_block_title_row(above, header_cells):
                break
            position -= 1  # a blank line between block titles and the header (CWT referrals)
            continue
        if not is_band_row(cells, header_cells, first_column):
            break
        positions.insert(0, position)
        position -= 1
    top = positions[0] if positions else header
    band_rows = [window.cells(p) for p in positions]
    group = distant_group_row(window, top, band_rows, header_cells, first_column)
    return positions if group is None else [group, *positions]


def _is_block_title_row(cells: list[object], header_cells: list[object]) -> bool:
    """Titles over side-by-side blocks: labels only above columns that repeat the first label."""
    positions = filled(cells)
    first = next((cell_text(cell) for cell in header_cells if is_label(cell)), None)
    if len(positions) < 2 or first is None:
        return False
    starts = {
        index
        for index, cell in enumerate(header_cells)
        if (cell_text(cell) or "").casefold() == first.casefold()
    }
    return len(starts) >= 2 and all(
        index in starts and is_label(cells[index]) for index in positions
    )


def _first_data_row(window: Window, header: int) -> int | None:
    for position in range(header + 1, len(window.rows)):
        if filled(window.cells(position)):
            return window.number(position)
    return None


def _read_title_block(window: Window, header: int, bands: set[int], layout: TableLayout) -> None:
    for position in range(header):
        if position in bands:
            continue
        cells = window.cells(position)
        pair = key_value(cells)
        if pair is not None:
            layout.metadata.setdefault(*pair)
            continue
        positions = filled(cells)
        text = cell_text(cells[positions[0]]) if positions else None
        if text is None or is_navigation(text):
            continue
        if len(positions) == 1 or not is_label(cells[positions[-1]]):
            if _COPYRIGHT.match(text):
                key = "Copyright"
            else:
                key = "Title" if "Title" not in layout.metadata else "Banner"
            layout.metadata.setdefault(key, text)


def _stack_blocks(
    window: Window,
    bands: list[tuple[int, list[object]]],
    header_cells: list[object],
    blocks: list[list[int]],
    layout: TableLayout,
) -> None:
    """Side-by-side blocks of one shape become one long table with block title columns."""
    starts = ", ".join(column_letter(block[0]) for block in blocks)
    title_positions = [
        position for position, cells in bands if titles_per_block(cells, blocks) is not None
    ]
    band_rows = [cells for position, cells in bands if position not in title_positions]
    shapes = set()
    block_texts = []
    for block in blocks:
        parts = header_parts(band_rows, header_cells, block)
        texts = [column_text(parts[index], index) for index in block]
        shapes.add(tuple(table_names([levels for levels, _ in texts])))
        block_texts.append(texts)
    if len(shapes) > 1:
        raise BadInputError(
            f"side-by-side blocks of different shapes (starting at columns {starts}); "
            "DataWarp can only stack blocks with the same columns"
        )
    if title_positions:
        title_names = ["block_title"] + [
            f"block_subtitle_{n}" if n > 1 else "block_subtitle"
            for n in range(1, len(title_positions))
        ]
        title_originals = [
            f"(title above each block, row {window.number(p)})" for p in title_positions
        ]
        titles_by_row = [
            titles_per_block(cells, blocks) or [] for p, cells in bands if p in title_positions
        ]
        block_titles = [
            tuple(row[number] for row in titles_by_row) for number in range(len(blocks))
        ]
    else:
        title_names, title_originals = ["block"], ["(block number, left to right)"]
        block_titles = [(str(number),) for number in range(1, len(blocks) + 1)]
    texts = block_texts[0]
    names = table_names([[title] for title in title_names] + [levels for levels, _ in texts])
    originals = title_originals + [original for _, original in texts]
    sheet_columns = [None] * len(title_names) + list(blocks[0])
    layout.columns = [
        TableColumn(name, original, sheet_column)
        for name, original, sheet_column in zip(names, originals, sheet_columns, strict=True)
    ]
    layout.blocks = [
        Block(tuple(block), titles) for block, titles in zip(blocks, block_titles, strict=True)
    ]
    layout.block_title_count = len(title_names)
    layout.warnings.append(
        f"{len(blocks)} side-by-side blocks (starting at columns {starts}) stacked into one "
        f"table; column '{names[0]}' says which block each row came from"
    )


def _label_columns(layout: TableLayout, sample: list[list[object]]) -> tuple[int, ...]:
    """Text columns (in the sampled rows): where 'England' or 'Total' can mark a totals row."""
    labels = []
    offset = layout.block_title_count
    for position, sheet_column in enumerate(layout.blocks[0].sheet_columns):
        profile = ColumnProfile()
        for cells in sample:
            profile.observe(cell_at(cells, sheet_column))
        if profile.pg_type == TEXT and not profile.is_fully_suppressed:
            labels.append(offset + position)
    return tuple(labels)
