"""A workbook column's cells made into their Arrow array a batch at a time, in Arrow's kernels.

Pass 2 of a kept workbook table (``arrow_rows``) otherwise converts every cell in Python
(``ColumnConverter``) and then builds the array from the converted values. Most columns of a
publication hold cells of one kind: counts and rates as floats, names as strings, days as
dates. For those, the array ``ColumnConverter`` and ``arrow_rows`` would build is made here
from the cells directly, with the same values: whole floats become the integer they hold, a
numeric column's floats the text of the Decimal of their ``repr`` (Arrow's shortest
round-trip digits are ``repr``'s), strings are stripped of what ``str.strip`` removes, and an
empty string is NULL. Any other column, or a batch of it that holds a cell of another kind, a
non-finite float or a whole float beyond int64, is left to Python (None here): the cells a
shortcut here cannot be sure of are the ones ``ColumnConverter`` is there for.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.core.pgtypes import BIGINT, DATE, INTEGER, NUMERIC, SMALLINT, TEXT
from datawarp.pipeline.extract.arrow_convert import ARROW_TYPES, text_column
from datawarp.pipeline.extract.arrow_values import BufferFacts
from datawarp.pipeline.extract.originals import ColumnPlan

_NONE = type(None)
_NUMBERS = {int, float}
_INTEGERS = (SMALLINT, INTEGER, BIGINT)
_ZERO = pa.scalar(0.0)
_FAILED = (pa.ArrowException, OverflowError, TypeError, ValueError, UnicodeError)


def made_in_arrow(plan: ColumnPlan) -> bool:
    """Whether a column so planned can have its cells made here: one of these types, with no
    companion text or markers (those go through ``ColumnConverter``'s own rules)."""
    return plan.pg_type in (*_INTEGERS, NUMERIC, TEXT, DATE) and not (
        plan.originals or plan.markers_null
    )


def cells_array(
    cells: list, pg_type: str, column_kinds: frozenset[type] | None = None
) -> pa.Array | None:
    """The array ``ColumnConverter`` and ``arrow_rows`` make of ``cells`` as ``pg_type``, or
    None where Python must make it. ``column_kinds``: the types of every cell but None of the
    column these cells are part of, where pass 1 knows them; one type is the type of each of
    these cells that is not None (a batch of None only is made from that type: the same
    array of NULLs), which spares looking at every cell again."""
    if column_kinds is not None and len(column_kinds) == 1:
        kinds = set(column_kinds)
    else:
        kinds = set(map(type, cells))
        kinds.discard(_NONE)
    if not kinds:
        return pa.nulls(len(cells), ARROW_TYPES[pg_type])
    try:
        if kinds <= _NUMBERS:
            return _numbers_array(cells, kinds, pg_type)
        if len(kinds) > 1:
            return None
        if pg_type == TEXT and kinds == {str}:
            text = pa.array(cells, pa.string())
            return text_column(text, BufferFacts.of(text))  # the CSV path's render_text
        if pg_type == DATE and kinds == {dt.date}:
            return pa.array(cells, pa.date32())
    except _FAILED:
        return None
    return None


def _numbers_array(cells: list, kinds: set[type], pg_type: str) -> pa.Array | None:
    """Cells that are floats, ints or both: an .xls gives its whole numbers as ints, so a
    column of rates holds both. Beside floats the ints are read as doubles, which holds each
    exactly or makes pyarrow raise (beyond 2**53)."""
    numbers = pa.array(cells, pa.int64() if kinds == {int} else pa.float64())
    if pg_type in _INTEGERS:
        return numbers.cast(ARROW_TYPES[pg_type])  # a safe cast: a fraction or overflow raises
    if pg_type == NUMERIC:
        return numbers.cast(pa.string()) if kinds == {int} else _numeric_text(numbers)
    return None


def _numeric_text(floats: pa.Array) -> pa.Array | None:
    """``str(Decimal(int(v)))`` for a whole float, ``str(Decimal(repr(v)))`` for another, as
    ``ColumnConverter`` gives them; None for a non-finite float. A whole float beyond int64,
    which Python spells by its ``repr``, makes the cast to int64 raise (``cells_array``)."""
    if not pc.all(pc.is_finite(floats), min_count=0).as_py():  # a batch of NULLs is finite
        return None
    whole = pc.equal(pc.floor(floats), floats)
    integers = pc.cast(pc.if_else(whole, floats, _ZERO), pa.int64())
    return pc.if_else(whole, pc.cast(integers, pa.string()), pc.cast(floats, pa.string()))
