"""``fill_down``: the empty cells of named columns take the value above them.

Publishers write a group's value once, on the group's first row: the RTT overview's ``Year``
only on each April row, a region's code only on its first trust. A manifest's
``fill_down: [year]`` makes each empty cell of those columns take the nearest value above it,
so every row can be filtered and grouped on its own. The rules:

* Only the named columns (loaded names, as ``datawarp inspect`` prints them), only when the
  manifest asks; a name the table does not have stops the file before its rows are read.
* Empty means a blank cell, or one holding only spaces. A suppression marker (``-``, ``*``)
  or any other value is data, never replaced, and is what the rows below it take.
* Within the table only: the value never comes from the title block or header, nor from the
  notes under the table. Blank rows inside the table are skipped, not a break.
* Side-by-side blocks stacked into one table are filled each from its own rows, never from
  the block beside it.
* A totals row (one ``_is_total`` marks: a totals label, or a row placed national by
  ``row_levels``) is left as it is and ends the run: the rows below it take values only
  from rows below it, so a group's subtotal never passes its group's code to the next
  group's rows, and an England row never gets a region's code.
* The raw cell is copied before it is converted, so the filled column keeps its type and a
  companion ``<name>_original`` column follows its column.
"""

from __future__ import annotations

from collections.abc import Sequence

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.originals import ORIGINALS_SUFFIX
from datawarp.pipeline.extract.table import TableLayout

_SHOWN_COLUMNS = 12


def fill_positions(layout: TableLayout, names: Sequence[str], label: str) -> tuple[int, ...]:
    """The table columns ``names`` denote, in table order; a name not in the table is a
    one-line error naming it and the file (``label``)."""
    positions = {column.name: index for index, column in enumerate(layout.columns)}
    for name in names:
        if name not in positions:
            raise BadInputError(_unknown(layout, name, label))
    return tuple(sorted({positions[name] for name in names}))


def _unknown(layout: TableLayout, name: str, label: str) -> str:
    columns = layout.column_names
    hint = ""
    written = " ".join(name.split()).casefold()
    by_header = [c.name for c in layout.columns if c.original_header.casefold() == written]
    if by_header:
        hint = f" (the column headed {name!r} is called {by_header[0]})"
    elif name.endswith(ORIGINALS_SUFFIX) and name.removesuffix(ORIGINALS_SUFFIX) in columns:
        hint = f" (fill {name.removesuffix(ORIGINALS_SUFFIX)}: its {ORIGINALS_SUFFIX} follows it)"
    shown = ", ".join(columns[:_SHOWN_COLUMNS]) + (", ..." if len(columns) > _SHOWN_COLUMNS else "")
    return f"fill_down names {name}, which {label} does not have{hint}; its columns: {shown}"


def _is_empty(value: object) -> bool:
    return value is None or (value.__class__ is str and not value.strip())  # type: ignore[attr-defined]


class FillDown:
    """One pass's filling, chunk by chunk: the value above carries from chunk to chunk.

    A chunk is the table's columns for some rows (``TableReader.chunks``); a stacked table
    has one row per block for each sheet row, so row ``i`` belongs to block ``i % blocks``.
    """

    def __init__(self, positions: tuple[int, ...], blocks: int = 1):
        self.positions = positions
        self.blocks = blocks
        self._above: dict[int, list[object]] = {p: [None] * blocks for p in positions}
        self.filled: dict[int, int] = dict.fromkeys(positions, 0)  # cells filled, by column
        self.totals_seen: list[int] = []  # row numbers of the totals rows filled around

    def apply(self, numbers: list[int], columns: list[list], totals: list[bool]) -> None:
        """Fill the chunk's named columns in place; ``totals`` flags its totals rows."""
        if not self.positions:
            return
        self.totals_seen += [number for number, total in zip(numbers, totals, strict=True) if total]
        blocks = self.blocks
        for position in self.positions:
            column, above, filled = columns[position], self._above[position], 0
            for index, value in enumerate(column):
                block = index % blocks if blocks > 1 else 0
                if totals[index]:
                    above[block] = None
                elif not _is_empty(value):
                    above[block] = value
                elif above[block] is not None:
                    column[index] = above[block]
                    filled += 1
            self.filled[position] += filled
