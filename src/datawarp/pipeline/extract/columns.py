"""The per-cell work of both passes, kept cheap: profiling (pass 1) and conversion (pass 2).

Million-row files make every nanosecond per cell count, so the work is done a column at a
time on chunks of rows, with two shortcuts whose results are identical to the plain path
(``tests/extract/test_columns.py`` checks that):

* **Distinct values.** CSV columns repeat themselves (codes, names, periods, small counts).
  Each *new* value of a column is classified once (set differences run at C speed), and
  empty and marker cells are counted with ``list.count``; conversion looks repeated values
  up in a bounded memo. Excel cells are not treated this way: ``1 == 1.0 == True`` would
  merge a boolean with a number, and Excel numbers are mostly distinct floats that the
  profile's own fast path handles anyway.
* **Fast converters.** The common cells (None, Excel's float counts, plain digit strings,
  dates) are converted inline; anything else goes to ``values.converter_for``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.examples import Examples
from datawarp.pipeline.extract.originals import ColumnPlan, cell_converter
from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.scales import PERCENT_SIGN, PLAIN, ScaleFacts
from datawarp.pipeline.extract.values import (
    BIGINT,
    CENSORED,
    DATE,
    DECIMAL,
    EMPTY,
    INT,
    INTEGER,
    MARKER,
    NUMERIC,
    SMALLINT,
    TEXT,
    WORDS,
    ValueConversionError,
    classify,
    converter_for,
)

Converter = Callable[[object], object]
MEMO_SIZE = 20_000  # distinct values remembered per column: bounded memory on any file
_LARGEST_INT64 = 2**63


class ColumnStats:
    """Type inference, NULL counts and scale facts of one column, fed a chunk of cells at a time."""

    __slots__ = (
        "profile", "by_distinct", "cells", "scale", "cell_kinds", "_seen", "_counted", "_counts",
    )  # fmt: skip

    def __init__(self, *, by_distinct: bool, percent_header: bool = False):
        self.profile = ColumnProfile()
        self.by_distinct = by_distinct
        # The types of every cell observed but None, when each chunk came as a list (a
        # workbook's): pass 2 of kept cells (arrow_cells) need not look at them again.
        self.cell_kinds: set[type] | None = None if by_distinct else set()
        self.scale = ScaleFacts(percent_header=percent_header)
        self.cells = 0
        self._seen: set[object] = set()  # values already observed (a bounded memo)
        self._counted: dict[object, int] = {}  # empty, marker or censored value -> its kind
        self._counts = {EMPTY: 0, MARKER: 0, CENSORED: 0}

    def observe(self, cells: Sequence[object], row_numbers: list[int] | None = None) -> None:
        """One chunk of the column; with ``row_numbers``, the rows of each number form too."""
        if not self.by_distinct:
            kinds = set(map(type, cells)) if type(cells) is list else None
            if kinds is None or self.cell_kinds is None:
                self.cell_kinds = None
            else:
                self.cell_kinds |= kinds
                self.cell_kinds.discard(type(None))
            self.profile.observe_many(cells, kinds)  # type: ignore[arg-type]
            if self.scale.percent_header:
                self.scale.note_sizes(cells)  # type: ignore[arg-type]
        else:
            self.cells += len(cells)
            distinct = set(cells)
            new = distinct.difference(self._seen)
            if new:
                self._observe_new(new, cells)
            for value, kind in self._counted.items():
                if value in distinct:
                    self._counts[kind] += cells.count(value)
        if row_numbers is not None:
            self._note_rows(row_numbers, cells)

    def _observe_new(self, new: set[object], cells: Sequence[object]) -> None:
        # The type depends only on which values occur, so each is observed once; words and
        # censored values in file order, since the first few are named as examples.
        in_order = []
        for value in new:
            kind, parsed = classify(value)
            if kind == EMPTY or kind == MARKER or kind == CENSORED:
                self._counted[value] = kind
            if kind == WORDS or kind == CENSORED:
                in_order.append(value)
            elif kind == EMPTY or kind == MARKER:
                self.profile.observe(value)
            else:
                self.profile.observe(parsed)  # no second parse
                if isinstance(value, str) and (kind == DECIMAL or kind == INT):
                    self._note_number(value, parsed)
            if len(self._seen) < MEMO_SIZE:
                self._seen.add(value)
        if len(in_order) > 1:
            in_order.sort(key=cells.index)
        for value in in_order:
            self.profile.observe(value)

    def _note_number(self, value: str, parsed: object) -> None:
        signed = value.rstrip().endswith("%")  # the sign is gone from ``parsed``
        if signed or type(parsed) is not int:
            self.profile.note_numbers(percent=signed, plain=not signed)
        if self.scale.percent_header and not signed:
            self.scale.note_size(float(parsed))  # type: ignore[arg-type]

    def _note_rows(self, row_numbers: list[int], cells: Sequence[object]) -> None:
        profile, scale = self.profile, self.scale
        if not profile.only_numbers:
            return  # words, dates or booleans: not a column of numbers
        plain = profile.has_plain_numbers and scale.wants_rows(PLAIN)
        percent = profile.has_percent_sign and scale.wants_rows(PERCENT_SIGN)
        if plain or percent:
            scale.note_cells(row_numbers, list(cells), plain=plain, percent=percent)

    @property
    def examples(self) -> Examples:
        return self.profile.examples  # type: ignore[return-value]

    @property
    def pg_type(self) -> str:
        if not self.by_distinct:
            return self.profile.pg_type
        counts = self._counts
        numbers = self.cells - counts[EMPTY] - counts[MARKER] - counts[CENSORED]
        return self.profile.resolve_type(censored=counts[CENSORED], numbers=numbers)

    @property
    def suppressed_count(self) -> int:
        if not self.by_distinct:
            return self.profile.suppressed_count
        return self._counts[MARKER] if self.profile.markers_are_null(self.pg_type) else 0

    @property
    def censored_count(self) -> int:
        if not self.by_distinct:
            return self.profile.censored_count
        return 0 if self.pg_type == TEXT else self._counts[CENSORED]

    @property
    def null_count(self) -> int:
        if not self.by_distinct:
            return self.profile.null_count
        return self._counts[EMPTY] + self.suppressed_count + self.censored_count

    @property
    def is_fully_suppressed(self) -> bool:
        if not self.by_distinct:
            return self.profile.is_fully_suppressed
        markers, empty = self._counts[MARKER], self._counts[EMPTY]
        return markers > 0 and markers + empty == self.cells


class ColumnConverter:
    """Converts a chunk's column, remembering the conversion of repeated (CSV) values."""

    __slots__ = ("convert", "_memo", "_whole_numbers", "_plain_text")

    def __init__(self, pg_type: str, *, by_distinct: bool, plan: ColumnPlan | None = None):
        self._whole_numbers = self._plain_text = False
        if plan is not None and (plan.originals or plan.markers_null):
            self.convert: Converter = cell_converter(plan)
        else:
            self.convert = fast_converter(pg_type)
            self._whole_numbers = pg_type in (SMALLINT, INTEGER, BIGINT)
            self._plain_text = pg_type == TEXT
        self._memo: dict[object, object] | None = {} if by_distinct else None

    def __call__(self, cells: Sequence[object]) -> list:
        memo = self._memo
        if memo is None:
            if self._whole_numbers and _all_whole_floats(cells):
                return list(map(int, cells))  # Excel's counts: what convert_integer gives
            if self._plain_text and _only_strings(cells):  # what render_text gives, inline
                return [None if cell is None else (cell.strip() or None) for cell in cells]
            return list(map(self.convert, cells))
        missing = set(cells).difference(memo)
        if len(memo) + len(missing) > MEMO_SIZE:
            lookup = {value: self.convert(value) for value in set(cells)}
        else:
            for value in missing:
                memo[value] = self.convert(value)
            lookup = memo
        return list(map(lookup.__getitem__, cells))


