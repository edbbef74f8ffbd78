"""Header rows and column names: the cell tests, bands, spacers and side-by-side groups.

``table.detect_layout`` drives these; they are separate so each file reads in one sitting.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from datawarp.pipeline.extract.values import (
    CENSORED,
    DAY,
    DECIMAL,
    EMPTY,
    INT,
    MARKER,
    WORDS,
    classify,
    render_text,
)

MAX_BAND_ROWS = 2
_KEY_VALUE = re.compile(r"([A-Za-z][A-Za-z0-9 &/()'.-]{0,40}?)\s*:\s*(.*)", re.DOTALL)
_SENTENCE_WORDS = 5
_SENTENCE_CHARS = 40
# A banner names the whole table ('Provider Level Data'), never a group of its columns.
_BANNER = re.compile(r"(?i).*\blevel\s+data\b.*")
_NAVIGATION = re.compile(r"(?i)(return|back|go)\s+to\s+.*|contents|index|back to top")
_FEWEST_PERIODS = 2  # month headings that make a header row of a table wide by month
_NUMBERS = frozenset({INT, DECIMAL, MARKER, CENSORED, EMPTY})


# ---------------------------------------------------------------------------------------------
# Cells


def cell_text(cell: object) -> str | None:
    """The cell as stripped text when it is a non-empty string, else None."""
    if type(cell) is str:
        return cell.strip() or None
    return None


def is_empty(cell: object) -> bool:
    return cell is None or (type(cell) is str and not cell.strip())


def filled(cells: Sequence[object]) -> list[int]:
    """Positions of the non-empty cells."""
    return [index for index, cell in enumerate(cells) if not is_empty(cell)]


def is_label(cell: object) -> bool:
    """Header-like text: a string that is not a number, date, marker or boolean."""
    return type(cell) is str and classify(cell)[0] == WORDS


def is_name(cell: object) -> bool:
    """Text a header row may hold as a column's name: besides labels and years, any text with a
    letter or digit. In a header 'C', 'NA' or 'Yes' name a column; only data holds markers."""
    if is_heading(cell):
        return True
    return type(cell) is str and any(char.isalnum() for char in cell)


def is_year(cell: object) -> bool:
    """A whole number that reads as a year: Excel keeps year headers (2019, 2020) as numbers."""
    if type(cell) is not int and type(cell) is not float:
        return False
    return float(cell).is_integer() and 1900 <= cell <= 2100  # type: ignore[operator]


def is_heading(cell: object) -> bool:
    """Text a header row may hold: a label, or a year."""
    return is_label(cell) or is_year(cell)


def heading_text(cell: object) -> str | None:
    if is_year(cell):
        return str(int(cell))  # type: ignore[call-overload]
    if type(cell) is dt.date or type(cell) is dt.datetime:
        return render_text(cell)  # an Excel date heading a column: 2025-04-01
    return cell_text(cell)


def is_period(cell: object) -> bool:
    """A month or day as a heading: text such as 'Apr-25' or 'April 2025', or an Excel date."""
    return cell is not None and classify(cell)[0] == DAY


def is_navigation(text: str) -> bool:
    """A link back to a contents sheet ('Return to Contents'), not a title."""
    return _NAVIGATION.fullmatch(text) is not None


def is_banner(text: str) -> bool:
    """Words that name a whole table ('England Level Data'), not a group of its columns."""
    return _BANNER.fullmatch(text) is not None


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def key_value(cells: Sequence[object]) -> tuple[str, str] | None:
    """('Period', 'April 2023') for a ``Period:`` line of a title block, else None."""
    positions = filled(cells)
    if not positions or len(positions) > 3:
        return None
    first = cells[positions[0]]
    if type(first) is not str:
        return None
    match = _KEY_VALUE.fullmatch(first.strip())
    if match is None or len(match[1].split()) > 5:
        return None
    key, rest = match[1].strip(), match[2].strip()
    if not rest and len(positions) > 1:
        rest = render_text(cells[positions[1]]) or ""
    return key, rest


def is_sentence(text: str) -> bool:
    return len(text) > _SENTENCE_CHARS or len(text.split()) >= _SENTENCE_WORDS


# ---------------------------------------------------------------------------------------------
# Header


@dataclass
class Window:
    """The look-ahead rows of a sheet: (row number, cells) pairs."""

    rows: list[tuple[int, list[object]]]

    def cells(self, position: int) -> list[object]:
        return self.rows[position][1]

    def number(self, position: int) -> int:
        return self.rows[position][0]


def header_position(window: Window, *, is_csv: bool) -> int | None:
    """Where in the window the (lowest) header row is, or None when there is none."""
    widest = max((len(filled(cells)) for _, cells in window.rows), default=0)
    # A one-column CSV is a table; a one-column sheet is a page of notes.
    fewest_labels = 1 if is_csv and widest == 1 else 2
    candidates = [
        position
        for position, (_, cells) in enumerate(window.rows)
        if _looks_like_header(cells, widest, fewest_labels)
        or _is_period_header(window, position, widest)
    ]
    if not candidates:
        return None
    header = candidates[0]
    for position in candidates[1:]:
        between = range(header + 1, position)
        if position - header > 3 or any(filled(window.cells(p)) for p in between):
            break
        # In a narrow table a band row (labels with gaps between them) can pass for the
        # header; the sub-header below it is wider. A gapless row is the header itself.
        if _has_gaps(window.cells(header)) and _wider(window, position, header):
            header = position
    return header


def _has_gaps(cells: list[object]) -> bool:
    positions = filled(cells)
    return len(positions) < positions[-1] - positions[0] + 1


def _wider(window: Window, position: int, than: int) -> bool:
    return len(filled(window.cells(position))) > len(filled(window.cells(than)))


def _looks_like_header(cells: list[object], widest: int, fewest_labels: int) -> bool:
    """At least two labels, half as wide as the widest row, dense, hardly any numbers.

    Texts that read as markers ('C', 'X', 'NA') are names when labels outnumber them: a data
    row of suppressed counts holds more markers than labels.
    """
    positions = filled(cells)
    words = sum(is_label(cells[index]) for index in positions)
    labels = sum(is_heading(cells[index]) for index in positions) if words else 0
    if labels < fewest_labels or 2 * len(positions) < widest or key_value(cells):
        return False
    if 3 * len(positions) <= positions[-1] - positions[0] + 1:
        return False  # labels scattered over the width: a band, or a title and its unit
    names = sum(is_name(cells[index]) for index in positions)
    return names - labels <= labels and len(positions) - names <= max(1, labels // 10)


def _is_period_header(window: Window, position: int, widest: int) -> bool:
    """A header row of months written as text or dates ('Service | Apr-25 | May-25 …'): a
    label starts it, the rest are labels or months, and the row below holds numbers there."""
    cells = window.cells(position)
    positions = filled(cells)
    if len(positions) < 3 or 2 * len(positions) < widest or not is_label(cells[positions[0]]):
        return False
    periods = []
    for index in positions[1:]:  # a data row stops at its first number
        cell = cells[index]
        kind = classify(cell)[0]
        if kind == DAY:
            periods.append(index)
        elif not (kind == WORDS and type(cell) is str) and not is_year(cell):
            return False
    if len(periods) < _FEWEST_PERIODS or key_value(cells):
        return False
    below = next((window.cells(p) for p in range(position + 1, len(window.rows))
                  if filled(window.cells(p))), [])  # fmt: skip
    kinds = [classify(cell_at(below, index))[0] for index in periods]
    return all(kind in _NUMBERS for kind in kinds) and any(k in (INT, DECIMAL) for k in kinds)


def period_columns(header_cells: list[object], columns: Sequence[int]) -> list[int]:
    """The columns a header row heads with a month or date."""
    return [index for index in columns if is_period(cell_at(header_cells, index))]


def data_sample(window: Window, header: int) -> list[list[object]]:
    """The window's non-blank rows below the header, stopping at the first footnote."""
    sample = []
    for position in range(header + 1, len(window.rows)):
        cells = window.cells(position)
        positions = filled(cells)
        if len(positions) == 1 and sample and is_sentence(str(cells[positions[0]])):
            break  # footnotes under a short table
        if positions:
            sample.append(cells)
    return sample


