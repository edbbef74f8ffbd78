"""Stream the data rows of a detected table: where it ends, ragged CSV rows, totals rows.

* **End of the table.** A blank row followed by a one-cell row ends the table (the notes under
  it); so does a one-cell ``Notes:``/``Source:``/``Copyright`` line straight after the data.
  A blank row followed by more data does not (England row, blank, providers). A value that
  merely starts with "Source" inside a data row ("Source of referral", 12, 40) never does.
* **Ragged CSV rows** are an error naming the line, unless only notes follow them: a CSV that
  ends with a one-field "Data extracted on …" line loads; a short record mid-file does not.
* **Totals.** A row is a total when a text column holds 'England', 'Total', 'All providers',
  'National' … (any case, outer spaces ignored), alone or decorated ('ENGLAND*', 'Total4',
  'England (Excluding Independent Sector)': ``total_labels``). A column where such a word
  is the value of most rows (a 'Country' column) is a category, not a totals marker, so it is
  left out of the rule. An org code of '-' alone is not used: NHS England also writes '-'
  for "did not submit".
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Iterator

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.row_levels import LevelDecision, merged_totals, tracker_for
from datawarp.pipeline.extract.table import TableLayout
from datawarp.pipeline.extract.total_labels import TOTAL_LABELS, is_total_label  # noqa: F401
from datawarp.pipeline.extract.workbook import Row

_NOTE_LINE = re.compile(
    r"\s*(?:(?:notes?|sources?|footnotes?)\s*(?::|$|[-\u2013.]\s)|copyright\b|\u00a9|\*+\s+\S)",
    re.IGNORECASE,
)
_SENTENCE_CHARS = 60
_KNOWN_LABELS = 20_000  # values remembered per column as not totals words (bounded memory)

TableRow = tuple[int, tuple[object, ...], bool]
"""(row number in the sheet or file, cells in column order, is a totals row)."""


_ROW_NUMBER, _CELLS = operator.itemgetter(0), operator.itemgetter(1)
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


class _Getters(dict):
    """itemgetter(n) for any column n, made once."""

    def __missing__(self, column: int) -> operator.itemgetter:
        getter = self[column] = operator.itemgetter(column)
        return getter


_COLUMN_GETTERS = _Getters()


def _two_values_each(cell_lists: list[list]) -> bool:
    """Whether every row has its first two cells filled: then no row can be blank or one cell.

    Identity tests against None at C speed; rows with gaps there take the careful path.
    """
    none = itertools.repeat(None)
    return all(map(operator.is_not, map(_FIRST, cell_lists), none)) and all(
        map(operator.is_not, map(_SECOND, cell_lists), none)
    )


def is_note_line(text: str) -> bool:
    """'Notes:', 'Source: NHS England', '© Crown copyright', '* = suppressed' ..."""
    return _NOTE_LINE.match(text) is not None


class TableReader:
    """One pass over a sheet's rows, yielding the table's data rows; reusable per pass.

    After a pass, ``last_data_row``, ``end_row`` (first note line) and ``rows_after_end``
    describe where the table stopped, and ``total_rows`` lists the totals rows.
    """

    def __init__(
        self,
        layout: TableLayout,
        *,
        display_name: str,
        is_csv: bool = False,
        label_columns: tuple[int, ...] | None = None,
        levels: LevelDecision | None = None,
    ):
        self.layout = layout
        self.display_name = display_name
        self.is_csv = is_csv
        self.label_columns = layout.label_columns if label_columns is None else label_columns
        self._getters = [
            [_COLUMN_GETTERS[column] for column in block.sheet_columns] for block in layout.blocks
        ]
        self._width = 1 + max(column for block in layout.blocks for column in block.sheet_columns)
        # A table of one block that starts at the sheet's first column and leaves no column out
        # (most): its columns are the rows transposed, which zip does at C speed in one go.
        self._leading_columns = (
            len(layout.blocks) == 1
            and not layout.blocks[0].titles
            and list(layout.blocks[0].sheet_columns) == list(range(self._width))
        )
        self._min_fields = self._width
        self._header_fields = max(layout.header_width, self._width)
        self._header_line = layout.header_rows[-1] if layout.header_rows else 0
        self.last_data_row: int | None = None
        self.end_row: int | None = None
        self.first_row_after_end: int | None = None
        self.rows_after_end = 0
        self.row_count = 0
        self.total_label_hits = dict.fromkeys(self.label_columns, 0)
        self._not_total_labels: dict[int, set] = {
            position: set() for position in self.label_columns
        }
        self._totals: list[tuple[int, int]] = []  # (row number, bit mask of label columns hit)
        # Pass 1 counts the rows' levels (row_levels); pass 2 is given what pass 1 decided.
        self._levels = levels
        self._level_tracker = tracker_for(layout) if levels is None else None
        self._ragged_end: tuple[int, int] | None = None  # (line, fields) of a short CSV record
        self._pending_blank = False

    # -- the pass --------------------------------------------------------------------------

    def chunks(self, source: Iterable[Row], size: int) -> Iterator[tuple[list[int], list[list]]]:
        """The data, about ``size`` rows at a time, as (row numbers, columns of cells).

        Columns, not rows: both passes work a column at a time, and cutting columns straight
        out of the sheet's rows saves building a tuple per row only to take it apart again.
        A stacked table gives one row per block for each sheet row, with the same number.
        """
        first = self.layout.first_data_row
        rows = iter(source)
        if first is None:
            return
        for row_number, cells in rows:  # the rows above the table
            if row_number >= first:
                rows = itertools.chain([(row_number, cells)], rows)
                break
        take = max(1, size // len(self.layout.blocks))
        while self.end_row is None:
            batch = list(itertools.islice(rows, take))
            if not batch:
                break
            numbers, cell_lists, ended_at = self._whole_rows(batch) or self._row_by_row(batch)
            if ended_at is not None:
                rows = itertools.chain(batch[ended_at + 1 :], rows)
            # Drop the raw rows before yielding: the caller's batch is all that should stay alive.
            del batch
            if numbers:
                self.last_data_row = numbers[-1]
                numbers, columns = self._columns(numbers, cell_lists)
                del cell_lists
                self.row_count += len(numbers)
                yield numbers, columns
                del numbers, columns
        self._read_after_end(rows)

    def _whole_rows(self, batch: list[Row]) -> tuple[list[int], list[list], None] | None:
        """The usual batch, every row holding two or more values, checked at C speed; else None."""
        numbers = list(map(_ROW_NUMBER, batch))
        cell_lists = list(map(_CELLS, batch))
        lengths = list(map(len, cell_lists))
        shortest = min(lengths)
        if self.is_csv and (shortest < self._min_fields or max(lengths) > self._header_fields):
            return None  # a ragged record
        if shortest < 2 or not _two_values_each(cell_lists):
            return None  # maybe a blank or one-cell row, where the table may end
        width = self._width
        if shortest < width:
            padding = [None] * width
            cell_lists = [
                cells if len(cells) >= width else cells + padding[len(cells) :]
                for cells in cell_lists
            ]
        self._pending_blank = False
        return numbers, cell_lists, None

    def _row_by_row(self, batch: list[Row]) -> tuple[list[int], list[list], int | None]:
        """The careful path: blank rows, notes, ragged records; (numbers, rows, end index)."""
        width = self._width
        padding = [None] * width
        kept_numbers, kept_cells = [], []
        ended_at = None
        for index, (row_number, cells) in enumerate(batch):
            fields = len(cells)
            empty = cells.count(None)
            if empty == fields:
                self._pending_blank = True
                continue
            if fields - empty == 1 and self._ends_table(row_number, cells, self._pending_blank):
                ended_at = index
                break
            if self.is_csv and (fields < self._min_fields or fields > self._header_fields):
                self._check_width(row_number, cells)
            self._pending_blank = False
            kept_numbers.append(row_number)
            kept_cells.append(cells if fields >= width else cells + padding[fields:])
        return kept_numbers, kept_cells, ended_at

    def _columns(self, numbers: list[int], cell_lists: list[list]) -> tuple[list[int], list[list]]:
        """Cut the table's columns out of full-width sheet rows (stacking blocks row by row)."""
        blocks = self.layout.blocks
        if self._leading_columns:  # rows are padded to the table's width, some reach past it
            columns = zip(*cell_lists, strict=False)
            return numbers, list(map(list, itertools.islice(columns, self._width)))
        if len(blocks) == 1 and not blocks[0].titles:
            return numbers, [list(map(getter, cell_lists)) for getter in self._getters[0]]
        count = len(numbers)
        columns = [
            list(itertools.chain.from_iterable(itertools.repeat(titles, count)))
            for titles in zip(*(block.titles for block in blocks), strict=True)
        ]
        per_block = [[list(map(g, cell_lists)) for g in getters] for getters in self._getters]
        for position in range(len(per_block[0])):
            interleaved = zip(*(block[position] for block in per_block), strict=True)
            columns.append(list(itertools.chain.from_iterable(interleaved)))
        stacked = [number for number in numbers for _ in blocks]
        return stacked, columns

    def rows(self, source: Iterable[Row]) -> Iterator[TableRow]:
        """The data rows one by one, with their totals flag (convenient; chunks are faster)."""
        for numbers, columns in self.chunks(source, 1024):
            totals = self.mark_totals(numbers, columns)
            yield from zip(numbers, zip(*columns, strict=True), totals, strict=True)

    def _ends_table(self, row_number: int, cells: list[object], after_blank: bool) -> bool:
        text = next((cell for cell in cells if cell is not None), None)
        if type(text) is not str:
            return False
        text = text.strip()
        ends = is_note_line(text) or (
            after_blank and (len(self.layout.columns) >= 3 or len(text) > _SENTENCE_CHARS)
        )
        if not ends and self.is_csv and len(cells) < self._min_fields:
            # A short record ends the table only if nothing but notes follows it.
            self._ragged_end = (row_number, len(cells))
            ends = True
        if ends:
            self.end_row = row_number
        return ends

    def _read_after_end(self, rows: Iterator[Row]) -> None:
        for row_number, cells in rows:
            if len(cells) - cells.count(None) >= 2:
                if self._ragged_end is not None:
                    self._raise_ragged(*self._ragged_end)
                self.rows_after_end += 1
                if self.first_row_after_end is None:
                    self.first_row_after_end = row_number

    def _check_width(self, row_number: int, cells: list[object]) -> None:
        """Short records are ragged; long ones too unless the extra fields are empty (',,,')."""
        extra = cells[self._header_fields :]
        if len(cells) < self._min_fields or extra.count(None) < len(extra):
            self._raise_ragged(row_number, len(cells))

    def _raise_ragged(self, row_number: int, fields: int) -> None:
        raise BadInputError(
            f"{self.display_name} line {row_number}: {fields} field{'s' if fields != 1 else ''} "
            f"where the header (line {self._header_line}) has {self.layout.header_width}; "
            "a ragged row (is a delimiter inside an unquoted value?)"
        )

    # -- totals ----------------------------------------------------------------------------

    def mark_totals(self, numbers: list[int], columns: list[list]) -> list[bool]:
        """Which rows of a chunk are totals rows, given the chunk's columns."""
        flags = [False] * len(numbers)
        masks: dict[int, int] = {}
        for position in self.label_columns:
            column = columns[position]
            known = self._not_total_labels[position]
            new = set(column).difference(known)
            totals = {value for value in new if is_total_label(value)}
            if len(known) < _KNOWN_LABELS:
                known.update(new - totals)
            if not totals:
                continue
            bit = 1 << position
            for index, value in enumerate(column):
                if value in totals:
                    flags[index] = True
                    masks[index] = masks.get(index, 0) | bit
                    self.total_label_hits[position] += 1
        self._totals.extend((numbers[index], mask) for index, mask in sorted(masks.items()))
        if self._level_tracker is not None:
            self._level_tracker.observe(numbers, columns)
        return flags

    def mark_levels(self, columns: list[list], totals: list[bool]) -> tuple[list, list[bool]]:
        """Pass 2: each row's ``_level`` (None unless the file mixes levels), and the totals
        flags with the rows placed national set (a new list: ``totals`` is left as it is)."""
        if self._levels is None:
            return [None] * len(totals), totals
        return self._levels.mark(columns, totals)

    def level_decision(self) -> LevelDecision | None:
        """The file's levels (after a full pass 1; None when no column can place a row)."""
        if self._levels is None and self._level_tracker is not None:
            self._levels = self._level_tracker.decide(self.marker_columns())
        return self._levels

    def level_counts(self) -> dict[str, int]:
        """Rows per level, coarsest first; empty when the file has one level."""
        decision = self.level_decision()
        return dict(decision.counts) if decision is not None else {}

    def marker_columns(self) -> tuple[int, ...]:
        """Label columns where totals words mark a minority of rows (after a full pass)."""
        return minority_marker_columns(self.total_label_hits, self.row_count)

    def total_rows(self) -> list[int]:
        """Row numbers of the totals rows (after a full pass)."""
        return merged_totals(self._labelled(self.marker_columns()), self.level_decision())

    def labelled_rows(self) -> frozenset[int]:
        """After a full pass 1: the rows pass 2's ``mark_totals`` flags, those with a totals
        label in a marker column (pass 1 saw every label cell; pass 2 reads the markers only)."""
        return frozenset(self._labelled(self.marker_columns()))

    def _labelled(self, positions: tuple[int, ...]) -> list[int]:
        allowed = sum(1 << position for position in positions)
        return [row_number for row_number, mask in self._totals if mask & allowed]

    # -- what the pass saw -----------------------------------------------------------------

    def end_warnings(self) -> list[str]:
        if not self.rows_after_end:
            return []
        return [
            f"{self.rows_after_end} row(s) below the notes under the table (from row "
            f"{self.first_row_after_end}) were not loaded; choose another sheet or tidy the file"
        ]


def minority_marker_columns(label_hits: dict[int, int], row_count: int) -> tuple[int, ...]:
    """The totals rule's columns: where a totals word is the value in at most half the rows.

    A column where 'England' fills most rows (a Country column) says nothing about totals.
    Shared by the Python path and the Arrow fast path so the two cannot drift apart.
    """
    return tuple(position for position, hits in label_hits.items() if 2 * hits <= row_count)
