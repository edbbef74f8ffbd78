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

from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.values import (
    BIGINT,
    DATE,
    DECIMAL,
    EMPTY,
    INTEGER,
    MARKER,
    NUMERIC,
    SMALLINT,
    TEXT,
    WORDS,
    classify,
    converter_for,
)

Converter = Callable[[object], object]
MEMO_SIZE = 20_000  # distinct values remembered per column: bounded memory on any file
_LARGEST_INT64 = 2**63


class ColumnStats:
    """Type inference and NULL counts of one column, fed a chunk of cells at a time."""

    __slots__ = ("profile", "by_distinct", "cells", "_seen", "_nulls", "_counts")

    def __init__(self, *, by_distinct: bool):
        self.profile = ColumnProfile()
        self.by_distinct = by_distinct
        self.cells = 0
        self._seen: set[object] = set()  # values already observed (a bounded memo)
        self._nulls: dict[object, int] = {}  # empty or marker value -> its kind
        self._counts = {EMPTY: 0, MARKER: 0}

    def observe(self, cells: Sequence[object]) -> None:
        if not self.by_distinct:
            self.profile.observe_many(cells)
            return
        self.cells += len(cells)
        distinct = set(cells)
        for value in distinct.difference(self._seen):
            self._observe_new(value)
        for value, kind in self._nulls.items():
            if value in distinct:
                self._counts[kind] += cells.count(value)

    def _observe_new(self, value: object) -> None:
        # The type depends only on which values occur, so each is observed once.
        kind, parsed = classify(value)
        if kind == EMPTY or kind == MARKER:
            self._nulls[value] = kind
            self.profile.observe(value)
        else:
            self.profile.observe(value if kind == WORDS else parsed)  # no second parse
            if kind == DECIMAL and isinstance(value, str):  # the sign is gone from ``parsed``
                signed = value.rstrip().endswith("%")
                self.profile.note_numbers(percent=signed, plain=not signed)
        if len(self._seen) < MEMO_SIZE:
            self._seen.add(value)

    @property
    def pg_type(self) -> str:
        return self.profile.pg_type

    @property
    def suppressed_count(self) -> int:
        if not self.by_distinct:
            return self.profile.suppressed_count
        return 0 if self.pg_type == TEXT else self._counts[MARKER]  # markers are text values

    @property
    def null_count(self) -> int:
        if not self.by_distinct:
            return self.profile.null_count
        return self._counts[EMPTY] + self.suppressed_count

    @property
    def is_fully_suppressed(self) -> bool:
        if not self.by_distinct:
            return self.profile.is_fully_suppressed
        markers, empty = self._counts[MARKER], self._counts[EMPTY]
        return markers > 0 and markers + empty == self.cells


class ColumnConverter:
    """Converts a chunk's column, remembering the conversion of repeated (CSV) values."""

    __slots__ = ("convert", "_memo")

    def __init__(self, pg_type: str, *, by_distinct: bool):
        self.convert = fast_converter(pg_type)
        self._memo: dict[object, object] | None = {} if by_distinct else None

    def __call__(self, cells: Sequence[object]) -> list:
        memo = self._memo
        if memo is None:
            return list(map(self.convert, cells))
        missing = set(cells).difference(memo)
        if len(memo) + len(missing) > MEMO_SIZE:
            lookup = {value: self.convert(value) for value in set(cells)}
        else:
            for value in missing:
                memo[value] = self.convert(value)
            lookup = memo
        return list(map(lookup.__getitem__, cells))


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
