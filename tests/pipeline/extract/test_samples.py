"""Acceptance: every genuine NHS file in ../shared/nhs-samples through ``inspect``.

The expectations were computed by opening each file (python-calamine and a text editor) and
checked where the publication allows it: for files that publish their own total (a TOTAL or
England row), the non-total rows must add up to exactly that total, which also proves the
totals rule marks the right rows.

Side-by-side blocks (the two CWT national time series) are stacked into one long table with
``block_title``/``block_subtitle`` columns naming the standard, so every block loads and the
schema does not change when a standard is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from datawarp.pipeline.inspect import open_table, report_for

pytestmark = pytest.mark.samples


@dataclass(frozen=True)
class Expected:
    sheet: str
    header_rows: list[int]
    row_count: int
    columns: tuple[str, ...]  # a few of the column names
    measure: str  # a numeric column
    measure_sum: float  # over every row, totals rows included
    total_rows: int
    totals_balance: bool = False  # non-total rows add up to the published total rows


EXPECTED: dict[str, Expected] = {
    "ae_monthly_provider/Monthly-AE-September-2023.csv": Expected(
        "Monthly-AE-September-2023", [1], 202,
        ("period", "org_code", "parent_org", "a_and_e_attendances_type_1",
         "patients_who_have_waited_4_12_hs_from_dta_to_admission"),
        "a_and_e_attendances_type_1", 2_689_460, 1, totals_balance=True,
    ),
    "ae_monthly_timeseries/AE_England_data.xls": Expected(
        "Activity", [17, 18], 105,
        ("period", "a_and_e_attendances_total_attendances", "total_emergency_admissions"),
        "a_and_e_attendances_total_attendances", 198_617_587.4285714, 0,
    ),
    "ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls": Expected(
        "Activity", [13, 14], 162,
        ("period", "a_and_e_attendances_type_1_departments_major_a_and_e",
         "emergency_admissions_via_type_1_a_and_e"),
        "a_and_e_attendances_total_attendances", 310_420_976.4285714, 0,
    ),
    "ae_weekly_sitrep/Weekly-AE-Sitrep-Provider-we-07-Nov-2010.xls": Expected(
        "A&E Data", [15, 16], 297,
        ("sha", "code", "name", "a_and_e_attendances_total_attendances"),
        "a_and_e_attendances_total_attendances", 782_990, 1, totals_balance=True,
    ),
    "ambco/AmbCO-up-to-20200731.csv": Expected(
        "AmbCO-up-to-20200731", [1], 2093, ("year", "org_code", "r1r", "p1n"),
        "r1n", 827_970, 109,
    ),
    "ambco/AmbCO-up-to-Nov-2019-CSV.csv": Expected(
        "AmbCO-up-to-Nov-2019-CSV", [1], 1998, ("year", "org_code", "r1r", "p1n"),
        "r1n", 788_340, 104,
    ),
    "ambsys/AmbSYS-to-July-2020.csv": Expected(
        "AmbSYS-to-July-2020", [1], 684, ("year", "month", "org_name", "a0", "a122"),
        "a0", 100_051_752, 36,
    ),
    "ambsys/AmbSYS-up-to-March-2020-CSV.csv": Expected(
        "AmbSYS-up-to-March-2020-CSV", [1], 608, ("year", "month", "org_name", "a0", "a122"),
        "a0", 89_613_588, 32,
    ),
    "beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx": Expected(
        "NHS Trust by Sector", [14, 15], 196,
        ("org_code", "available_total", "occupied_maternity", "percent_occupied_total"),
        "available_total", 241_656.8913043479, 1, totals_balance=True,
    ),
    "cancer_waiting_times/CWT-CRS-Apr-2023-to-Sep-2023-Data-Extract-Provider-Provisional.xlsx": Expected(
        "CWT CRS Provider Extract", [1], 51_509,
        ("period", "org_code", "stage_route", "total_treated", "breaches"),
        "total_treated", 2_363_280, 0,
    ),
    "cancer_waiting_times/CWT-CRS-Apr-23-to-Oct-23-Data-Extract-ICB-Sub-Location.xlsx": Expected(
        "CWT CRS ICB SubLocation Extract", [1], 7127,
        ("period", "icb_sub_location", "sub_category", "within_standard"),
        "total", 2_278_550, 0,
    ),
    "cancer_waiting_times/CWT-CRS-National-Time-Series-Oct-2009-Oct-2023-with-Revisions.xlsx": Expected(
        "Monthly Performance", [2, 3, 4], 93,  # 31 months x 3 standards
        ("block_title", "block_subtitle", "monthly", "total", "performance_percent"),
        "within_standard", 6_384_408, 0,
    ),
    "cancer_waiting_times/Cancer-Waiting-Times-National-Time-Series-Oct-2009-Sep-2023-with-Revisions.xlsx": Expected(
        "Monthly Data", [2, 3, 4], 1680,  # 168 months x 10 standards
        ("block_title", "block_subtitle", "monthly", "outside_standard"),
        "within_standard", 39_692_245, 0,
    ),
    "ccg_outcomes_indicators/CCG_1_2_I00754_D.xls": Expected(
        "Data", [18], 2136, ("reporting_period", "ons_code", "indicator_value", "ci_lower"),
        "numerator", 539_664, 12, totals_balance=True,
    ),
    "mhsds_4ww/MHSDS%20Data_4WW_AprPerf_2024_v2.csv": Expected(
        "MHSDS%20Data_4WW_AprPerf_2024_v2", [1], 19_958,
        ("reporting_period_start", "breakdown", "measure_id", "measure_value"),
        "measure_value", 13_481_650.474072, 44,
    ),
    "proms_csv_datapack/Equality Hip and Knee Replacement 1617.csv.zip": Expected(
        "Equality Hip and Knee Replacement 1617", [1], 732,
        ("dimension", "heath_gain_mean", "improved", "total"),
        "total", 1_775_732, 6,
    ),
    "proms_csv_datapack/Key Facts Hip and Knee Replacement 1617.csv.zip": Expected(
        "Key Facts Hip and Knee Replacement 1617", [1], 8138,
        ("lookup", "organsation_name", "total", "percent_improved"),
        "total", 1_508_505, 18,
    ),
    "proms_csv_datapack/Key Facts Hip and Knee Replacements 1718.csv.zip": Expected(
        "Key Facts Hip and Knee Replacements 1718", [1], 8044,
        ("lookup", "organsation_name", "total", "percent_improved"),
        "total", 1_305_479, 18,
    ),
    "proms_csv_datapack/Time Series Hip and Knee Replacement 1819.csv.zip": Expected(
        "Time Series Hip and Knee Replacement 1819", [1], 4530,
        ("org_code", "modelled_records_2011", "adjusted_health_gain_2018", "outlier_2018"),
        "modelled_records_2018", 947_792, 18,
    ),
    "rtt_full_csv_subset_DERIVED/20241130-RTT-November-2024-RBD.csv": Expected(
        "20241130-RTT-November-2024-RBD", [1], 512,
        ("treatment_function_name", "gt_00_to_01_weeks_sum_1", "total_all"),
        "total_all", 72_992, 112, totals_balance=True,
    ),
    "rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx": Expected(
        "Full Time Series", [9, 10], 192,
        ("year", "month", "incomplete_rtt_pathways_median_wait_weeks", "no_of_new_rtt_periods"),
        "incomplete_rtt_pathways_no_within_18_weeks", 514_406_572, 0,
    ),
    "rtt_provider_new_periods/New-Periods-Provider-Apr23.xls": Expected(
        "Provider", [14], 4080,
        ("region_code", "provider_code", "treatment_function",
         "number_of_new_rtt_clock_starts_during_the_month"),
        "number_of_new_rtt_clock_starts_during_the_month", 2_804_002, 170, totals_balance=True,
    ),
    "workforce_nationality/EU_and_UK_nationals_by_staff_group_and_organisation__September_2016.xlsx": Expected(
        "final", [4, 5], 449, ("column_a", "column_b", "column_c", "eu_all_staff", "uk_other_staff"),
        "eu_all_staff", 179_599, 1,
    ),
    "workforce_nationality/hchs-staff-by-staff-group-nationality-and-organisation-september-2017-and-june-2018_ah2324.xlsx": Expected(
        "Data", [1], 81_603, ("month", "organisation_code", "staff_group", "nationality", "fte"),
        "fte", 2_114_580.14814, 0,
    ),
}  # fmt: skip


def sample_files(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name != "README.md"
    }


def test_every_sample_has_expectations(nhs_samples):
    assert sample_files(nhs_samples) == set(EXPECTED)


@pytest.mark.parametrize("relative_path", sorted(EXPECTED))
def test_sample_loads_as_expected(nhs_samples, relative_path, tmp_path):
    expected = EXPECTED[relative_path]
    table = open_table(str(nhs_samples / relative_path), cache_dir=tmp_path)
    report = report_for(table)  # what `datawarp inspect` shows
    assert report.sheet == expected.sheet
    assert report.layout.header_rows == expected.header_rows
    assert report.row_count == expected.row_count
    names = [column.name for column in report.columns]
    assert set(expected.columns) <= set(names), names
    assert report.total_row_count == expected.total_rows

    position = names.index(expected.measure)
    assert report.columns[position].pg_type in {"smallint", "integer", "bigint", "numeric"}
    everything, in_totals, rows = Decimal(0), Decimal(0), 0
    for batch in table.iter_batches():
        for row in batch:
            rows += 1
            value = row[position]
            if value is not None:
                everything += value
                if row[-2]:
                    in_totals += value
    assert rows == expected.row_count
    assert float(everything) == pytest.approx(expected.measure_sum, rel=1e-12)
    if expected.totals_balance:
        assert float(everything - in_totals) == pytest.approx(float(in_totals), rel=1e-12)


def test_cwt_blocks_are_named_by_their_standard(nhs_samples, tmp_path):
    path = nhs_samples / "cancer_waiting_times"
    path /= "CWT-CRS-National-Time-Series-Oct-2009-Oct-2023-with-Revisions.xlsx"
    table = open_table(str(path), cache_dir=tmp_path)
    assert table.sheet_ambiguous
    assert table.layout.blocks == 3
    first_rows = next(table.iter_batches(batch_size=3))
    assert [row[0].split()[:2] for row in first_rows] == [
        ["Four", "Week"],
        ["One", "Month"],
        ["Two", "Month"],
    ]
    assert [row[1] for row in first_rows][0] == "Operational Standard = 75% from Q3 2021/22"
    assert all(row[-3] == 5 for row in first_rows)  # one sheet row, three table rows

    referrals = open_table(str(path), sheet="Monthly Referrals Seen", cache_dir=tmp_path)
    assert referrals.column_names == ["block_title", "monthly", "total"]
    assert referrals.row_count == 2 * 169


def test_workbooks_identify_cover_notes_and_hidden_sheets(nhs_samples, tmp_path):
    path = nhs_samples / "ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls"
    report = report_for(open_table(str(path), cache_dir=tmp_path))
    assert [(s.name, s.kind, s.hidden) for s in report.sheets] == [
        ("Activity", "data", False),
        ("Performance", "data", False),
        ("Booking", "data", False),
        ("Notes", "notes", False),
        ("Chart Data", "chart", True),
        ("Charts", "chart", True),
    ]
    assert report.sheet_ambiguous
    assert report.metadata["Published"] == "8th February 2024"
    assert report.metadata["Banner"] == "England Level Data"

    ccg = report_for(
        open_table(
            str(nhs_samples / "ccg_outcomes_indicators/CCG_1_2_I00754_D.xls"), cache_dir=tmp_path
        )
    )
    assert [(s.name, s.kind) for s in ccg.sheets] == [
        ("Title sheet", "cover"),
        ("Notes and definitions", "notes"),
        ("Data", "data"),
    ]
    assert not ccg.sheet_ambiguous


def test_ae_editions_name_their_england_rows_alike(nhs_samples, tmp_path):
    """The banner over a one-block sheet is its block_title, as over each of two blocks."""
    folder = nhs_samples / "ae_monthly_timeseries"

    def block_titles(name: str, sheet: str) -> set[str] | None:
        table = open_table(str(folder / name), sheet=sheet, cache_dir=tmp_path)
        if "block_title" not in table.column_names:
            return None
        position = table.column_names.index("block_title")
        return {row[position] for batch in table.iter_batches() for row in batch}

    old, new = "AE_England_data.xls", "Monthly-AE-Time-Series-January-2024.xls"
    assert block_titles(old, "Activity") == block_titles(new, "Activity") == {"England Level Data"}
    assert block_titles(old, "Performance") == {"England Level Data", "Field Testing Sites Only"}
    # The 2024 Performance sheet has no banner at all: nothing says which rows these are.
    assert block_titles(new, "Performance") is None
