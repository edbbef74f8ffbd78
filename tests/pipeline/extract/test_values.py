"""Cell parsing, type inference and conversion for COPY (datawarp.pipeline.extract.values)."""

import csv
import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawarp.pipeline.extract.originals import cell_converter, plan_for
from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.values import (
    BIGINT,
    BOOLEAN,
    DATE,
    INTEGER,
    INTEGER_RANGES,
    MISSING_MARKERS,
    NUMERIC,
    PG_TYPES,
    SMALLINT,
    TEXT,
    TIMESTAMP,
    ValueConversionError,
    convert,
    converter_for,
    excel_serial_to_date,
    excel_serial_to_datetime,
    widen,
)


def profile_of(values) -> ColumnProfile:
    profile = ColumnProfile()
    profile.observe_many(values)
    return profile


def column_converter(profile: ColumnProfile):
    """The converter the readers use for this column (``values.convert`` unless a text column
    holds numbers, where markers are NULL too)."""
    pg_type = profile.pg_type
    return cell_converter(plan_for(pg_type, markers_null=profile.markers_are_null(pg_type)))


def converted_column(values) -> tuple[ColumnProfile, list[object]]:
    profile = profile_of(values)
    convert_cell = column_converter(profile)
    return profile, [convert_cell(value) for value in values]


# --- markers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marker",
    ["*", "-", ":", "..", ".", "c", "x", "z", "[c]", "[x]", "[z]", "[u]", "[low]", "n/a"]
    + ["N/A", "NA", "X", "C", "[LOW]", " * ", "\u2013", "\u2014", "#DIV/0!", "#N/A"],
)
def test_marker_in_numeric_column_loads_as_null_and_is_counted(marker):
    profile, converted = converted_column(["12", marker, "7"])
    assert profile.pg_type == SMALLINT
    assert converted == [12, None, 7]
    assert profile.suppressed_count == 1
    assert profile.null_count == 1
    assert profile.non_null_count == 2


def test_markers_are_lower_case_and_stripped():
    assert all(marker == marker.strip().lower() for marker in MISSING_MARKERS)


@pytest.mark.parametrize("marker", ["X", "c", "NA", "-", "*"])
def test_marker_in_text_column_is_a_real_value(marker):
    profile, converted = converted_column(["RBD", marker, "00L"])
    assert profile.pg_type == TEXT
    assert converted == ["RBD", marker, "00L"]
    assert profile.suppressed_count == 0
    assert profile.null_count == 0


def test_marker_in_date_column_loads_as_null():
    profile, converted = converted_column(["01/04/2025", "-", "Apr-25"])
    assert profile.pg_type == DATE
    assert converted == [dt.date(2025, 4, 1), None, dt.date(2025, 4, 1)]
    assert profile.suppressed_count == 1


def test_column_of_only_markers_is_numeric_and_fully_suppressed():
    profile, converted = converted_column(["*", "*", "", "c"])
    assert profile.pg_type == NUMERIC
    assert profile.is_fully_suppressed
    assert converted == [None] * 4
    assert (profile.suppressed_count, profile.null_count, profile.non_null_count) == (3, 4, 0)


def test_empty_column_is_text_and_not_suppressed():
    profile = profile_of([None, "", "   ", float("nan")])
    assert profile.pg_type == TEXT
    assert not profile.is_fully_suppressed
    assert profile.null_count == 4


def test_partly_suppressed_column_is_not_fully_suppressed():
    assert not profile_of(["*", "3"]).is_fully_suppressed


