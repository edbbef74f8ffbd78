"""Percentages and scales: the unit of a numeric column, and columns on two scales.

The rules (docs/values.md):

* A value written with a ``%`` is stored as the fraction Excel itself holds behind a
  percent-formatted cell: ``69.10%`` is exactly 0.6910 (``values._parse_number``). Only values
  written with the sign are rescaled.
* Unit ``fraction``: every number of the column was written with ``%``; or the header names a
  percentage ("%", "percent", "percentage", "per cent") and every number lies within -1..1.
  The second is how Excel's percent cells are recognised: the reader gives their values (KH03
  "% Occupied" 0.6429) but not their number format.
* Unit ``percent``: the header names a percentage and the numbers lie within -100..100, some
  beyond 1 (a CSV's "Percent" column of 74.0 meaning 74%): recorded, never rescaled.
* Otherwise no unit. A column mixing ``50%`` with plain numbers (``0.125``, ``7``) has none
  and is warned about, naming rows of each form.
"""

from __future__ import annotations

import re
from decimal import Decimal

from datawarp.core.vocabulary import ColumnUnit
from datawarp.pipeline.extract.values import DECIMAL, INT, classify

ROWS_NAMED = 3
PLAIN, PERCENT_SIGN = 1, 2  # forms of a number: as written, or with a % sign
NUMBER_TYPES = frozenset({"smallint", "integer", "bigint", "numeric"})
_PERCENT_HEADER = re.compile(r"%|\bper\s?cent(?:age)?s?\b|\bpct\b", re.IGNORECASE)


def names_a_percentage(header: str) -> bool:
    """ "% Occupied", "Percent within 18 weeks", "Percentage"; not "95th percentile"."""
    return bool(_PERCENT_HEADER.search(header))


def number_form(cell: object) -> tuple[int, float] | None:
    """(PLAIN or PERCENT_SIGN, the number as a float) for a cell that is a number, else None."""
    cell_type = type(cell)
    if cell_type is int:
        return PLAIN, float(cell)  # type: ignore[arg-type]
    if cell_type is Decimal:
        return (PLAIN, float(cell)) if cell.is_finite() else None  # type: ignore[union-attr,arg-type]
    if cell_type is float:
        return (PLAIN, cell) if cell - cell == 0.0 else None  # type: ignore[operator,return-value]
    if cell_type is str:
        kind, parsed = classify(cell)
        if kind == INT or kind == DECIMAL:
            signed = cell.rstrip().endswith("%")  # type: ignore[attr-defined]
            return (PERCENT_SIGN if signed else PLAIN), float(parsed)  # type: ignore[arg-type]
    return None


class ScaleFacts:
    """What a column's numbers say about their scale, gathered by every reader alike."""

    __slots__ = ("percent_header", "over_one", "over_hundred", "rows")

    def __init__(self, *, percent_header: bool = False) -> None:
        self.percent_header = percent_header
        self.over_one = self.over_hundred = False  # numbers written without %, by size
        self.rows: dict[int, list[int]] = {PLAIN: [], PERCENT_SIGN: []}  # the first few of each

    def note_size(self, number: float) -> None:
        size = abs(number)
        if size > 1:
            self.over_one = True
            if size > 100:
                self.over_hundred = True

    def wants_rows(self, form: int) -> bool:
        return len(self.rows[form]) <= ROWS_NAMED  # one more than named, to say "..."

    def note_rows(self, form: int, row_numbers: list[int]) -> None:
        found = self.rows[form]
        found.extend(row_numbers[: ROWS_NAMED + 1 - len(found)])

    def note_cells(self, row_numbers: list[int], cells: list, *, plain: bool, percent: bool):
        """The Python readers: the first rows of plain numbers and of percentages."""
        wanted = {form for form, flag in ((PLAIN, plain), (PERCENT_SIGN, percent)) if flag}
        for row_number, cell in zip(row_numbers, cells, strict=True):
            if cell is None:
                continue
            form = number_form(cell)
            if form is not None and form[0] in wanted:
                self.note_rows(form[0], [row_number])
                if not self.wants_rows(form[0]):
                    wanted.discard(form[0])
                    if not wanted:
                        return

    def note_sizes(self, cells: list) -> None:
        """The Python readers: the size of each plain number (percentage headers only)."""
        if self.over_hundred:
            return  # nothing more to learn
        floats = [abs(cell) for cell in cells if type(cell) is float and cell - cell == 0.0]
        if floats:
            self.note_size(max(floats))  # Excel's numbers, at C speed
        for cell in cells:
            if cell is not None and type(cell) is not float:
                form = number_form(cell)
                if form is not None and form[0] == PLAIN:
                    self.note_size(form[1])


def column_unit(pg_type: str, *, signed: bool, mixed: bool, numbers: bool, scale: ScaleFacts):
    """``fraction``, ``percent`` or None (see the module's rules)."""
    if pg_type not in NUMBER_TYPES or not numbers or mixed:
        return None
    if signed:
        return ColumnUnit.FRACTION
    if scale.percent_header and not scale.over_one:
        return ColumnUnit.FRACTION
    if scale.percent_header and not scale.over_hundred:
        return ColumnUnit.PERCENT
    return None


def mixed_scale_warning(name: str, scale: ScaleFacts) -> str:
    def rows(form: int) -> str:
        found = scale.rows[form]
        shown = ", ".join(map(str, found[:ROWS_NAMED])) + (
            ", ..." if len(found) > ROWS_NAMED else ""
        )
        return f"row{'s' if len(found) > 1 else ''} {shown}"

    return (
        f"column {name} mixes percentages ({rows(PERCENT_SIGN)}) with plain numbers"
        f" ({rows(PLAIN)}): a value written with % is stored as a fraction (50% as 0.5) and a"
        " plain number as written, so rows may be on two scales"
    )