def column_range(header_cells: list[object], sample: list[list[object]]) -> range:
    """Sheet columns from the leftmost to the rightmost holding a heading or sampled data."""
    used = [index for index in filled(header_cells) if labelled(header_cells, index)]
    for cells in sample:
        used.extend(filled(cells))
    return range(min(used), max(used) + 1) if used else range(0)


def is_band_row(cells: list[object], header_cells: list[object], first_column: int) -> bool:
    """Whether a row above the header belongs to it (a band of labels), not a banner."""
    positions = filled(cells)
    if not positions or key_value(cells):
        return False
    if any(not is_heading(cells[index]) for index in positions):
        return False  # a stray count beside a banner, or a data row
    if len(positions) == 1 and (
        positions[0] <= first_column or is_banner(str(cells[positions[0]]))
    ):
        return False  # a banner such as 'Provider Level Data'
    for index in positions:
        text = heading_text(cells[index]) or ""
        below = header_cells[index] if index < len(header_cells) else None
        beside = cell_at(cells, index + 1)
        if index <= first_column and is_empty(below) and is_empty(beside) and is_sentence(text):
            # A title sentence at the left edge, running over the empty cells beside it; a
            # column label ('NHS Region of Residence Name') ends where the next label starts.
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Columns


def labelled(cells: list[object], index: int) -> bool:
    """Whether the row holds a column heading at ``index``: any name, a month or a date."""
    return index < len(cells) and (is_name(cells[index]) or is_period(cells[index]))