def test_yes_no_column_with_dash_stays_text_so_the_dash_survives():
    profile, converted = converted_column(["Yes", "-", "No"])
    assert profile.pg_type == TEXT
    assert converted == ["Yes", "-", "No"]


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1234", 1234),
        ("1,234", 1234),
        ("12,345", 12345),
        (" 42 ", 42),
        ("-5", -5),
        ("+5", 5),
        ("0", 0),
        ("-0", 0),
        ("12.0", 12),
        ("12.00", 12),
        ("£1,200", 1200),
        ("-£5", -5),
        ("$300", 300),
        (12.0, 12),
        (-3.0, -3),
        (7, 7),
    ],
)
def test_integers(cell, expected):
    profile, converted = converted_column([cell])
    assert profile.pg_type == SMALLINT
    assert converted == [expected]
    assert type(converted[0]) is int


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("194.5", Decimal("194.5")),
        ("1,234.5", Decimal("1234.5")),
        ("67.30%", Decimal("0.6730")),
        ("67%", Decimal("0.67")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("-0.25", Decimal("-0.25")),
        ("1e5", Decimal("1E5")),
        ("2.5E-3", Decimal("0.0025")),
        ("£1,200.50", Decimal("1200.50")),
        (194.5, Decimal("194.5")),
        (0.1, Decimal("0.1")),
        (Decimal("3.25"), Decimal("3.25")),
    ],
)
def test_decimals_are_numeric_and_exact(cell, expected):
    profile, converted = converted_column([cell])
    assert profile.pg_type == NUMERIC
    assert converted == [expected]
    assert type(converted[0]) is Decimal


def test_percent_is_stored_as_the_exact_fraction_and_flagged():
    profile, converted = converted_column(["67.30%", "5%", "69.10%", "-0.5%", "1e2%"])
    assert converted == [Decimal("0.6730"), Decimal("0.05"), Decimal("0.6910"),
                         Decimal("-0.005"), Decimal("1")]  # fmt: skip
    assert converted[2].as_tuple() == Decimal("0.6910").as_tuple()  # no float on the way
    long = "12345678901234567890123456789.123456789%"  # beyond Decimal's 28-digit context
    assert convert(long, NUMERIC) == Decimal("123456789012345678901234567.89123456789")
    assert profile.has_percent_sign
    assert not profile_of(["67.30"]).has_percent_sign


def test_percent_column_is_numeric_even_when_whole():
    assert profile_of(["50%", "100%"]).pg_type == NUMERIC


@pytest.mark.parametrize(
    "cell",
    ["00L", "01234", "00", "-01", "01.5", "0,123", "1 234", "1,5", "12,34,567", "(5)", "52+"]
    + ["nan", "NaN", "inf", "-Infinity", "1_000", "\u0663", "\u00b2", "+", "£", "1e", "Y", "N"],
)
def test_not_numbers_stay_text(cell):
    profile, converted = converted_column([cell, "1"])
    assert profile.pg_type == TEXT
    assert converted == [cell, "1"]


def test_leading_zero_codes_keep_their_zeros():
    profile, converted = converted_column(["01234", "00L", "0"])
    assert converted == ["01234", "00L", "0"]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 0, SMALLINT),
        (-(2**15), 2**15 - 1, SMALLINT),
        (0, 2**15, INTEGER),
        (-(2**15) - 1, 0, INTEGER),
        (-(2**31), 2**31 - 1, INTEGER),
        (0, 2**31, BIGINT),
        (-(2**31) - 1, 0, BIGINT),
        (-(2**63), 2**63 - 1, BIGINT),
        (0, 2**63, NUMERIC),
        (-(2**63) - 1, 0, NUMERIC),
    ],
)
def test_integer_range_decides_the_type(low, high, expected):
    for cells in ([low, high], [str(low), str(high)], [f"{low:,}", f"{high:,}"]):
        assert profile_of(cells).pg_type == expected


def test_beyond_bigint_converts_to_decimal():
    assert convert(str(2**63), NUMERIC) == Decimal(2**63)
    assert convert("1" * 40, NUMERIC) == Decimal("1" * 40)
    assert profile_of(["1" * 40]).pg_type == NUMERIC


def test_integral_floats_count_as_integers():
    profile, converted = converted_column([12.0, 40000.0, None])
    assert profile.pg_type == INTEGER
    assert converted == [12, 40000, None]


def test_mixing_integers_and_decimals_is_numeric():
    profile, converted = converted_column([1, "2", 2.5, "3.75"])
    assert profile.pg_type == NUMERIC
    assert converted == [Decimal(1), Decimal(2), Decimal("2.5"), Decimal("3.75")]


