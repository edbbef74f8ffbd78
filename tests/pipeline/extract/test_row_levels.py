"""``_level`` and decorated totals: the rules, the genuine files that mix levels, generated ones.

Every CSV here is read on both paths (the Arrow fast path and the Python reference) and the
two must agree row by row (``assert_same`` compares ``_is_total`` and ``_level`` with the
rest); expected levels are worked out from the file itself, independently of DataWarp.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from datawarp.cli import inspect_cmd
from datawarp.pipeline.extract import arrow_levels
from datawarp.pipeline.extract.arrow_values import total_mask
from datawarp.pipeline.extract.level_rules import breakdown_level, code_level, name_level
from datawarp.pipeline.extract.total_labels import is_total_label
from datawarp.pipeline.inspect import open_table, report_for
from tests.pipeline.extract.test_arrow_csv import arrow_rows, assert_same, open_both

AMBSYS = "ambsys/AmbSYS-up-to-March-2020-CSV.csv"
AMBSYS_JULY = "ambsys/AmbSYS-to-July-2020.csv"
WORKFORCE = (
    "workforce_nationality/EU_and_UK_nationals_by_staff_group_and_organisation__September_2016.xlsx"
)
MHSDS = "mhsds_4ww/MHSDS%20Data_4WW_AprPerf_2024_v2.csv"
REGION_CODES = {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}


def python_rows(table) -> list[tuple]:
    return [row for batch in table.iter_batches() for row in batch]


def levels_of(rows: list[tuple]) -> list[str | None]:
    return [row[-1] for row in rows]


# ---------------------------------------------------------------------------------------------
# The rules for one value


CODES = {
    "national": "E92000001 Eng ENG",
    "region": "Y56 Y63 Y54 E40000003 Q35",
    "system": "QE1 QHG QH8 E54000008",
    "organisation": "RRU R1F RXX01 TAF NN4 NFH01 AAH ADP02 8J094 C83023 Y00751 03V 99D E38000004 5J9",
    None: "- 108 APR NHS RED OTHER AMBER rru TOTAL C_100 MRS01 Q45 Y64 England DD401",
}


@pytest.mark.parametrize(
    ("code", "level"), [(code, level) for level, codes in CODES.items() for code in codes.split()]
)
def test_code_shapes(code, level):
    assert code_level(code) == level


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("Health Education East Midlands", "region"),
        ("Health Education Kent, Surrey and Sussex", "region"),
        ("NHS ENGLAND SOUTH WEST", "region"),
        ("London Commissioning Region", "region"),
        ("NHS LANCASHIRE AND SOUTH CUMBRIA INTEGRATED CARE BOARD", "system"),
        ("NHS Somewhere ICB", "system"),
        ("North East England NHS Trust", "organisation"),
        ("Chesterfield Royal Hospital NHS Foundation Trust", "organisation"),
        ("SOUTH EAST COMMISSIONING HUB (14G)", "organisation"),  # by its code in brackets
        ("Health Education England", None),  # the national body, not a region
        ("NHS England", None),
        ("NHS Corby CCG", None),
        ("London", None),
        ("England", None),  # a totals label: the totals rule places it
    ],
)
def test_name_patterns(name, level):
    assert name_level(name) == level


@pytest.mark.parametrize(
    ("breakdown", "level"),
    [
        ("England", "national"),
        ("National", "national"),
        ("England; Age Group", "national"),
        ("Commissioning Region", "region"),
        ("ICB of GP Practice or Residence", "system"),
        ("CCG of GP Practice", "system"),
        ("CCG - GP Practice or Residence", "system"),
        ("Sub ICB Location", "system"),
        ("Provider", "organisation"),
        ("GP Practice", "organisation"),
        ("Local Authority of Residence", None),
        ("Age Group", None),
    ],
)
def test_breakdown_words(breakdown, level):
    assert breakdown_level(breakdown) == level


DECORATED = ["ENGLAND*", "Total4", "England5", "England (Excluding Independent Sector)",
             "Total \u2020", "England\u00b9", "Total [note 2]", " ENGLAND* ", "Grand Total*",
             "ALL PROVIDERS (excl. IS)"]  # fmt: skip
NOT_TOTALS = ["North East England NHS Trust", "Total 4", "England 2019", "Englandx", "Totally",
              "Total hip replacement", "England5x", "England (", "Total4 (a) (b)", ""]  # fmt: skip


@pytest.mark.parametrize("value", DECORATED)
def test_decorated_totals_are_totals_labels(value):
    assert is_total_label(value)


@pytest.mark.parametrize("value", NOT_TOTALS)
def test_names_holding_totals_words_are_not_totals(value):
    assert not is_total_label(value)


@pytest.mark.parametrize("encoded", [False, True])
def test_the_arrow_totals_rule_decides_decorated_labels_alike(encoded):
    values = [*DECORATED, *NOT_TOTALS, "England", None, " total ", "England"]
    column = pa.array(values, pa.string())
    mask = total_mask(arrow_levels.encode(column) if encoded else column)
    assert mask.to_pylist() == [is_total_label(value) for value in values]


# ---------------------------------------------------------------------------------------------
# Genuine files


def _ambsys_expected(path: Path) -> list[str]:
    """From the CSV itself: 'Eng' is England, a region code (Y56...) a region, else a trust."""
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    return [
        "national"
        if record["Org Code"] == "Eng"
        else "region"
        if record["Org Code"] in REGION_CODES
        else "organisation"
        for record in records
    ]


@pytest.mark.samples
@pytest.mark.parametrize("relative_path", [AMBSYS, AMBSYS_JULY])
def test_ambsys_regions_are_region_rows_on_both_paths(nhs_samples, relative_path, tmp_path):
    expected = _ambsys_expected(nhs_samples / relative_path)
    python, arrow = open_both(nhs_samples / relative_path, tmp_path)
    assert arrow.supports_arrow
    assert assert_same(python, arrow) == len(expected)
    counts = Counter(expected)
    assert arrow.row_levels == {level: counts[level] for level in
                                ("national", "region", "organisation")}  # fmt: skip
    assert counts["region"] == 7 * counts["national"]  # seven regions a month
    rows = arrow_rows(arrow, batch_size=100)
    assert levels_of(rows) == expected
    assert [row[-2] for row in rows] == [level == "national" for level in expected]


@pytest.mark.samples
def test_ambsys_sums_of_one_level_do_not_double_count(nhs_samples, tmp_path):
    """Calls answered (A1) summed over the trusts of a month equal the England row, and so do
    the regions: that is what a level is for; summing every non-total row counts twice."""
    table = open_table(str(nhs_samples / AMBSYS), cache_dir=tmp_path)
    position = table.column_names.index("a1")
    by_level: Counter = Counter()
    for row in python_rows(table):
        if row[position] is not None and (row[0], row[1]) == (2019, 12):
            by_level[row[-1]] += row[position]
    assert by_level["national"] > 0
    assert by_level["organisation"] == by_level["region"] == by_level["national"]


@pytest.mark.samples
def test_workforce_regions_are_region_rows(nhs_samples, tmp_path):
    table = open_table(str(nhs_samples / WORKFORCE), cache_dir=tmp_path)
    assert table.row_levels == {"national": 1, "region": 13, "organisation": 435}
    rows = python_rows(table)
    regions = [row for row in rows if row[-1] == "region"]
    assert all(row[0].startswith("Health Education ") and row[2] is None for row in regions)
    (england,) = [row for row in rows if row[-1] == "national"]
    assert england[0] == "England" and england[-2] is True
    assert table.total_rows == [england[-3]]
    organisations = [row for row in rows if row[-1] == "organisation"]
    assert all(row[0] is None and row[2] for row in organisations)
    # Each region's staff are its organisations' (give or take staff in several roles).
    position = table.column_names.index("eu_all_staff")
    assert sum(row[position] for row in organisations) == pytest.approx(
        sum(row[position] for row in regions), rel=0.01
    )


@pytest.mark.samples
def test_a_breakdown_column_gives_each_row_its_level(nhs_samples, tmp_path):
    path = nhs_samples / MHSDS
    with path.open(newline="", encoding="utf-8") as handle:
        breakdowns = Counter(record["BREAKDOWN"] for record in csv.DictReader(handle))
    python, arrow = open_both(path, tmp_path)
    assert assert_same(python, arrow) > 0
    assert arrow.row_levels == {
        "national": breakdowns["England"],
        "system": breakdowns["ICB of GP Practice or Residence"],
        "organisation": breakdowns["Provider"],
    }


@pytest.mark.samples
@pytest.mark.parametrize(
    "relative_path",
    [
        "rtt_full_csv_subset_DERIVED/20241130-RTT-November-2024-RBD.csv",  # one trust
        "rtt_provider_new_periods/New-Periods-Provider-Apr23.xls",  # providers and their totals
        "ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls",  # England only
        "proms_csv_datapack/Equality Hip and Knee Replacement 1617.csv.zip",  # no organisations
    ],
)
def test_files_of_one_level_keep_level_null(nhs_samples, relative_path, tmp_path):
    table = open_table(str(nhs_samples / relative_path), cache_dir=tmp_path)
    assert table.row_levels == {}
    assert set(levels_of(python_rows(table))) == {None}


# ---------------------------------------------------------------------------------------------
# Generated files


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def both_levels(path: Path, tmp_path: Path) -> tuple[list, list[bool], dict]:
    """(levels, totals flags, row_levels), the same on both paths."""
    python, arrow = open_both(path, tmp_path)
    assert arrow.supports_arrow
    assert_same(python, arrow)
    rows = arrow_rows(arrow)
    return levels_of(rows), [row[-2] for row in rows], arrow.row_levels


def test_a_row_whose_code_is_its_regions_code_is_a_region_row(tmp_path):
    """Y99 is no code DataWarp knows: the file's own Region column says what it is."""
    rows = [["Eng", "Eng", "England", "30"], ["Y99", "Y99", "Old North", "30"],
            ["Y99", "RRU", "A NHS Trust", "10"], ["Y99", "RXX", "B NHS Trust", "20"]]  # fmt: skip
    path = write_csv(tmp_path / "h.csv", ["Region", "Org Code", "Org Name", "Calls"], rows)
    levels, totals, counts = both_levels(path, tmp_path)
    assert levels == ["national", "region", "organisation", "organisation"]
    assert totals == [True, False, False, False]
    assert counts == {"national": 1, "region": 1, "organisation": 2}


