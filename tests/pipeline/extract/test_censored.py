"""One rule for markers, censored values and percentages, on both read paths.

Censored values (``52+``, ``<5``) keep a column of numbers numeric: NULL there, their text in
a companion ``<name>_original``. Markers are NULL in every column holding numbers. Values
written with ``%`` are stored as exact fractions, and the unit is recorded. Every generated
file is opened by the Python path and the Arrow fast path, which must agree value for value.
"""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest

from datawarp.cli import inspect_cmd
from datawarp.pipeline.extract.values import CENSORED, NUMERIC, TEXT, WORDS, classify
from datawarp.pipeline.inspect import open_table, report_for
from tests.pipeline.extract.test_arrow_csv import assert_same, open_both, small_blocks

RTT = "rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx"
PROMS = "proms_csv_datapack/Key Facts Hip and Knee Replacement 1617.csv.zip"
KH03 = "beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx"


def rows_of(table) -> list[dict]:
    names = table.column_names + ["_row_number", "_is_total", "_level"]
    return [dict(zip(names, row, strict=True)) for batch in table.iter_batches() for row in batch]


def both(tmp_path, text: str, name: str = "file.csv"):
    """The CSV opened by both paths (compared value for value); the Python path's table."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with small_blocks(64):  # several Arrow batches even for a small file
        python, arrow = open_both(path, tmp_path / "cache")
        assert arrow.supports_arrow
        assert_same(python, arrow)
    return python


def column(table, name: str):
    (found,) = [c for c in table.columns if c.name == name]
    return found


# --- the censored grammar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    ["52+", "<5", "> 1000", "<=0.5%", ">=10", "\u226410", "~5", "100%*", "12**", "5\u2020",
     "capped at 100%", "Capped at 100%", "100% (capped)", "1,000+", "£5+", " <5 "],
)  # fmt: skip
def test_censored_and_flagged_numbers_are_their_own_kind(cell):
    assert classify(cell) == (CENSORED, cell.strip())


@pytest.mark.parametrize(
    "cell", ["52+ weeks", "<05", "1,5+", "abc+", "<", "+", "(5)", "5 <", "**", "Trust (capped)"]
)
def test_look_alikes_are_words(cell):
    assert classify(cell)[0] == WORDS


# --- censored values keep a column of numbers numeric ------------------------------------------

WAITS = (
    "Month,Median wait,92nd percentile\n"
    "Apr-07,-,-\n"
    "May-07,14.2,52+\n"
    "Jun-07,13.3,52+\n"
    "Jul-07,12.1,51.6\n"
    "Aug-07,11.9,47.4\n"
    "Sep-07,10.0,<5\n"
    "Oct-07,9.5,29.3\n"
    "Nov-07,9.1,28.7\n"
)


def test_a_censored_value_is_null_in_the_number_and_kept_as_written_beside_it(tmp_path):
    table = both(tmp_path, WAITS)
    wait = column(table, "x92nd_percentile")
    assert wait.pg_type == NUMERIC
    assert (wait.censored_count, wait.censored_values) == (3, ("52+", "<5"))
    assert (wait.suppressed_count, wait.null_count) == (1, 4)
    assert table.column_names == ["month", "median_wait", "x92nd_percentile",
                                  "x92nd_percentile_original"]  # fmt: skip
    companion = column(table, "x92nd_percentile_original")
    assert (companion.pg_type, companion.originals_of, companion.null_count) == (
        TEXT, "x92nd_percentile", 5,
    )  # fmt: skip
    assert companion.source_column == wait.source_column == "C"
    rows = rows_of(table)
    pairs = [(r["x92nd_percentile"], r["x92nd_percentile_original"]) for r in rows]
    assert pairs == [
        (None, None),  # '-' is suppressed: NULL in both, as in the other numeric column
        (None, "52+"), (None, "52+"),
        (Decimal("51.6"), None), (Decimal("47.4"), None),
        (None, "<5"),
        (Decimal("29.3"), None), (Decimal("28.7"), None),
    ]  # fmt: skip
    assert rows[0]["median_wait"] is None  # one marker, NULL in every column of the row


def test_more_censored_values_than_numbers_stay_text_as_written(tmp_path):
    table = both(tmp_path, "Code,Band\nA,52+\nB,52+\nC,<5\nD,7\nE,-\n")
    band = column(table, "band")
    assert (band.pg_type, band.censored_count, band.kept_text_by) == (TEXT, 0, ("52+", "<5"))
    assert "band_original" not in table.column_names
    assert [r["band"] for r in rows_of(table)] == ["52+", "52+", "<5", "7", None]


def test_a_companion_name_already_in_the_file_is_numbered(tmp_path):
    text = "Wait,Wait original\n5,a\n52+,b\n7,c\n"
    table = both(tmp_path, text)
    assert table.column_names == ["wait", "wait_original_2", "wait_original"]
    assert [r["wait_original_2"] for r in rows_of(table)] == [None, "52+", None]


def test_censored_values_in_an_excel_sheet(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Month", "95th percentile (weeks)", "Patients"])
    for month, wait, count in [("Apr", "-", 10), ("May", "52+", 12), ("Jun", 40.5, "-"),
                               ("Jul", 38.25, 9), ("Aug", "100%*", 8), ("Sep", 30, 7)]:  # fmt: skip
        sheet.append([month, wait, count])
    path = tmp_path / "waits.xlsx"
    book.save(path)
    table = open_table(str(path), cache_dir=tmp_path / "cache")
    wait = column(table, "x95th_percentile_weeks")
    assert (wait.pg_type, wait.censored_count, wait.censored_values) == (
        NUMERIC, 2, ("52+", "100%*"),
    )  # fmt: skip
    rows = rows_of(table)
    assert [r["x95th_percentile_weeks_original"] for r in rows] == [
        None, "52+", None, None, "100%*", None,
    ]  # fmt: skip
    assert [r["x95th_percentile_weeks"] for r in rows] == [
        None, None, Decimal("40.5"), Decimal("38.25"), None, Decimal("30"),
    ]  # fmt: skip


# --- markers are NULL wherever numbers are ------------------------------------------------------


def test_a_marker_is_null_in_a_text_column_holding_numbers_and_words_are_named(tmp_path):
    text = (
        "Code,Outcome,Flag\n"
        "R1,-,X\n"
        "R2,12,-\n"
        "R3,Insufficient records,Y\n"
        "R4,*,X\n"
        "R5,No procedures,-\n"
        "R6,7.5,N\n"
    )
    table = both(tmp_path, text)
    outcome, flag = column(table, "outcome"), column(table, "flag")
    assert outcome.pg_type == TEXT and outcome.suppressed_count == 2
    assert outcome.kept_text_by == ("Insufficient records", "No procedures")
    rows = rows_of(table)
    assert [r["outcome"] for r in rows] == [
        None, "12", "Insufficient records", None, "No procedures", "7.5",
    ]  # fmt: skip
    # a text column without numbers (codes, flags): "X" and "-" are values there
    assert (flag.suppressed_count, flag.kept_text_by) == (0, ())
    assert [r["flag"] for r in rows] == ["X", "-", "Y", "X", "-", "N"]


# --- percentages -------------------------------------------------------------------------------


def test_percent_text_is_stored_as_the_exact_fraction_and_the_unit_recorded(tmp_path):
    table = both(tmp_path, "Org,% Improved,Share\nA,69.10%,3%\nB,-,100.00%\nC,0.05%,*\n")
    improved, share = column(table, "percent_improved"), column(table, "share")
    assert (improved.unit, share.unit) == ("fraction", "fraction")
    values = [(r["percent_improved"], r["share"]) for r in rows_of(table)]
    assert values == [(Decimal("0.6910"), Decimal("0.03")), (None, Decimal("1.0000")),
                      (Decimal("0.0005"), None)]  # fmt: skip
    assert values[0][0].as_tuple() == Decimal("0.6910").as_tuple()
    assert table.warnings == []


@pytest.mark.parametrize(
    ("header", "values", "unit"),
    [
        ("Percent within 18 weeks", ["74.0", "81.5", "100"], "percent"),
        ("% within 18 weeks", ["0.74", "0.815", "1"], "fraction"),
        ("Percentage", ["-0.5", "0.25", ""], "fraction"),
        ("% change", ["-150", "12"], None),  # beyond -100..100: no unit can be told
        ("95th percentile", ["0.5", "0.7"], None),  # not a percentage
        ("Attendances", ["0.5", "0.7"], None),
    ],
)
def test_a_percentage_header_with_plain_numbers_is_never_rescaled(tmp_path, header, values, unit):
    text = f"Org,{header}\n" + "".join(f"R{i},{v}\n" for i, v in enumerate(values))
    table = both(tmp_path, text)
    measure = table.columns[1]
    assert measure.unit == unit
    stored = [r[measure.name] for r in rows_of(table)]
    assert stored == [Decimal(v) if v else None for v in values]  # as written, whatever the unit


def test_percentages_beside_plain_numbers_are_warned_about_with_their_rows(tmp_path):
    text = "Code,Rate\nR1,0.125\nR2,50%\nR3,7\nR4,60%\nR5,8\nR6,9\nR7,10\nR8,70%\n"
    table = both(tmp_path, text)
    (warning,) = table.warnings
    assert warning.startswith(
        "column rate mixes percentages (rows 3, 5, 9) with plain numbers (rows 2, 4, 6, ...)"
    )
    assert column(table, "rate").unit is None
    assert [r["rate"] for r in rows_of(table)][:3] == [Decimal("0.125"), Decimal("0.50"), 7]


# --- genuine files ----------------------------------------------------------------------------


@pytest.mark.samples
def test_rtt_percentile_columns_are_numeric_with_their_52_plus_beside_them(nhs_samples, tmp_path):
    table = open_table(str(nhs_samples / RTT), cache_dir=tmp_path)
    by_letter = {c.source_column: c for c in table.columns if c.originals_of is None}
    for letter in ("E", "N", "S"):  # text before, only because of 52+ (and -)
        assert by_letter[letter].pg_type == NUMERIC
        assert by_letter[letter].censored_values == ("52+",)
    assert [c.originals_of for c in table.columns if c.originals_of] == [
        by_letter[letter].name for letter in ("E", "N", "S")
    ]
    assert by_letter["G"].unit == "fraction"  # "% within 18 weeks", Excel fractions
    rows = rows_of(table)
    median, e = by_letter["D"].name, by_letter["E"].name
    first = [r for r in rows if r["_row_number"] in (11, 12, 13, 14)]
    # '-' in these rows: NULL in the numeric columns D and AA and in E (text before): IS NULL
    # gives one answer across the row; nothing goes aside
    within = by_letter["AA"].name
    assert all(r[median] is None and r[e] is None and r[e + "_original"] is None for r in first)
    assert all(r[within] is None for r in first) and len(first) == 4
    censored = [r for r in rows if r[e + "_original"] is not None]
    assert len(censored) == by_letter["E"].censored_count == 9
    assert all(r[e] is None and r[e + "_original"] == "52+" for r in censored)
    numbers = [r[e] for r in rows if r[e] is not None]
    assert numbers and all(isinstance(n, Decimal) for n in numbers)

    lines = inspect_cmd._value_lines(report_for(table))
    assert f"Censored: {e} has 9 (52+): NULL there, as written in {e}_original" in lines


@pytest.mark.samples
def test_proms_percent_text_becomes_excels_fraction(nhs_samples, tmp_path):
    python, arrow = open_both(nhs_samples / PROMS, tmp_path)
    assert assert_same(python, arrow) > 0
    improved = column(python, "percent_improved")
    assert improved.unit == "fraction"
    england = rows_of(python)[0]
    assert england["percent_improved"] == Decimal("0.6730")
    assert england["percent_improved"].as_tuple() == Decimal("0.6730").as_tuple()


@pytest.mark.samples
def test_kh03_percent_cells_keep_excels_fraction_and_are_marked(nhs_samples, tmp_path):
    table = open_table(str(nhs_samples / KH03), sheet="NHS Trust by Sector", cache_dir=tmp_path)
    occupied = [c for c in table.columns if c.original_header.startswith("% Occupied")]
    assert len(occupied) == 5 and {c.unit for c in occupied} == {"fraction"}
    assert column(table, "available_total").unit is None
    values = [r[occupied[0].name] for r in rows_of(table) if r[occupied[0].name] is not None]
    assert max(values) <= 1 and any(Decimal("0.6") < v < 1 for v in values)
