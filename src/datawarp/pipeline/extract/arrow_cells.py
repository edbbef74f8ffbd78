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
_INTEGERS = (SMALLINT, INTEGER, BIGINT)
_ZERO = pa.scalar(0.0)
_FAILED = (pa.ArrowException, OverflowError, TypeError, ValueError, UnicodeError)


def made_in_arrow(plan: ColumnPlan) -> bool:
    """Whether a column so planned can have its cells made here: one of these types, with no
    companion text or markers (those go through ``ColumnConverter``'s own rules)."""
    return plan.pg_type in (*_INTEGERS, NUMERIC, TEXT, DATE) and not (
        plan.originals or plan.markers_null
    )


def cells_array(cells: list, pg_type: str) -> pa.Array | None:
    """The array ``ColumnConverter`` and ``arrow_rows`` make of ``cells`` as ``pg_type``, or
    None where Python must make it."""
    kinds = set(map(type, cells))
    kinds.discard(_NONE)
    if not kinds:
        return pa.nulls(len(cells), ARROW_TYPES[pg_type])
    if len(kinds) > 1:
        return None
    (kind,) = kinds
    try:
        if pg_type in _INTEGERS and kind in (float, int):
            return pa.array(cells, pa.float64() if kind is float else pa.int64()).cast(
                ARROW_TYPES[pg_type]  # a safe cast: a fraction or an overflow raises
            )
        if pg_type == NUMERIC and kind is float:
            return _numeric_text(pa.array(cells, pa.float64()))
        if pg_type == NUMERIC and kind is int:
            return pa.array(cells, pa.int64()).cast(pa.string())
        if pg_type == TEXT and kind is str:
            text = pa.array(cells, pa.string())
            return text_column(text, BufferFacts.of(text))  # the CSV path's render_text
        if pg_type == DATE and kind is dt.date:
            return pa.array(cells, pa.date32())
    except _FAILED:
        return None
    return None


def _numeric_text(floats: pa.Array) -> pa.Array | None:
    """``str(Decimal(int(v)))`` for a whole float, ``str(Decimal(repr(v)))`` for another, as
    ``ColumnConverter`` gives them; None for a non-finite float. A whole float beyond int64,
    which Python spells by its ``repr``, makes the cast to int64 raise (``cells_array``)."""
    if not pc.all(pc.is_finite(floats)).as_py():
        return None
    whole = pc.equal(pc.floor(floats), floats)
    integers = pc.cast(pc.if_else(whole, floats, _ZERO), pa.int64())
    return pc.if_else(whole, pc.cast(integers, pa.string()), pc.cast(floats, pa.string()))