@pytest.mark.parametrize("cell", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_empty(cell):
    profile, converted = converted_column([cell, 3])
    assert profile.pg_type == SMALLINT
    assert converted == [None, 3]
    assert profile.null_count == 1 and profile.suppressed_count == 0
    assert convert(cell, TEXT) is None


# --- dates -------------------------------------------------------------------------------------

APRIL_FIRST = dt.date(2025, 4, 1)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-04-01", APRIL_FIRST),
        ("01/04/2025", APRIL_FIRST),
        ("1/4/25", APRIL_FIRST),
        ("01-04-2025", APRIL_FIRST),
        ("Apr-25", APRIL_FIRST),
        ("April 2025", APRIL_FIRST),
        ("Apr 2025", APRIL_FIRST),
        ("APR-2025", APRIL_FIRST),
        ("1 April 2025", APRIL_FIRST),
        ("01-Apr-25", APRIL_FIRST),
        ("2017-SEP", dt.date(2017, 9, 1)),
        ("Sept-17", dt.date(2017, 9, 1)),
        ("Dec-99", dt.date(1999, 12, 1)),
        ("2025-04-01 00:00:00", APRIL_FIRST),
        (APRIL_FIRST, APRIL_FIRST),
        (dt.datetime(2025, 4, 1), APRIL_FIRST),
    ],
)
def test_dates(cell, expected):
    profile, converted = converted_column([cell])
    assert profile.pg_type == DATE
    assert converted == [expected]
    assert type(converted[0]) is dt.date


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-04-01 13:45:00", dt.datetime(2025, 4, 1, 13, 45)),
        ("2025-04-01T13:45:30.5", dt.datetime(2025, 4, 1, 13, 45, 30, 500000)),
        ("01/04/2025 13:45", dt.datetime(2025, 4, 1, 13, 45)),
        (dt.datetime(2025, 4, 1, 13, 45), dt.datetime(2025, 4, 1, 13, 45)),
    ],
)
def test_timestamps(cell, expected):
    profile, converted = converted_column([cell])
    assert profile.pg_type == TIMESTAMP
    assert converted == [expected]


def test_dates_with_timestamps_widen_to_timestamp():
    profile, converted = converted_column(["01/04/2025", "2025-04-02 09:30"])
    assert profile.pg_type == TIMESTAMP
    assert converted == [dt.datetime(2025, 4, 1), dt.datetime(2025, 4, 2, 9, 30)]


@pytest.mark.parametrize("cell", ["31/02/2025", "2025-04", "2024-25", "13:45", "Apr", "Year 2019"])
def test_not_dates_stay_text(cell):
    assert profile_of([cell]).pg_type == TEXT


def test_numbers_are_never_dates_during_inference():
    assert profile_of([45748, 45749.0]).pg_type == INTEGER


def test_dates_mixed_with_numbers_are_text():
    profile, converted = converted_column(["01/04/2025", 5])
    assert profile.pg_type == TEXT
    assert converted == ["01/04/2025", "5"]


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        (45658, dt.date(2025, 1, 1)),
        (45748, APRIL_FIRST),
        (45748.75, APRIL_FIRST),
    ],
)
def test_excel_serials_follow_the_1900_system(serial, expected):
    assert excel_serial_to_date(serial) == expected


def test_excel_serial_keeps_the_time_of_day():
    assert excel_serial_to_datetime(45748.5) == dt.datetime(2025, 4, 1, 12)


@pytest.mark.parametrize("serial", [60, 60.5, 0, -1, float("nan"), float("inf"), 1e12])
def test_excel_serials_without_a_date_raise(serial):
    with pytest.raises(ValueError):
        excel_serial_to_date(serial)


# --- booleans and other cells ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ([True, False], [True, False]),
        (["true", "FALSE"], [True, False]),
        (["Yes", "no", None], [True, False, None]),
    ],
)
def test_booleans(cells, expected):
    profile, converted = converted_column(cells)
    assert profile.pg_type == BOOLEAN
    assert converted == expected


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["Y", "N"], ["Y", "N"]),
        ([True, 1], ["true", "1"]),
        (["yes", "2025-04-01"], ["yes", "2025-04-01"]),
    ],
)
def test_flags_and_mixed_booleans_stay_text(cells, expected):
    profile, converted = converted_column(cells)
    assert profile.pg_type == TEXT
    assert converted == expected


