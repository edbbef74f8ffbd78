"""Layouts of NHS publications outside the samples, as workbooks built here (openpyxl).

Each is a habit seen in a genuine file (community services, vaccinations, staff survey,
cancelled operations, GP registrations): a table wide by month, a group row above a title
and a note, a group label that is a long phrase, a banner over the data columns, a group
label written in an empty spacer column. Each workbook goes through ``open_table``, the path
``datawarp inspect`` and a load take.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from datawarp.pipeline.extract.table import NoTableError
from datawarp.pipeline.inspect import open_table

MONTHS = ["Apr-25", "May-25", "Jun-25", "Jul-25", "Aug-25", "Sep-25"]
MONTHS += ["Oct-25", "Nov-25", "Dec-25", "Jan-26", "Feb-26", "Mar-26"]


def workbook(path: Path, rows: list[list[object]], *merges: str, sheet: str = "Data") -> str:
    book = openpyxl.Workbook()
    data = book.active
    data.title = sheet
    for row in rows:
        data.append(row)
    for cells in merges:
        data.merge_cells(cells)
    book.save(path)
    return str(path)


def records(table) -> list[dict[str, object]]:
    """Each row as {column name: value} (the trailing row number and flags left out)."""
    names = table.column_names
    rows = [row for batch in table.iter_batches() for row in batch]
    return [dict(zip(names, row[: len(names)], strict=True)) for row in rows]


# ---------------------------------------------------------------------------------------------
# A table wide by month


def test_month_labels_written_as_text_head_a_table_wide_by_month(tmp_path):
    rows = [
        ["Community services waiting list by service, 2025-26"],
        ["Source: Community Health Services SitRep"],
        [None],
        ["Service", *MONTHS],
        ["Audiology", 120, 130, 125, 140, 150],  # later months not yet published
        ["Podiatry", 80, 85, 90, 95, "*"],
        ["Physiotherapy", 300, 310, 320, 330, 335],
        [None],
        ["* = suppressed"],
    ]
    table = open_table(workbook(tmp_path / "chs.xlsx", rows), cache_dir=tmp_path)
    assert [(sheet.name, sheet.kind) for sheet in table.sheets] == [("Data", "data")]
    assert table.layout.header_rows == [4]
    assert table.column_names == ["service", "apr_25", "may_25", "jun_25", "jul_25", "aug_25",
                                  "sep_25", "oct_25", "nov_25", "dec_25", "jan_26", "feb_26",
                                  "mar_26"]  # fmt: skip
    assert [column.original_header for column in table.columns[1:3]] == ["Apr-25", "May-25"]
    assert table.row_count == 3
    podiatry = records(table)[1]
    assert (podiatry["service"], podiatry["apr_25"], podiatry["aug_25"]) == ("Podiatry", 80, None)
    assert podiatry["mar_26"] is None
    assert any("wide by month: 12 columns" in w and "Apr-25 to Mar-26" in w for w in table.warnings)


def test_excel_dates_heading_columns_are_a_header_too(tmp_path):
    months = [dt.datetime(2025, month, 1) for month in (4, 5, 6)]
    rows = [["GP registrations"], [None], ["Practice code", "Practice name", *months]]
    rows += [["A81001", "The Densham Surgery", 4100, 4120, 4135]]
    table = open_table(workbook(tmp_path / "gp.xlsx", rows), cache_dir=tmp_path)
    assert table.column_names == [
        "practice_code",
        "practice_name",
        "x2025_04_01",
        "x2025_05_01",
        "x2025_06_01",
    ]
    assert records(table)[0]["x2025_06_01"] == 4135


def test_a_row_of_months_over_text_is_not_a_header(tmp_path):
    rows = [["Revisions"], [None], ["Audiology", "Apr-25", "May-25", "Jun-25"]]
    rows += [["Podiatry", "Jul-25", "Aug-25", "Sep-25"]]
    path = workbook(tmp_path / "notes.xlsx", rows)
    with pytest.raises(NoTableError, match="no loadable table; sheets: 'Data' \\(notes\\)"):
        open_table(path, cache_dir=tmp_path)


# ---------------------------------------------------------------------------------------------
# Group rows


def test_a_group_row_above_a_title_and_a_note_line_names_its_columns(tmp_path):
    questions = ["Q1 I look forward to going to work", "Q2 I am enthusiastic about my job"]
    answers = ["Percent never", "Percent sometimes", "Percent always"]
    rows = [
        ["NHS Staff Survey 2024: question results by organisation"],
        [None],
        [None, questions[0], None, None, questions[1], None, None],
        ["Percentage of staff selecting each response"],
        ["Note: responses are weighted to the staff group profile"],
        ["Organisation", *answers, *answers],
        ["Trust A", 0.1, 0.5, 0.4, 0.2, 0.5, 0.3],
        ["Trust B", 0.2, 0.4, 0.4, 0.1, 0.6, 0.3],
    ]
    path = workbook(tmp_path / "survey.xlsx", rows, "B3:D3", "E3:G3")
    table = open_table(path, cache_dir=tmp_path)
    assert table.layout.header_rows == [3, 6]
    names = table.column_names
    assert names[0] == "organisation"
    assert names[1].startswith("q1_") and names[1].endswith("percent_never")
    assert names[4].startswith("q2_") and names[4].endswith("percent_never")
    assert not any(name.endswith("_2") for name in names)
    assert table.columns[4].original_header == f"{questions[1]} | Percent never"
    assert table.metadata["Note"] == "responses are weighted to the staff group profile"
    trust_b = records(table)[1]
    assert (trust_b[names[1]], trust_b[names[4]]) == (Decimal("0.2"), Decimal("0.1"))


def test_a_long_phrase_leading_the_group_row_is_a_column_label(tmp_path):
    rows = [
        ["Title:", "COVID-19 vaccinations by region of residence"],
        ["Period:", "Week ending 5 October 2025"],
        [None],
        ["NHS Region of Residence Name", "NHS Region of Residence Code", "Dose 1", None, None,
         "Dose 2", None, None, "Total doses"],
        [None, None, "Under 18", "18-49", "50+", "Under 18", "18-49", "50+", None],
        ["London", "Y56", 10, 20, 30, 5, 15, 25, 105],
        ["North West", "Y62", 11, 21, 31, 6, 16, 26, 111],
    ]  # fmt: skip
    merges = ("A4:A5", "B4:B5", "C4:E4", "F4:H4", "I4:I5")
    table = open_table(workbook(tmp_path / "vacc.xlsx", rows, *merges), cache_dir=tmp_path)
    assert table.layout.header_rows == [4, 5]
    assert table.column_names == [
        "nhs_region_of_residence_name",
        "nhs_region_of_residence_code",
        "dose_1_under_18",
        "dose_1_x18_49",
        "dose_1_x50_plus",
        "dose_2_under_18",
        "dose_2_x18_49",
        "dose_2_x50_plus",
        "total_doses",
    ]
    assert not any("no header" in warning for warning in table.warnings)
    assert records(table)[1]["dose_2_x50_plus"] == 26


def test_a_title_sentence_beside_empty_cells_stays_out_of_the_header(tmp_path):
    rows = [
        ["NHS Trusts and CCGs, as at 30 September 2016", None, None, None, "headcount"],
        [None, "EU", None, "UK"],
        [None, "All staff", "Doctors", "All staff", "Doctors"],
        ["Trust X", 108, 21, 3565, 265],
    ]
    table = open_table(workbook(tmp_path / "title.xlsx", rows), cache_dir=tmp_path)
    assert table.layout.header_rows == [2, 3]
    assert table.column_names == [
        "column_a",
        "eu_all_staff",
        "eu_doctors",
        "uk_all_staff",
        "uk_doctors",
    ]


def test_a_group_label_over_an_empty_spacer_column_belongs_to_the_group(tmp_path):
    rows = [
        ["Title:", "Vaccinations by dose"],
        [None],
        [None, None, "Dose 1", None, None, "Dose 2", None, None],
        ["Region", "Code", None, "Under 18", "18-49", None, "Under 18", "18-49"],
        ["London", "Y56", None, 10, 20, None, 5, 15],
        ["North West", "Y62", None, 11, 21, None, 6, 16],
    ]
    path = workbook(tmp_path / "spacer.xlsx", rows, "C3:E3", "F3:H3")
    table = open_table(path, cache_dir=tmp_path)
    assert table.column_names == [
        "region",
        "code",
        "dose_1_under_18",
        "dose_1_x18_49",
        "dose_2_under_18",
        "dose_2_x18_49",
    ]
    assert [column.source_column for column in table.columns] == ["A", "B", "D", "E", "G", "H"]
    assert not any("column C" in warning for warning in table.warnings)


# ---------------------------------------------------------------------------------------------
# Banners


def test_a_banner_over_the_data_columns_is_the_block_title_not_a_name_prefix(tmp_path):
    rows = [
        ["Title:", "Cancelled elective operations"],
        ["Period:", "Q2 2025-26"],
        [None],
        [None, None, None, "Provider Level Data"],
        ["Code", "Name", "Region", "Cancelled operations", "Breaches", "Breach rate"],
        ["RXX", "Trust X", "London", 10, 2, 0.2],
        ["RYY", "Trust Y", "London", 20, 4, 0.2],
    ]
    path = workbook(tmp_path / "qmco.xlsx", rows, "D4:F4")
    table = open_table(path, cache_dir=tmp_path)
    assert table.layout.header_rows == [5]
    assert table.column_names == [
        "block_title",
        "code",
        "name",
        "region",
        "cancelled_operations",
        "breaches",
        "breach_rate",
    ]
    assert {row["block_title"] for row in records(table)} == {"Provider Level Data"}


def blocks_workbook(path: Path) -> str:
    """The A&E monthly time series: a two-block edition and a one-block edition."""
    book = openpyxl.Workbook()
    title = [["Title:", "A&E Attendances and Emergency Admissions"], [None]]
    two = book.active
    two.title = "2019 edition"
    for row in [
        *title,
        ["England Level Data", None, None, None, "Field Testing Sites Only"],
        ["Period", "Type 1", "Type 2", None, "Period", "Type 1", "Type 2"],
        [dt.datetime(2019, 4, 1), 100, 10, None, dt.datetime(2019, 4, 1), 7, 1],
    ]:
        two.append(row)
    one = book.create_sheet("2018 edition")
    for row in [
        *title,
        ["England Level Data"],
        ["Period", "Type 1", "Type 2"],
        [dt.datetime(2018, 4, 1), 90, 9],
    ]:
        one.append(row)
    bare = book.create_sheet("2024 edition")
    for row in [*title, [None], ["Period", "Type 1", "Type 2"], [dt.datetime(2024, 1, 1), 99, 8]]:
        bare.append(row)
    book.save(path)
    return str(path)


def test_one_block_under_a_banner_has_the_block_title_two_blocks_have(tmp_path):
    path = blocks_workbook(tmp_path / "ae.xlsx")
    two = open_table(path, sheet="2019 edition", cache_dir=tmp_path)
    one = open_table(path, sheet="2018 edition", cache_dir=tmp_path)
    assert two.column_names == one.column_names == ["block_title", "period", "type_1", "type_2"]
    assert [row["block_title"] for row in records(two)] == [
        "England Level Data",
        "Field Testing Sites Only",
    ]
    assert [(row["block_title"], row["type_1"]) for row in records(one)] == [
        ("England Level Data", 90)
    ]
    assert one.metadata["Banner"] == "England Level Data"
    # No banner, no title: the file does not say which rows these are.
    bare = open_table(path, sheet="2024 edition", cache_dir=tmp_path)
    assert bare.column_names == ["period", "type_1", "type_2"]
