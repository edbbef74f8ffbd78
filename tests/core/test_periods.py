"""Periods: week-ending and ISO-week forms, the days a period covers, and reading periods out of
title blocks and file names (genuine NHS names included), without a database."""

from __future__ import annotations

from datetime import date

import pytest

from datawarp.core.errors import BadInputError
from datawarp.core.period_inference import disagreements, infer_period
from datawarp.core.period_text import file_name_of, read_period_text
from datawarp.core.periods import Period, parse_period, period_span


@pytest.mark.parametrize(
    ("written", "canonical", "kind"),
    [
        ("week ending 2023-10-01", "2023-10-01", "week_ending"),
        ("Week Ending 07/11/2010", "2010-11-07", "week_ending"),
        ("w/e 01/10/2023", "2023-10-01", "week_ending"),
        ("W.E. 1 Oct 2023", "2023-10-01", "week_ending"),
        ("WE Sunday 1st October 2023", "2023-10-01", "week_ending"),
        ("2023-W39", "2023-W39", "week"),
        ("2023w39", "2023-W39", "week"),
        ("W39 2023", "2023-W39", "week"),
        ("2020-W53", "2020-W53", "week"),
        # unchanged: a bare date on the 1st is the month, which is why the forms above exist
        ("2023-10-01", "2023-10", "month"),
    ],
)
def test_weeks_are_written_as_week_ending_or_iso_weeks(written, canonical, kind):
    period = parse_period(written)
    assert (period.text, period.kind) == (canonical, kind)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("2021-W53", "2021 has no ISO week 53"),
        ("2023-W00", "2023 has no ISO week 0"),
        ("week ending 2023-02-30", "day is out of range"),
        ("week ending soon", "no date in 'soon'"),
    ],
)
def test_impossible_weeks_are_refused_with_the_reason(bad, reason):
    with pytest.raises(BadInputError, match=reason):
        parse_period(bad)


@pytest.mark.parametrize(
    ("written", "first", "last"),
    [
        ("2025-09", date(2025, 9, 1), date(2025, 9, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31)),
        ("2025-26", date(2025, 4, 1), date(2026, 3, 31)),
        ("2025-26 Q4", date(2026, 1, 1), date(2026, 3, 31)),
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("2023-W39", date(2023, 9, 25), date(2023, 10, 1)),
        ("week ending 2023-10-01", date(2023, 9, 25), date(2023, 10, 1)),
        ("2010-11-07", date(2010, 11, 7), date(2010, 11, 7)),
    ],
)
def test_a_period_spans_the_days_the_catalog_gives_it(written, first, last):
    assert period_span(parse_period(written)) == (first, last)


# --- reading what publishers wrote --------------------------------------------------------


def _read(text: str, **kwargs) -> tuple[str | None, str | None] | str:
    reading = read_period_text(text, **kwargs)
    if reading.several:
        return "several"
    if reading.ambiguous:
        return "ambiguous"
    return (reading.period.text, reading.period.kind) if reading.period else (None, None)


@pytest.mark.parametrize(
    ("title", "expected"),
    [  # the Period: lines of the genuine samples' title blocks
        ("Week Ending 07/11/2010", ("2010-11-07", "week_ending")),
        ("July to September 2020", ("2020-21-Q2", "fiscal_quarter")),  # KH03
        ("April 2023", ("2023-04", "month")),
        ("April 2007 to June 2022", "several"),
        ("August 2010 - present", "several"),
        # and the other ways a title block says it
        ("January to March 2021", ("2020-21-Q4", "fiscal_quarter")),
        ("April 2020 to March 2021", ("2020-21", "fiscal_year")),
        ("Quarter 2 2020/21", ("2020-21-Q2", "fiscal_quarter")),
        ("Q1 2010", ("2010-Q1", "quarter")),
        ("2016", ("2016", "year")),
        ("2016/17", ("2016-17", "fiscal_year")),
        ("Week 39 2023", ("2023-W39", "week")),
        ("September 2017 and June 2018", "several"),
        ("2011-12", "ambiguous"),  # December 2011, or the financial year
        ("1st October 2023", "ambiguous"),  # the month, or a day or week
        ("N/A", (None, None)),
    ],
)
def test_title_block_periods(title, expected):
    assert _read(title, whole_year=True) == expected


