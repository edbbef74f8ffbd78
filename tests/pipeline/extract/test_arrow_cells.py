"""A workbook column's cells made in Arrow (``arrow_cells``) give the array Python makes.

The reference is what pass 2 did before: ``ColumnConverter`` over the cells, then
``arrow_rows``' array of the converted values. Where ``cells_array`` makes the array itself it
must be that array exactly (values, NULLs, types, a numeric's text as the Decimal it spells);
where it cannot be sure it says so (None), and the cells a shortcut would get wrong are shown
to be refused rather than made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datawarp.core.pgtypes import BIGINT, DATE, INTEGER, NUMERIC, SMALLINT, TEXT
from datawarp.pipeline.extract.arrow_cells import cells_array, made_in_arrow
from datawarp.pipeline.extract.arrow_rows import _array, typed_schema
from datawarp.pipeline.extract.columns import ColumnConverter
from datawarp.pipeline.extract.originals import ColumnPlan


def _python(cells: list, pg_type: str) -> pa.Array:
    converted = ColumnConverter(pg_type, by_distinct=False, plan=ColumnPlan(pg_type, 0))(cells)
    return _array(converted, typed_schema(["c"], [pg_type]).field(0))


def _assert_same(cells: list, pg_type: str, *, made: bool = True) -> None:
    got = cells_array(list(cells), pg_type)
    if got is None:
        assert not made, f"{pg_type} cells {cells!r} were left to Python"
        return
    expected = _python(list(cells), pg_type)
    assert got.type == expected.type
    if pg_type == NUMERIC:  # the text may differ in spelling, never in value or scale
        as_decimals = [[None if v is None else str(Decimal(v)) for v in array.to_pylist()]
                       for array in (got, expected)]  # fmt: skip
        assert as_decimals[0] == as_decimals[1]
    else:
        assert got.to_pylist() == expected.to_pylist()


_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_WHOLE = st.integers(-(2**53), 2**53).map(float)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_SPACED = st.builds(lambda a, b, c: a + b + c, st.sampled_from(["", " ", "\t", "\u3000", "\x1c"]),
                    _TEXT, st.sampled_from(["", " ", "\n", "\xa0", "\u2029"]))  # fmt: skip


def _column(cells: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.one_of(st.none(), cells), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(cells=_column(st.one_of(_FINITE, _WHOLE, st.sampled_from([-0.0, 1e-5, 2.5e-7, 1e15 + 0.5]))))
def test_floats_make_the_numeric_text_python_makes(cells):
    wholes_beyond_int64 = any(v is not None and v.is_integer() and abs(v) >= 2**63 for v in cells)
    _assert_same(cells, NUMERIC, made=not wholes_beyond_int64)


@settings(max_examples=200, deadline=None)
@given(cells=_column(_WHOLE), pg_type=st.sampled_from([SMALLINT, INTEGER, BIGINT]))
def test_whole_floats_make_the_integers_python_makes(cells, pg_type):
    bounds = {SMALLINT: 2**15, INTEGER: 2**31, BIGINT: 2**63}[pg_type]
    fits = all(v is None or -bounds <= v < bounds for v in cells)
    if fits:
        _assert_same(cells, pg_type)
    else:  # Python makes the int and the server refuses it; Arrow's cast refuses it here
        assert cells_array(cells, pg_type) is None


@settings(max_examples=200, deadline=None)
@given(cells=_column(st.integers(-(2**70), 2**70)), pg_type=st.sampled_from([BIGINT, NUMERIC]))
def test_int_cells_make_what_python_makes_or_are_left_to_it(cells, pg_type):
    in_int64 = all(v is None or -(2**63) <= v < 2**63 for v in cells)
    _assert_same(cells, pg_type, made=in_int64)


def _double_holds(value) -> bool:
    return not isinstance(value, int) or -(2**53) <= value <= 2**53


@settings(max_examples=300, deadline=None)
@given(
    cells=_column(st.one_of(_FINITE, _WHOLE, st.integers(-(2**60), 2**60))),
    pg_type=st.sampled_from([NUMERIC, SMALLINT, INTEGER, BIGINT]),
)
def test_ints_beside_floats_make_what_python_makes(cells, pg_type):
    """An .xls gives a column of rates whole values as ints and the others as floats."""
    present = [v for v in cells if v is not None]
    floats = any(isinstance(v, float) for v in present)
    exact = not floats or all(_double_holds(v) for v in present)
    if pg_type == NUMERIC:
        whole_beyond = any(isinstance(v, float) and v.is_integer() and abs(v) >= 2**63
                           for v in present)  # fmt: skip
        _assert_same(cells, pg_type, made=exact and not whole_beyond)
        return
    bound = {SMALLINT: 2**15, INTEGER: 2**31, BIGINT: 2**63}[pg_type]
    fits = all(float(v).is_integer() and -bound <= v < bound for v in present)
    if exact and fits:
        _assert_same(cells, pg_type)
    else:
        assert cells_array(cells, pg_type) is None


@settings(max_examples=300, deadline=None)
@given(cells=_column(st.one_of(_TEXT, _SPACED)))
def test_strings_are_stripped_and_emptied_as_python_does(cells):
    _assert_same(cells, TEXT)


@settings(max_examples=100, deadline=None)
@given(cells=_column(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))))
def test_dates_are_the_dates_python_keeps(cells):
    _assert_same(cells, DATE)


@pytest.mark.parametrize(
    ("cells", "pg_type"),
    [
        ([1.0, "x", None], NUMERIC),  # two kinds of cell
        ([1.0, float("nan")], NUMERIC),  # not finite: Python's own rule
        ([1.0, float("inf")], NUMERIC),
        ([1e19, 2.5], NUMERIC),  # whole beyond int64: repr, not int, in Python
        ([1.5, 2.0], INTEGER),  # a fraction in an integer column: Python says which row
        ([True, False], TEXT),  # a kind no shortcut takes
        ([dt.datetime(2025, 1, 1)], DATE),  # a datetime is not a date here
        ([1, 2.5], BIGINT),  # beside an int, a fraction is still refused
        ([2**53 + 1, 2.5], NUMERIC),  # an int a double cannot hold exactly
    ],
)
def test_cells_a_shortcut_could_get_wrong_are_left_to_python(cells, pg_type):
    assert cells_array(cells, pg_type) is None


def test_a_column_of_nothing_is_nulls_of_its_type():
    got = cells_array([None, None], SMALLINT)
    assert got.type == pa.int16() and got.null_count == 2


def test_only_plain_plans_of_these_types_are_made_in_arrow():
    assert made_in_arrow(ColumnPlan(NUMERIC, 0)) and made_in_arrow(ColumnPlan(TEXT, 3))
    assert not made_in_arrow(ColumnPlan(INTEGER, 0, originals=True))
    assert not made_in_arrow(ColumnPlan(TEXT, 0, markers_null=True))
    assert not made_in_arrow(ColumnPlan("timestamp", 0))
    assert not made_in_arrow(ColumnPlan("boolean", 0))


_ONE_KIND = [
    (SMALLINT, float, [3.0, 12.0]),
    (INTEGER, float, [70000.0]),
    (BIGINT, int, [2**40]),
    (NUMERIC, float, [0.25, 3.0]),
    (NUMERIC, int, [7, 12]),
    (TEXT, str, [" Leeds ", ""]),
    (DATE, dt.date, [dt.date(2025, 9, 30)]),
]


@pytest.mark.parametrize(("pg_type", "kind", "values"), _ONE_KIND)
@pytest.mark.parametrize("nones", [0, 1, 3])
def test_a_columns_one_kind_from_pass_1_makes_the_same_array(pg_type, kind, values, nones):
    """Pass 1 saw one kind of cell in the column: a batch of it is made without looking at its
    cells' types again, the same array, a batch of None alone too (NULLs of the type)."""
    for cells in ([None] * nones + values, [None] * max(nones, 1)):
        known = cells_array(list(cells), pg_type, frozenset({kind}))
        looked = cells_array(list(cells), pg_type)
        assert known is not None and looked is not None
        assert known.type == looked.type and known.to_pylist() == looked.to_pylist()


def test_a_column_of_several_kinds_has_each_batchs_cells_looked_at():
    """Ints and floats (an .xls's rates): a batch of ints alone is made as ints are."""
    column = frozenset({int, float})
    assert cells_array([7, 12], NUMERIC, column).to_pylist() == ["7", "12"]
    assert cells_array([1.0, "x"], NUMERIC, frozenset({float, str})) is None