def converted(
    converter: ColumnConverter,
    cells: list,
    numbers: list[int],
    *,
    file_name: str,
    column_name: str,
) -> list:
    """``cells`` converted; a cell that cannot be is said by its row and column."""
    try:
        return converter(cells)
    except ValueConversionError as exc:
        raise conversion_error(file_name, column_name, cells, numbers, converter) from exc


def conversion_error(
    file_name: str, column_name: str, cells: list, numbers: list[int], converter: ColumnConverter
) -> BadInputError:
    """The first of ``cells`` the converter refuses, said by its row and column."""
    for value, row_number in zip(cells, numbers, strict=True):
        try:
            converter.convert(value)
        except ValueConversionError as exc:
            return BadInputError(f"{file_name} row {row_number}, column {column_name}: {exc}")
    return BadInputError(f"{file_name}: a value did not convert")  # pragma: no cover


def _all_whole_floats(cells: Sequence[object]) -> bool:
    return (
        type(cells) is list
        and set(map(type, cells)) == _FLOAT_ONLY
        and all(map(float.is_integer, cells))  # type: ignore[arg-type]
    )


_FLOAT_ONLY = {float}


def _only_strings(cells: Sequence[object]) -> bool:
    return type(cells) is list and set(map(type, cells)) <= _STR_OR_NONE


_STR_OR_NONE = {str, type(None)}


def fast_converter(pg_type: str) -> Converter:
    """``values.converter_for(pg_type)`` with the commonest cells handled inline.

    The shortcuts rely on the type having been inferred from every cell: a digit string in an
    integer column cannot have a leading zero (that would have made the column text), and an
    integral float there is within the type's range.
    """
    slow = converter_for(pg_type)
    if pg_type in (SMALLINT, INTEGER, BIGINT):
        return _integer_converter(slow)
    if pg_type == NUMERIC:
        return _numeric_converter(slow)
    if pg_type == DATE:
        return _date_converter(slow)
    return slow


def _integer_converter(slow: Converter) -> Converter:
    def convert_integer(value: object) -> object:
        kind = value.__class__
        if kind is float and value.is_integer():  # type: ignore[union-attr]
            return int(value)  # type: ignore[call-overload]
        if kind is int or value is None:
            return value
        if kind is str and value.isdigit() and value.isascii():  # type: ignore[union-attr]
            return int(value)  # type: ignore[call-overload]
        return slow(value)

    return convert_integer


def _numeric_converter(slow: Converter) -> Converter:
    def convert_numeric(value: object) -> object:
        kind = value.__class__
        if kind is float:
            if value.is_integer() and -_LARGEST_INT64 <= value < _LARGEST_INT64:  # type: ignore[union-attr,operator]
                return Decimal(int(value))  # type: ignore[call-overload]
            if value - value == 0.0:  # type: ignore[operator]  # finite
                return Decimal(repr(value))  # 0.1, not 0.1000000000000000055…
        elif kind is int:
            return Decimal(value)  # type: ignore[arg-type]
        elif value is None:
            return None
        return slow(value)

    return convert_numeric


def _date_converter(slow: Converter) -> Converter:
    def convert_date(value: object) -> object:
        if value.__class__ is dt.date or value is None:
            return value
        return slow(value)

    return convert_date
