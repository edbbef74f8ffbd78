"""The engine's fast paths give exactly what the plain values.py path gives."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawarp.pipeline.extract.columns import ColumnConverter, ColumnStats, fast_converter
from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.values import ValueConversionError, converter_for

MARKERS = st.sampled_from(["*", "-", ".", "c", "x", "..", "n/a", ":", "[c]", " * "])
CSV_CELLS = st.one_of(
    st.none(),
    MARKERS,
    st.integers(-40_000, 3_000_000_000).map(str),
    st.decimals(-1e6, 1e6, places=3, allow_nan=False).map(str),
    st.sampled_from(["01/09/2023", "2023-09-01", "Sep 2023", "1,234", "67.30%", "£12", " 7 "]),
    st.sampled_from(["England", "TOTAL", "R1H", "00L", "true", "yes", "   "]),
    st.sampled_from(["52+", "<5", " >1000", "100%*", "capped at 100%", "5%", "0.5%"]),
    st.text(max_size=6),
)
EXCEL_CELLS = st.one_of(
    st.none(),
    MARKERS,
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5000, 5000).map(float),
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
    st.sampled_from(["England", "N/A", "52+", "text"]),
)


def plain_profile(cells: list[object]) -> ColumnProfile:
    profile = ColumnProfile()
    profile.observe_many(cells)
    return profile


def summary(stats) -> tuple:
    profile = stats if isinstance(stats, ColumnProfile) else stats.profile
    examples = stats.examples
    named = ()
    if stats.pg_type == "text" and profile.holds_numbers:
        named = tuple(examples.words or examples.censored)
    censored = tuple(examples.censored) if stats.censored_count else ()
    signs = (profile.has_percent_sign, profile.mixes_percent_and_plain)  # numeric columns only
    return (stats.pg_type, stats.suppressed_count, stats.null_count, stats.is_fully_suppressed,
            stats.censored_count, named, censored, signs if stats.pg_type != "text" else None)  # fmt: skip


@given(st.lists(st.lists(CSV_CELLS, max_size=30), max_size=4))
def test_distinct_profiling_matches_the_plain_profile(chunks):
    stats = ColumnStats(by_distinct=True)
    for chunk in chunks:
        stats.observe(chunk)
    assert summary(stats) == summary(plain_profile([cell for chunk in chunks for cell in chunk]))


def converted_or_error(convert, value):
    try:
        result = convert(value)
    except ValueConversionError:
        return "error"
    if isinstance(result, float) and math.isnan(result):
        return "nan"
    return (type(result), result, str(result))


@given(st.lists(CSV_CELLS, min_size=1, max_size=40))
def test_fast_converters_match_values_py_on_csv_cells(cells):
    pg_type = plain_profile(cells).pg_type
    fast, slow = fast_converter(pg_type), converter_for(pg_type)
    for cell in cells:
        assert converted_or_error(fast, cell) == converted_or_error(slow, cell)


@given(st.lists(EXCEL_CELLS, min_size=1, max_size=40))
def test_fast_converters_match_values_py_on_excel_cells(cells):
    pg_type = plain_profile(cells).pg_type
    fast, slow = fast_converter(pg_type), converter_for(pg_type)
    for cell in cells:
        assert converted_or_error(fast, cell) == converted_or_error(slow, cell)


@given(st.lists(st.lists(CSV_CELLS, min_size=1, max_size=30), min_size=1, max_size=4))
def test_memoised_conversion_matches_cell_by_cell(chunks):
    pg_type = plain_profile([cell for chunk in chunks for cell in chunk]).pg_type
    converter = ColumnConverter(pg_type, by_distinct=True)
    slow = converter_for(pg_type)
    for chunk in chunks:
        assert converter(chunk) == [slow(cell) for cell in chunk]


def test_the_memo_stays_bounded(monkeypatch):
    monkeypatch.setattr("datawarp.pipeline.extract.columns.MEMO_SIZE", 10)
    converter = ColumnConverter("integer", by_distinct=True)
    cells = [str(n) for n in range(100)] * 2
    assert converter(cells) == list(range(100)) * 2
    assert len(converter._memo) <= 10


@given(
    st.sampled_from(["smallint", "integer", "bigint"]),
    st.lists(
        st.one_of(
            st.integers(-30_000, 30_000).map(float),
            st.sampled_from([float("nan"), float("inf"), 0.5, -0.0]),
            st.none(),
            st.integers(-30_000, 30_000),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_a_chunk_of_excel_counts_converts_as_cell_by_cell(pg_type, chunk):
    converter = ColumnConverter(pg_type, by_distinct=False)  # a workbook's column
    by_cell = [converted_or_error(converter.convert, cell) for cell in chunk]
    if "error" in by_cell:
        with pytest.raises(ValueConversionError):
            converter(chunk)
        return
    assert [converted_or_error(lambda value: value, value) for value in converter(chunk)] == by_cell


@given(
    st.lists(
        st.one_of(
            st.none(), st.text(max_size=8), st.sampled_from(["", "  ", " Leeds ", "\u00a0x"])
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([None, 3.0, dt.date(2024, 1, 31), True]),
)
def test_a_chunk_of_workbook_text_converts_as_cell_by_cell(chunk, stray):
    converter = ColumnConverter("text", by_distinct=False)  # a workbook's text column
    assert converter(chunk) == [converter.convert(cell) for cell in chunk]
    mixed = [*chunk, stray]  # not only strings: the cell by cell path
    assert converter(mixed) == [converter.convert(cell) for cell in mixed]