def test_numbers_mixed_with_words_keep_every_value_as_text_but_markers_are_null():
    cells = [194.5, "Insufficient records", 12.0, "*", "No Standard Set", 7, "1,234"]
    profile, converted = converted_column(cells)
    assert profile.pg_type == TEXT
    assert converted == [
        "194.5",
        "Insufficient records",
        "12",
        None,  # a marker is NULL in every column holding numbers, text or not
        "No Standard Set",
        "7",
        "1,234",
    ]
    assert profile.suppressed_count == 1 and profile.null_count == 1


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (5.0, "5"),
        (5, "5"),
        (194.5, "194.5"),
        (1e20, "1e+20"),
        (True, "true"),
        (APRIL_FIRST, "2025-04-01"),
        (dt.datetime(2025, 4, 1), "2025-04-01"),
        (dt.datetime(2025, 4, 1, 13, 45), "2025-04-01 13:45:00"),
        (dt.time(13, 45), "13:45:00"),
        (dt.timedelta(minutes=7, seconds=12), "0:07:12"),
        ("  NHS ENGLAND SOUTH WEST ", "NHS ENGLAND SOUTH WEST"),
        ("   ", None),
        ("", None),
        (None, None),
        (2**70, str(2**70)),
    ],
)
def test_text_rendering(cell, text):
    assert convert(cell, TEXT) == text


def test_times_and_durations_make_text_columns():
    assert profile_of([dt.time(13, 45)]).pg_type == TEXT
    assert profile_of([dt.timedelta(seconds=420)]).pg_type == TEXT


def test_max_text_length_counts_stripped_strings():
    assert profile_of(["RBD", "  NHS ENGLAND  ", 123456789]).max_text_length == len("NHS ENGLAND")
    assert profile_of(["12", "1234"]).max_text_length == 4


def test_counts():
    profile = profile_of([1, None, "", "*", "x", 2])
    assert (profile.count, profile.null_count, profile.suppressed_count) == (6, 4, 2)
    assert profile.non_null_count == 2
    assert "smallint" in repr(profile)


# --- conversion errors and widening ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "pg_type"),
    [
        ("abc", INTEGER),
        (40000, SMALLINT),
        ("40000", SMALLINT),
        (2**31, INTEGER),
        (2.5, INTEGER),
        ("67%", INTEGER),
        (True, INTEGER),
        ("abc", NUMERIC),
        (APRIL_FIRST, NUMERIC),
        (5, DATE),
        ("2025-04-01 13:45", DATE),
        ("abc", TIMESTAMP),
        ("maybe", BOOLEAN),
        (1, BOOLEAN),
    ],
)
def test_cell_that_does_not_fit_raises(cell, pg_type):
    with pytest.raises(ValueConversionError) as raised:
        convert(cell, pg_type)
    assert pg_type in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_unknown_type_raises():
    with pytest.raises(ValueError):
        convert(1, "varchar")
    with pytest.raises(ValueError):
        widen("integer", "jsonb")


def test_dates_convert_into_timestamp_columns():
    assert convert(APRIL_FIRST, TIMESTAMP) == dt.datetime(2025, 4, 1)


def test_converter_for_is_what_convert_uses():
    assert converter_for(SMALLINT)("1,234") == convert("1,234", SMALLINT) == 1234


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (SMALLINT, SMALLINT, SMALLINT),
        (SMALLINT, INTEGER, INTEGER),
        (BIGINT, INTEGER, BIGINT),
        (INTEGER, NUMERIC, NUMERIC),
        (NUMERIC, TEXT, TEXT),
        (DATE, TIMESTAMP, TIMESTAMP),
        (DATE, INTEGER, TEXT),
        (TIMESTAMP, NUMERIC, TEXT),
        (BOOLEAN, SMALLINT, TEXT),
        (BOOLEAN, BOOLEAN, BOOLEAN),
        (TEXT, DATE, TEXT),
    ],
)
def test_widen(a, b, expected):
    assert widen(a, b) == widen(b, a) == expected


# --- properties --------------------------------------------------------------------------------