@pytest.mark.parametrize(
    ("location", "expected"),
    [  # the genuine samples' names
        ("ae_weekly_sitrep/Weekly-AE-Sitrep-Provider-we-07-Nov-2010.xls", ("2010-11-07", "week_ending")),
        ("ae_monthly_provider/Monthly-AE-September-2023.csv", ("2023-09", "month")),
        ("rtt_provider_new_periods/New-Periods-Provider-Apr23.xls", ("2023-04", "month")),
        ("rtt_full_csv_subset_DERIVED/20241130-RTT-November-2024-RBD.csv", ("2024-11", "month")),
        ("workforce_nationality/EU_and_UK_nationals_by_staff_group_and_organisation__September_2016.xlsx", ("2016-09", "month")),
        ("ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls", "several"),
        ("rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx", "several"),
        ("ambsys/AmbSYS-up-to-March-2020-CSV.csv", "several"),
        ("ambsys/AmbSYS-to-July-2020.csv", "several"),
        ("cancer_waiting_times/CWT-CRS-Apr-2023-to-Sep-2023-Data-Extract-Provider-Provisional.xlsx", "several"),
        ("cancer_waiting_times/CWT-CRS-National-Time-Series-Oct-2009-Oct-2023-with-Revisions.xlsx", "several"),
        ("workforce_nationality/hchs-staff-by-staff-group-nationality-and-organisation-september-2017-and-june-2018_ah2324.xlsx", "several"),
        ("beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx", (None, None)),
        ("ambco/AmbCO-up-to-20200731.csv", (None, None)),  # 8-digit stamps are not read
        ("mhsds_4ww/MHSDS%20Data_4WW_AprPerf_2024_v2.csv", (None, None)),  # nor a lone year
        ("proms_csv_datapack/Key Facts Hip and Knee Replacement 1617.csv.zip", (None, None)),
        # other NHS-style names
        ("https://x.nhs.uk/files/ae-sitrep-we-01-Oct-2023.csv?v=2", ("2023-10-01", "week_ending")),
        ("KH03-2010-11-Q1.xlsx", ("2010-11-Q1", "fiscal_quarter")),
        ("bed-availability-2023-W39.csv", ("2023-W39", "week")),
        ("Referral-to-Treatment-Oct-2023.csv", ("2023-10", "month")),
        ("sitrep-2023-10-01.csv", "ambiguous"),
    ],
)  # fmt: skip
def test_file_name_periods(location, expected):
    assert _read(file_name_of(location)) == expected


def test_file_names_lose_every_extension_and_url_part():
    assert file_name_of("/d/Key Facts 1617.csv.zip") == "Key Facts 1617"
    assert file_name_of("https://h/x/Monthly-AE-Oct-2023.xls?download=1") == "Monthly-AE-Oct-2023"


# --- choosing between them ----------------------------------------------------------------


def test_the_title_block_comes_before_the_file_name_and_a_disagreement_is_said():
    found = infer_period({"Period": "July to September 2020"}, "/d/Beds-Jun-2020.xlsx")
    assert (found.period, found.source) == (Period("2020-21-Q2", "fiscal_quarter"), "title")
    assert found.evidence == "the title block (Period: July to September 2020)"
    assert found.warnings == [
        "the file name (Beds-Jun-2020) suggests 2020-06, the title block (Period: July to"
        " September 2020) 2020-21-Q2: loading as 2020-21-Q2"
    ]


def test_the_file_name_is_used_when_the_title_block_has_no_period():
    found = infer_period({"Title": "A&E"}, "/d/Monthly-AE-October-2023.csv")
    assert (found.period.text, found.source, found.warnings) == ("2023-10", "file_name", [])
    assert found.evidence == "the file name (Monthly-AE-October-2023)"


def test_a_title_naming_several_periods_is_not_overruled_by_the_edition_in_the_name():
    found = infer_period({"Period": "April 2007 to June 2022"}, "/d/RTT-Overview-Jun22.xlsx")
    assert (found.period, found.source) == (None, None)
    assert found.tried == [
        "the title block (Period: April 2007 to June 2022) names several periods"
    ]


def test_nothing_found_says_what_each_place_held():
    found = infer_period({}, "/d/sitrep-2023-10-01.csv")
    assert found.period is None
    assert found.tried == [
        "the title block has no Period: line",
        "the file name (sitrep-2023-10-01) is ambiguous: 2023-10-01 could be the month 2023-10"
        " or a day or week",
    ]


def test_a_week_ending_key_reads_its_date_as_a_week():
    found = infer_period({"Week ending": "01/10/2023"}, "/d/x.csv")
    assert (found.period, found.source) == (Period("2023-10-01", "week_ending"), "title")


def test_a_manifest_period_the_file_contradicts_is_named():
    manifest = parse_period("2023-10")
    assert disagreements(manifest, {}, "/d/Monthly-AE-September-2023.csv") == [
        "the manifest says 2023-10, but the file name (Monthly-AE-September-2023) says 2023-09:"
        " is this the right file for 2023-10?"
    ]
    # the same days written another way are no disagreement
    quarter = parse_period("2020-Q3")
    assert disagreements(quarter, {"Period": "July to September 2020"}, "/d/kh03.xlsx") == []
    assert disagreements(parse_period("2023-09"), {}, "/d/Monthly-AE-September-2023.csv") == []