def spacers(band_rows: list[list[object]], header_cells: list[object], columns: range) -> set[int]:
    """Columns with no header text at all (their data decides whether they stay)."""
    return {
        index
        for index in columns
        if not any(labelled(cells, index) for cells in [*band_rows, header_cells])
    }


def header_parts(
    band_rows: list[list[object]], header_cells: list[object], columns: list[int]
) -> dict[int, list[str]]:
    """Header texts of each column, top to bottom, with bands carried over merged cells."""
    parts: dict[int, list[str]] = {index: [] for index in columns}
    for cells in band_rows:
        carried: str | None = None
        previous = None
        for index in columns:
            if previous is not None and index != previous + 1:
                carried = None  # a spacer column ends a band
            previous = index
            below = label_text(header_cells, index)
            own = label_text(cells, index)
            if own is not None:
                parts[index].append(own)
                carried = own if below is not None else None
            elif carried is not None and below is not None:
                parts[index].append(carried)
    for index in columns:
        own = label_text(header_cells, index)
        if own is not None:
            parts[index].append(own)
    return parts


def label_text(cells: list[object], index: int) -> str | None:
    return heading_text(cells[index]) if labelled(cells, index) else None


def cell_at(cells: list[object], index: int) -> object:
    return cells[index] if index < len(cells) else None


def _unnamed_column_fill(index: int, sample: list[list[object]]) -> tuple[bool, int]:
    """(keep, filled cells): kept when it holds labels or fills most of the sampled rows."""
    values = [cell_at(cells, index) for cells in sample]
    count = sum(not is_empty(value) for value in values)
    has_labels = any(is_label(value) for value in values)
    return count > 0 and (has_labels or 2 * count >= len(sample)), count


def kept_columns(
    columns: range, spacers: set[int], sample: list[list[object]], warnings: list[str]
) -> list[int]:
    """The columns to load: named ones, and unnamed ones whose data is worth keeping."""
    kept = []
    for index in columns:
        if index not in spacers:
            kept.append(index)
            continue
        keep, count = _unnamed_column_fill(index, sample)
        letter = column_letter(index)
        if keep:
            kept.append(index)
            warnings.append(f"column {letter} has no header; loaded as column_{letter.lower()}")
        elif count:
            warnings.append(
                f"column {letter} has no header and values in only {count} of the first "
                f"{len(sample)} data rows; not loaded"
            )
    return kept


def column_text(parts: list[str], index: int) -> tuple[list[str], str]:
    """(header levels to name the column from, original header) of one column."""
    if not parts:
        letter = column_letter(index)
        return [f"column_{letter.lower()}"], f"(column {letter}, no header)"
    return parts, " | ".join(parts)


# ---------------------------------------------------------------------------------------------
# Side-by-side blocks


def side_by_side(kept: list[int], header_cells: list[object]) -> list[list[int]]:
    """Groups of columns split by spacers that each start with the same label, or []."""
    groups: list[list[int]] = []
    for index in kept:
        if groups and index == groups[-1][-1] + 1:
            groups[-1].append(index)
        else:
            groups.append([index])
    if len(groups) < 2:
        return []
    starts = [(label_text(header_cells, group[0]) or "").casefold() for group in groups]
    if not starts[0] or any(start != starts[0] for start in starts):
        return []
    return groups


def titles_per_block(cells: list[object], blocks: list[list[int]]) -> list[str | None] | None:
    """The one title of each block in this row; None when the row is not a title row."""
    positions = filled(cells)
    titles: list[str | None] = []
    claimed = 0
    for block in blocks:
        inside = [index for index in positions if block[0] <= index <= block[-1]]
        if len(inside) > 1:
            return None
        titles.append(heading_text(cells[inside[0]]) if inside else None)
        claimed += len(inside)
    return titles if claimed and claimed == len(positions) else None