nhs_like_strings = st.sampled_from(
    ["*", "-", "x", "c", "12", "1,234", "194.5", "67.30%", "00L", "01/04/2025", "Apr-25"]
    + ["2017-SEP", "2025-04-01 13:45", "yes", "TRUE", "Insufficient records", "", "  ", "NA"]
)
any_cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # includes NaN and +/-inf
    st.text(),
    nhs_like_strings,
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    st.decimals(),
)


def assert_fits(value: object, pg_type: str) -> None:
    if value is None:
        return
    if pg_type in INTEGER_RANGES:
        low, high = INTEGER_RANGES[pg_type]
        assert type(value) is int and low <= value <= high
    elif pg_type == NUMERIC:
        assert type(value) is Decimal and value.is_finite()
    elif pg_type == DATE:
        assert type(value) is dt.date
    elif pg_type == TIMESTAMP:
        assert type(value) is dt.datetime
    elif pg_type == BOOLEAN:
        assert type(value) is bool
    else:
        assert type(value) is str and value and value == value.strip()


@given(st.lists(any_cell, max_size=30))
def test_every_cell_converts_to_the_inferred_type(cells):
    profile = profile_of(cells)
    assert profile.pg_type in PG_TYPES
    convert_cell = column_converter(profile)
    converted = [convert_cell(cell) for cell in cells]
    for value in converted:
        assert_fits(value, profile.pg_type)
    assert converted.count(None) == profile.null_count
    assert profile.null_count + profile.non_null_count == profile.count == len(cells)


number_like_strings = st.from_regex(
    r"\A ?[+-]?[£$]?(\d{1,22}|\d{1,3}(,\d{3}){1,7})(\.\d{0,6})?([eE][+-]?\d{1,3})?%? ?\Z"
)


@given(
    st.lists(
        st.one_of(st.integers(), st.floats(), st.none(), nhs_like_strings, number_like_strings),
        max_size=30,
    )
)
def test_numeric_looking_columns_convert_to_the_inferred_type(cells):
    profile = profile_of(cells)
    for cell in cells:
        assert_fits(convert(cell, profile.pg_type), profile.pg_type)


@given(st.lists(any_cell, max_size=30))
def test_observe_and_observe_many_agree(cells):
    one_by_one = ColumnProfile()
    for cell in cells:
        one_by_one.observe(cell)
    batch = profile_of(cells)
    assert repr(one_by_one) == repr(batch)
    assert one_by_one.max_text_length == batch.max_text_length


@given(st.lists(st.integers(), min_size=1))
def test_integer_columns_take_the_narrowest_type(numbers):
    profile, converted = converted_column(numbers)
    low, high = min(numbers), max(numbers)
    fitting = [t for t, (lo, hi) in INTEGER_RANGES.items() if lo <= low and high <= hi]
    assert profile.pg_type == (fitting[0] if fitting else NUMERIC)
    assert [Decimal(value) for value in converted] == [Decimal(n) for n in numbers]


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_written_integers_read_back(number):
    for written in (str(number), f"{number:,}", f" {number} "):
        assert convert(written, BIGINT) == number


@given(
    st.dates(min_value=dt.date(1000, 1, 1)), st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y"])
)
def test_written_dates_read_back(day, date_format):
    assert convert(day.strftime(date_format), DATE) == day


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_round_trip_through_numeric(number):
    assert float(convert(number, NUMERIC)) == number


@given(st.floats())
def test_text_rendering_of_floats_never_crashes(number):
    rendered = convert(number, TEXT)
    if math.isfinite(number):
        assert float(rendered) == number
    else:
        assert rendered is None


# --- genuine NHS files -------------------------------------------------------------------------


@pytest.mark.samples
def test_mhsds_measure_value_is_numeric_with_suppression(nhs_samples):
    path = nhs_samples / "mhsds_4ww" / "MHSDS%20Data_4WW_AprPerf_2024_v2.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    start = profile_of(row["REPORTING_PERIOD_START"] for row in rows)
    value = profile_of(row["MEASURE_VALUE"] for row in rows)
    assert start.pg_type == DATE
    assert convert(rows[0]["REPORTING_PERIOD_START"], DATE) == dt.date(2024, 2, 1)
    assert value.pg_type == NUMERIC
    assert value.suppressed_count == sum(row["MEASURE_VALUE"] == "*" for row in rows) > 0
