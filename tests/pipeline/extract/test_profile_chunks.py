"""``ColumnProfile.observe_many`` takes whole chunks in at C speed where it can; whatever the
chunk, the profile must end exactly as a call per cell leaves it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datawarp.pipeline.extract import profile as profile_module
from datawarp.pipeline.extract.profile import ColumnProfile

_TEXT = st.sampled_from(
    ["", "  ", " x ", "x", "Leeds", "LEEDS ", "*", "-", "n/a", " N/A", "c", "z", ":", "..",
     "12", "012", " 7 ", "1,234", "3.5", "50%", "<5", "52+", "£3", "2024-01-31", "yes", "no",
     "\u00a0", "Total", "99999999999999999999", "NHS England North", " Royal Free London ",
     "Leeds Teaching Hospitals", "£1,234,567", "12 Acacia Avenue", "Not available"]
)  # fmt: skip
_CELLS = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-40_000, max_value=3_000_000_000).map(float),
    st.booleans(),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)),
    _TEXT,
    st.text(max_size=6),
)
# Figures with decimals (a percentage column), now and then not finite.
_FIGURES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from([74.0, 93.1, -0.0, 0.5, float("nan"), float("inf")]),
)
# Excel's dates as calamine gives them: midnights (days) and times of day; a zone now and then.
_MOMENTS = st.one_of(
    st.datetimes(timezones=st.sampled_from([None, None, dt.UTC])),
    st.dates().map(lambda day: dt.datetime(day.year, day.month, day.day)),
)
# Chunks mostly of one kind, as spreadsheet columns are, and now and then mixed.
_CHUNK = st.one_of(
    st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40).map(float)), max_size=40),
    st.lists(st.one_of(st.none(), st.integers(-(2**70), 2**70)), max_size=40),
    st.lists(st.one_of(st.none(), _TEXT, st.text(max_size=4)), max_size=40),
    # Names, mostly distinct and longer than any marker, as a provider's column holds them.
    st.lists(st.one_of(_TEXT, st.text(min_size=6, max_size=12)), max_size=40),
    st.lists(_CELLS, max_size=40),
    st.lists(st.one_of(st.none(), _FIGURES, st.integers(-(2**40), 2**40).map(float)), max_size=40),
    st.lists(st.one_of(st.none(), st.dates()), max_size=40),
    # An .xls's rates: whole values as ints, the others as floats (now and then not finite).
    st.lists(st.one_of(st.none(), _FIGURES, st.integers(-(2**70), 2**70)), max_size=40),
    st.lists(st.one_of(st.none(), _MOMENTS), max_size=40),
)


def _state(profile: ColumnProfile) -> dict:
    state = {name: getattr(profile, name) for name in ColumnProfile.__slots__}
    examples = state.pop("examples")
    state["examples"] = (list(examples.words), list(examples.censored))
    return state


@settings(max_examples=400, deadline=None)
@given(chunks=st.lists(_CHUNK, max_size=8), text_column=st.booleans())
def test_a_chunk_at_a_time_ends_as_a_cell_at_a_time(chunks, text_column):
    by_chunk, by_cell = ColumnProfile(), ColumnProfile()
    if text_column:  # the text column's own path: words seen first
        by_chunk.observe("Leeds Teaching Hospitals")
        by_cell.observe("Leeds Teaching Hospitals")
    for chunk in chunks:
        by_chunk.observe_many(chunk)
        for cell in chunk:
            by_cell.observe(cell)
    assert _state(by_chunk) == _state(by_cell)
    assert by_chunk.pg_type == by_cell.pg_type


def test_a_text_chunk_that_could_overflow_the_memory_of_strings_goes_cell_by_cell(monkeypatch):
    monkeypatch.setattr(profile_module, "_LOOKED_AT", 8)
    by_chunk, by_cell = ColumnProfile(), ColumnProfile()
    chunk = [f"{number}" if number % 3 else f"ward {number}" for number in range(30)]
    for profile in (by_chunk, by_cell):
        profile.observe("words first")
    by_chunk.observe_many(chunk)
    for cell in chunk:
        by_cell.observe(cell)
    assert _state(by_chunk) == _state(by_cell)


def test_whole_number_floats_give_the_integer_range():
    profile = ColumnProfile()
    profile.observe_many([1679.0, None, 436.0, -0.0, 70_000.0])
    assert profile.pg_type == "integer" and profile.count == 5 and profile.null_count == 1


_NAMES = ["Aintree University Hospital", "Barts Health NHS Trust", "Croydon Health Services"]


@pytest.mark.parametrize(
    "chunk",
    [
        # A name with spaces at its end is the longest: its length is its stripped one.
        ["Leeds Teaching", "Airedale General Hospital Trust  ", "Bradford District"],
        ["Leeds Teaching", "\tAiredale General Hospital Trust", "Bradford District"],
        # Before the column holds numbers a number's start is looked at; after, not.
        ["Leeds Teaching", "12345678 Main Street", "1234567890", "-12.5 and more", "£1,234,567"],
        # Markers and short codes are never a name.
        ["Leeds Teaching", "n/a", "-", "RR8", "Not known", "*", ""],
    ],
)
@pytest.mark.parametrize("numbers_first", [False, True])
def test_names_once_the_examples_are_full_end_as_a_cell_at_a_time(chunk, numbers_first):
    by_chunk, by_cell = ColumnProfile(), ColumnProfile()
    for profile in (by_chunk, by_cell):
        for name in _NAMES:  # the examples fill up: names are then taken in by their length
            profile.observe(name)
        if numbers_first:
            profile.observe("42")
    by_chunk.observe_many(chunk)
    for cell in chunk:
        by_cell.observe(cell)
    assert _state(by_chunk) == _state(by_cell)