def test_decorated_totals_are_national_rows_and_trust_names_are_not(tmp_path):
    rows = [["-", "ENGLAND*", "60"], ["-", "England (Excluding Independent Sector)", "50"],
            ["R1F", "North East England NHS Trust", "10"], ["RRU", "Total4", "60"],
            ["RXX", "Other NHS Trust", "40"], ["RYY", "England5 NHS Trust", "1"],
            ["RZZ", "Totally Good NHS Trust", "1"]]  # fmt: skip
    path = write_csv(tmp_path / "d.csv", ["Org Code", "Org Name", "Beds"], rows)
    levels, totals, _ = both_levels(path, tmp_path)
    assert totals == [True, True, False, True, False, False, False]
    # A code names the row's organisation: 'Total4' beside RRU is a total of that trust.
    assert levels == ["national", "national"] + ["organisation"] * 5


def test_a_national_code_makes_a_totals_row(tmp_path):
    rows = [["E92000001", "All patients", "9"], ["00L", "NHS Somewhere CCG", "4"],
            ["QE1", "NHS Somewhere ICB", "5"]]  # fmt: skip
    path = write_csv(tmp_path / "n.csv", ["ONS Code", "Org Name", "Patients"], rows)
    levels, totals, counts = both_levels(path, tmp_path)
    assert levels == ["national", "organisation", "system"]
    assert totals == [True, False, False]
    assert open_table(str(path), cache_dir=tmp_path).total_rows == [2]


