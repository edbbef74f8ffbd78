"""Header cleaning into PostgreSQL identifiers (datawarp.pipeline.extract.names)."""

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawarp.core.naming import MAX_IDENTIFIER_BYTES
from datawarp.core.naming import PROVENANCE_PREFIX as RESERVED_PREFIX
from datawarp.pipeline.extract.column_names import clean_name, clean_names

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Org Code", "org_code"),
        ("OrgCode", "org_code"),
        ("orgCode", "org_code"),
        ("ORG CODE", "org_code"),
        ("NHSEngland", "nhs_england"),
        ("eGFR", "e_gfr"),
        ("% Occupied", "percent_occupied"),
        ("A&E attendances Type 1", "a_and_e_attendances_type_1"),
        ("# of beds", "number_of_beds"),
        ("4-12 hs", "x4_12_hs"),
        ("52+", "x52_plus"),
        ("Gt 52+ Weeks", "gt_52_plus_weeks"),
        ("Cost (£)", "cost"),
        ("Spend $000s", "spend_000s"),
        ("€ total", "total"),
        ("Patient's count", "patients_count"),
        ("Patient\u2019s count", "patients_count"),
        ("Café", "cafe"),
        ("Straße", "strasse"),
        ("Ærø", "aero"),
        ("ÆRØ Code", "aero_code"),
        ("CaféName", "cafe_name"),
        ("MSitAE", "m_sit_ae"),
        ("Patients with LTCs", "patients_with_ltcs"),  # an acronym's plural is one word
        ("GPs", "gps"),
        ("GPsTotal", "gps_total"),
        ("CCGs (number)", "ccgs_number"),
        ("Apr-25", "apr_25"),  # a month heading of a table wide by month
        ("apr25", "apr25"),  # a month's year is no footnote mark
        ("Sept 2025", "sept_2025"),
        ("A\u2013B", "a_b"),
        ("Org\u00a0Name", "org_name"),
        ("\uff05 rate", "percent_rate"),
        ("  --Total--  ", "total"),
        ("Gt 00 To 01 Weeks SUM 1", "gt_00_to_01_weeks_sum_1"),
        ("SQU03_5_1_1", "squ03_5_1_1"),
        ("R1r", "r1r"),
        ("REPORTING_PERIOD_START", "reporting_period_start"),
        ("_load_id", "load_id"),
        ("", "x"),
        ("___", "x"),
        ("\u60a3\u8005\u6570", "x"),
        (None, "x"),
        (2019, "x2019"),
        (2019.0, "x2019"),
        (dt.datetime(2025, 4, 1), "x2025_04_01"),
        (dt.date(2025, 4, 1), "x2025_04_01"),
    ],
)
def test_clean_name(header, expected):
    assert clean_name(header) == expected


def test_long_header_is_abbreviated_before_it_is_cut():
    header = (
        "Number of patients waiting more than eighteen weeks for a first outpatient appointment"
    )
    assert clean_name(header) == "no_of_pts_waiting_over_eighteen_wks_for_a_first_outpatient_appt"


def test_long_header_is_cut_with_a_stable_hash_as_the_last_resort():
    header = "Number of patients waiting more than eighteen weeks " * 3
    name = clean_name(header)
    assert len(name) == MAX_IDENTIFIER_BYTES
    assert re.fullmatch(r"[a-z0-9_]+_[0-9a-f]{6}", name)
    assert clean_name(header) == name
    assert name.startswith("no_pts_waiting_over_eighteen_wks_no_pts_waiting_")


def test_long_headers_sharing_a_prefix_stay_distinct():
    prefix = "Percentage of patients seen within the operational standard "
    first, second = clean_name(prefix + "for breast"), clean_name(prefix + "for skin")
    assert first != second
    assert first[:50] == second[:50]


def test_name_of_exactly_63_bytes_is_kept_whole():
    assert clean_name("a" * 63) == "a" * 63


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["a", "b"], ["a", "b"]),
        (["a", "a", "a"], ["a", "a_2", "a_3"]),
        (["Org Code", "org_code", "ORG CODE"], ["org_code", "org_code_2", "org_code_3"]),
        (["a", "a", "a_2"], ["a", "a_3", "a_2"]),
        (["a_2", "a", "a"], ["a_2", "a", "a_3"]),
        (["", None, "  "], ["x", "x_2", "x_3"]),
        ([], []),
    ],
)
def test_clean_names_makes_repeats_unique(headers, expected):
    assert clean_names(headers) == expected


def test_suffixed_long_names_still_fit():
    names = clean_names(["b" * 80] * 12)
    assert len(set(names)) == 12
    assert all(len(name) <= MAX_IDENTIFIER_BYTES for name in names)
    assert names[11].endswith("_12")


# --- properties --------------------------------------------------------------------------------

headers = st.one_of(st.text(), st.text(alphabet="aA1 _%+&#-£é", max_size=120), st.none())


@given(headers)
def test_clean_name_always_gives_a_valid_identifier(header):
    name = clean_name(header)
    assert IDENTIFIER.fullmatch(name)
    assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    assert not name.startswith(RESERVED_PREFIX)
    assert clean_name(header) == name


@given(headers)
def test_clean_name_is_idempotent(header):
    name = clean_name(header)
    assert clean_name(name) == name


@given(st.lists(headers, max_size=40))
def test_clean_names_are_unique_valid_and_deterministic(header_list):
    names = clean_names(header_list)
    assert len(names) == len(header_list)
    assert len(set(names)) == len(names)
    assert all(IDENTIFIER.fullmatch(name) and len(name) <= MAX_IDENTIFIER_BYTES for name in names)
    assert clean_names(list(header_list)) == names


@given(st.lists(st.sampled_from(["a", "a_2", "a_3", "A", "b", "x"]), max_size=20))
def test_a_header_whose_clean_name_is_unique_keeps_it(header_list):
    cleaned = [clean_name(header) for header in header_list]
    for own_name, name in zip(cleaned, clean_names(header_list), strict=True):
        if cleaned.count(own_name) == 1:
            assert name == own_name


def test_system_column_names_are_numbered_like_repeats():
    assert clean_names(["xmin", "Org Code", "CTID", "xmin_2", "tableoid"]) == [
        "xmin_3", "org_code", "ctid_2", "xmin_2", "tableoid_2"
    ]  # fmt: skip
