"""A table's column names from its header levels (datawarp.pipeline.extract.column_names)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawarp.core.naming import MAX_IDENTIFIER_BYTES
from datawarp.pipeline.extract.column_names import table_names
from datawarp.pipeline.extract.names import header_words
from tests.pipeline.extract.name_checks import keeps, lost_distinctions

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("No. > 18 weeks", "no_over_18_weeks"),
        ("% > 52 weeks", "percent_over_52_weeks"),
        (">4 hours", "over_4_hours"),
        ("< 4 hours", "under_4_hours"),
        ("Waited >= 12 hours", "waited_at_least_12_hours"),
        ("Waited => 12 hours", "waited_at_least_12_hours"),
        ("Waited \u2265 12 hours", "waited_at_least_12_hours"),
        ("Seen <= 2 weeks", "seen_at_most_2_weeks"),
        ("Seen \u2264 2 weeks", "seen_at_most_2_weeks"),
        ("Score = 5", "score_equals_5"),
        ("Score <> 5", "score_not_equal_5"),
        ("Attendances greater than 4 hours", "attendances_over_4_hours"),
        ("Waits more than 6 weeks", "waits_over_6_weeks"),
        ("Seen in less than 2 weeks", "seen_in_under_2_weeks"),
        ("Fewer than 5 beds", "under_5_beds"),
        ("Less than or equal to 4 hours", "at_most_4_hours"),
        ("Greater than or equal to 95%", "at_least_95_percent"),
        ("Furthermore than", "furthermore_than"),
        ("Gt 52+ Weeks", "gt_52_plus_weeks"),  # the publisher's own abbreviation stays
        ("European Union\u00b9", "european_union"),
        ("European Union1", "european_union"),
        ("Monthly data13", "monthly_data"),
        ("Total [note 3]", "total"),
        ("Total (notes 1 and 2)", "total"),
        ("COVID19 admissions", "covid19_admissions"),
        ("Covid19 admissions", "covid19_admissions"),
        ("covid19", "covid19"),
        ("week52", "week52"),  # already a clean name: kept as written
        ("data2", "data2"),
        ("Week52", "week52"),  # a number that belongs to its word
        ("June23 admissions", "june23_admissions"),
        ("A122", "a122"),
        ("Non-Admitted", "non_admitted"),
        ("Other Emergency Admissions (i.e not via A&E)", "other_emergency_admissions_i_e_not_via_a_and_e"),
    ],
)  # fmt: skip
def test_one_header(header, expected):
    assert table_names([[header]]) == [expected]


def test_comparison_number_and_unit_are_one_word():
    assert header_words("spending >4 hours but <12 hours") == [
        "spending", "over_4_hours", "but", "under_12_hours"
    ]  # fmt: skip
    assert header_words("A&E attendances") == ["a_and_e", "attendances"]


def test_footnote_digits_stay_where_dropping_them_would_merge_two_headers():
    assert table_names([["Total1"], ["Total2"], ["Monthly data3"]]) == [
        "total1", "total2", "monthly_data"
    ]  # fmt: skip
    assert table_names([["EU", "European Union1"], ["EU", "European Union"]]) == [
        "eu_european_union1", "eu_european_union"
    ]  # fmt: skip


def test_every_level_that_tells_siblings_apart_is_kept():
    band = "A&E attendances greater than 4 hours from arrival to admission, transfer or discharge"
    names = table_names(
        [
            ["A&E attendances", "Type 2 Departments - Single Specialty"],
            [band, "Type 2 Departments - Single Specialty"],
            [band, "Type 3 Departments - Other A&E/Minor Injury Unit"],
        ]
    )
    assert names == [
        "a_and_e_attendances_type_2_departments_single_specialty",
        "a_and_e_atts_over_4_hours_type_2_departments_single_specialty",
        "a_and_e_atts_over_4_hours_type_3_departments_other_a_and_e_miu",
    ]


def test_adjusted_and_unadjusted_bands_stay_apart():
    assert table_names([["Adjusted", "Unadjusted median"], ["Adjusted", "Median"]]) == [
        "adjusted_unadjusted_median", "adjusted_median"
    ]  # fmt: skip
    wide = "Admitted (unadjusted) RTT pathways: number of pathways completed in the month"
    names = table_names(
        [
            [wide.replace("unadjusted", "adjusted"), "No. of pathways within 18 weeks (all)"],
            [wide, "No. of pathways within 18 weeks (all)"],
            ["Non-Admitted RTT pathways completed", "No. of pathways within 18 weeks (all)"],
        ]
    )
    assert names[0].startswith("admitted_adjusted_")
    assert names[1].startswith("admitted_unadjusted_")
    assert names[2].startswith("non_admitted_")
    assert all("within_18_w" in name for name in names)


def test_a_band_the_sub_header_spells_out_is_not_repeated():
    names = table_names(
        [
            ["Emergency Admissions", "Emergency Admissions via Type 1 A&E"],
            ["Emergency Admissions", "Other"],
        ]
    )
    assert names == ["emergency_admissions_via_type_1_a_and_e", "emergency_admissions_other"]


def test_identical_headers_are_numbered():
    assert table_names([["Total"], ["Total"], ["Total_2"]]) == ["total", "total_3", "total_2"]


# --- properties --------------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["A&E", "attendances", "admissions", "Type 1", "Type 2", "Departments", "-", "Major",
     "Single Specialty", "Other", "Minor Injury Unit", "greater than", "less than", "> 4 hours",
     "< 4 hours", "<= 4 hours", "from", "arrival", "to", "admission", "transfer", "or",
     "discharge", "Number", "of", "patients", "Percentage", "%", "within 18 weeks", "No.",
     "Non-Admitted", "Adjusted", "Unadjusted", "RTT", "pathways", "decision to admit", "(all)",
     "Booked", "Appointments", "Total", "Median wait (weeks)", "2019", "Région", "notwithstanding",
     "extraordinarily", "comprehensively", "¹"]
)  # fmt: skip
TEXTS = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)


@st.composite
def tables(draw) -> list[list[str]]:
    """Columns under shared bands, one or two band rows deep, as NHS sheets have them."""
    headers = []
    for _ in range(draw(st.integers(1, 4))):
        bands = draw(st.lists(TEXTS, min_size=0, max_size=2))
        for leaf in draw(st.lists(TEXTS, min_size=1, max_size=5)):
            headers.append([*bands, leaf])
    return headers


@given(tables())
def test_names_are_unique_valid_identifiers_and_deterministic(headers):
    names = table_names(headers)
    assert len(names) == len(headers) == len(set(names))
    for name in names:
        assert IDENTIFIER.fullmatch(name), name
        assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    assert table_names([list(header) for header in headers]) == names


@given(tables())
def test_a_name_that_fits_keeps_every_header_word(headers):
    names = table_names(headers)
    for header, name in zip(headers, names, strict=True):
        words = [word for part in header for word in header_words(part)]
        # A footnote mark stays, where it was written, when a sibling differs only by it.
        marked = [word for part in header for word in header_words(part, footnotes=False)]
        room_for_x_prefixes = len(header)
        if len("_".join(marked)) + room_for_x_prefixes <= MAX_IDENTIFIER_BYTES:
            assert all(keeps(name, word) for word in words) or all(
                keeps(name, word) for word in marked
            ), (header, name)


@given(tables())
def test_no_name_loses_every_word_that_tells_it_from_a_sibling(headers):
    assert lost_distinctions(headers, table_names(headers)) == []