def test_breakdown_words_win_over_code_shapes(tmp_path):
    rows = [["England", "England", "England", "9"], ["CCG of GP Practice", "06A", "X CCG", "4"],
            ["Provider", "RRU", "Y NHS Trust", "5"]]  # fmt: skip
    header = ["Organisation Type", "Organisation Code", "Organsation Name", "Patients"]
    levels, totals, _ = both_levels(write_csv(tmp_path / "b.csv", header, rows), tmp_path)
    assert levels == ["national", "system", "organisation"]
    assert totals == [True, False, False]


def test_a_country_column_never_makes_organisations_national(tmp_path):
    rows = [["England", "RRU", "A NHS Trust", "1"], ["England", "RXX", "B NHS Trust", "2"],
            ["England", "-", "England", "3"]]  # fmt: skip
    header = ["Country", "Org Code", "Org Name", "Beds"]
    levels, totals, _ = both_levels(write_csv(tmp_path / "c.csv", header, rows), tmp_path)
    assert levels == ["organisation", "organisation", "national"]
    assert totals == [False, False, True]


def test_rows_that_cannot_be_placed_stay_null_in_a_mixed_file(tmp_path):
    rows = [["TOTAL", "TOTAL", "3"], ["RRU", "A NHS Trust", "1"], ["DD401", "Unplaced Ltd", "2"],
            ["Unknown", "Unknown", "0"]]  # fmt: skip
    path = write_csv(tmp_path / "u.csv", ["Org Code", "Org Name", "Beds"], rows)
    levels, _, counts = both_levels(path, tmp_path)
    assert levels == ["national", "organisation", None, None]
    assert counts == {"national": 1, "organisation": 1}


