"""Rows above a header that are not next to it, or not what they first seem.

``table.detect_layout`` asks these after finding the header and the band rows right above it:

* **A distant group row.** A row of group labels (one per question, per dose) separated from
  the header by a title or a note line is still a band, when the header repeats its labels
  ('Percent never' under each question) and the row tells the repeats apart.
* **A band label over an empty column.** A group label written in the empty spacer column
  left of its group (a merge starting there) belongs to the group: it moves right onto the
  group's first column, and the spacer is dropped like any other.
* **A banner** ('England Level Data', 'Provider Level Data') is the short line right above the
  table's header, below a title: it says which rows these are, so it becomes the table's
  ``block_title``, as the titles over side-by-side blocks do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from datawarp.pipeline.extract.header import (
    Window,
    cell_at,
    cell_text,
    filled,
    header_parts,
    is_band_row,
    is_banner,
    is_empty,
    is_label,
    is_navigation,
    is_sentence,
    key_value,
    labelled,
)
from datawarp.pipeline.extract.values import DECIMAL, INT, classify

_NUMBERED = re.compile(r"(?i)(table|figure|chart|sheet)\s*\d.*")  # a caption, not a banner
_LINES_BETWEEN = 4  # title, note and blank lines between a group row and its header
_BLANKS_UNDER_BANNER = 1


def _repeats(band_rows: list[list[object]], header_cells: list[object]) -> int:
    """How many columns the header rows name like an earlier column."""
    columns = [index for index in range(len(header_cells)) if labelled(header_cells, index)]
    parts = header_parts(band_rows, header_cells, columns)
    texts = [tuple(text.casefold() for text in parts[index]) for index in columns]
    return len(texts) - len(set(texts))


def distant_group_row(
    window: Window,
    top: int,
    band_rows: list[list[object]],
    header_cells: list[object],
    first_column: int,
) -> int | None:
    """A group row above title or note lines over the header rows (the first at ``top``), when
    it tells apart columns the header names alike; else None."""
    repeats = _repeats(band_rows, header_cells)
    if not repeats:
        return None
    skipped = 0
    for position in range(top - 1, max(-1, top - 2 - _LINES_BETWEEN), -1):
        cells = window.cells(position)
        positions = filled(cells)
        if skipped and len(positions) >= 2 and is_band_row(cells, header_cells, first_column):
            rows = [cells, *band_rows]
            return position if _repeats(rows, header_cells) < repeats else None
        if len(positions) > 1 or (positions and positions[0] > first_column):
            return None  # neither a title, a note nor a blank line
        skipped += 1
    return None


def shift_group_labels(
    band_rows: list[list[object]],
    header_cells: list[object],
    columns: Sequence[int],
    sample: list[list[object]],
) -> list[list[object]]:
    """Band rows with each label over an empty column (no header, no data) moved right onto
    the first labelled column after it, where that column has no label of its own there."""
    empty = {
        index
        for index in columns
        if not labelled(header_cells, index)
        and all(is_empty(cell_at(cells, index)) for cells in sample)
    }
    shifted = []
    for cells in band_rows:
        cells = list(cells)
        for index in sorted(empty):
            if is_empty(cell_at(cells, index)):
                continue
            target = index + 1
            while target in empty:
                target += 1
            if target in columns and labelled(header_cells, target):
                if all(is_empty(cell_at(cells, i)) for i in range(index + 1, target + 1)):
                    cells += [None] * (target + 1 - len(cells))
                    cells[target], cells[index] = cells[index], None
        shifted.append(cells)
    return shifted


def banner_above(window: Window, top: int, first_column: int) -> tuple[int, str] | None:
    """(row number, text) of the banner right above the header rows starting at ``top``: one
    short label of two to four words (a stray count beside it aside), at the table's left edge
    or saying 'Level Data', with a title or title block above it; else None."""
    position = top - 1
    for _ in range(_BLANKS_UNDER_BANNER):
        if position >= 0 and not filled(window.cells(position)):
            position -= 1
    if position <= 0:
        return None
    cells = window.cells(position)
    labels = [index for index in filled(cells) if is_label(cells[index])]
    if len(labels) != 1 or key_value(cells):
        return None
    text = cell_text(cells[labels[0]]) or ""
    if is_sentence(text) or len(text.split()) < 2 or is_navigation(text) or _NUMBERED.match(text):
        return None  # a title or caption, a link, or a stray word ('and'), not naming rows
    if not (labels[0] <= first_column or is_banner(text)):
        return None
    others = [cells[index] for index in filled(cells) if index != labels[0]]
    if any(classify(cell)[0] not in (INT, DECIMAL) for cell in others):
        return None  # only a stray count may stand beside a banner
    if not any(_is_title_line(window.cells(p)) for p in range(position)):
        return None  # the sheet's own title, not a banner under one
    return window.number(position), text


def _is_title_line(cells: list[object]) -> bool:
    positions = filled(cells)
    text = cell_text(cells[positions[0]]) if positions else None
    return text is not None and is_label(text) and not is_navigation(text)