def test_a_file_of_one_level_keeps_level_null_and_its_totals(tmp_path):
    rows = [["RRU", "Total", "3"], ["RRU", "Surgery", "1"], ["RXX", "Surgery", "2"]]
    path = write_csv(tmp_path / "one.csv", ["Provider Code", "Treatment Function", "Beds"], rows)
    levels, totals, counts = both_levels(path, tmp_path)
    assert (levels, totals, counts) == ([None] * 3, [True, False, False], {})


def test_a_workbook_with_group_rows_above_its_organisations(tmp_path):
    """The workforce layout: region names alone in column A, trusts under them in B and C."""
    book = openpyxl.Workbook()
    for cells in [
        ["Staff by staff group, Health Education England region and organisation"],
        [],
        [None, None, None, "EU", None, "UK", None],
        [None, None, None, "All staff", "Doctors", "All staff", "Doctors"],
        ["England", None, None, 60, 6, 600, 60],
        [],
        ["Health Education North", None, None, 30, 3, 300, 30],
        [None, "A NHS Trust", "RAA", 10, 1, 100, 10],
        [None, "NHS B CCG", "01A", 20, 2, 200, 20],
        ["Health Education South", None, None, 30, 3, 300, 30],
        [None, "C NHS Foundation Trust", "RCC", 30, 3, 300, 30],
        [],
        ["Source: a note under the table"],
    ]:
        book.active.append(cells)
    book.save(tmp_path / "w.xlsx")
    table = open_table(str(tmp_path / "w.xlsx"), cache_dir=tmp_path)
    assert table.column_names[:3] == ["column_a", "column_b", "column_c"]
    rows = python_rows(table)
    assert levels_of(rows) == ["national", "region", "organisation", "organisation", "region",
                               "organisation"]  # fmt: skip
    assert [row[-2] for row in rows] == [True] + [False] * 5
    assert table.row_levels == {"national": 1, "region": 2, "organisation": 3}


# ---------------------------------------------------------------------------------------------
# inspect


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("inspect")(inspect_cmd.inspect)
    app.command("unused")(lambda: None)
    return app


@pytest.mark.samples
def test_inspect_shows_rows_per_level_beside_the_totals(nhs_samples, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAWARP_HOME", str(tmp_path / "home"))
    path = str(nhs_samples / AMBSYS)
    result = CliRunner().invoke(cli, ["inspect", path], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    totals = next(i for i, line in enumerate(lines) if line.startswith("Totals rows (_is_total)"))
    assert lines[totals + 1] == "Row levels (_level): national 32, region 224, organisation 352"
    as_json = json.loads(CliRunner().invoke(cli, ["inspect", path, "--json"]).output)
    assert as_json["row_levels"] == {"national": 32, "region": 224, "organisation": 352}
    assert as_json["total_row_count"] == 32


def test_inspect_says_when_levels_are_not_given_and_counts_rows_not_placed(tmp_path):
    one = write_csv(tmp_path / "one.csv", ["Org Code", "Beds"], [["RRU", "1"], ["RXX", "2"]])
    assert report_for(open_table(str(one), cache_dir=tmp_path)).row_levels == {}
    rows = [["TOTAL", "3"], ["RRU", "1"], ["DD401", "2"]]
    mixed = report_for(open_table(str(write_csv(tmp_path / "m.csv", ["Org Code", "Beds"], rows))))
    assert inspect_cmd._levels_line(mixed) == (
        "Row levels (_level): national 1, organisation 1, not placed 1"
    )
    none = report_for(open_table(str(one), cache_dir=tmp_path))
    assert inspect_cmd._levels_line(none).startswith("Row levels (_level): none")
