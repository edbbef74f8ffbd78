"""fill_down: empty cells of named columns take the value above, within the table only."""

from __future__ import annotations

import datetime as dt
import os

import openpyxl
import pytest

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.env_limits import NO_ARROW_ENV
from datawarp.pipeline.inspect import open_table
from tests.pipeline.helpers import write_csv

RTT = "rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx"
HEADER = ["Region", "Org Code", "Org Name", "Attendances"]
ROWS = [
    [None, "-", "England", 700],  # a totals row: never filled
    [None, None, None, None],  # a blank row inside the table: skipped, no break
    ["Y56", "R1", "Trust 1", 100],
    [None, "R2", "Trust 2", 100],
    ["  ", "R3", "Trust 3", 100],  # only spaces: empty
    [None, "-", "Total", 300],  # a subtotal: left as it is, and it ends the run
    [None, "R4", "Trust 4", 100],  # so nothing above it to take
    ["Y58", "R5", "Trust 5", 100],
    ["-", "R6", "Trust 6", 100],  # a marker is a value, never replaced
    [None, "R7", "Trust 7", 100],  # and is what the row below takes
]
FILLED = [None, "Y56", "Y56", "Y56", None, None, "Y58", "-", "-"]


def rows_of(table) -> list[tuple]:
    return [row for batch in table.iter_batches(batch_size=3) for row in batch]


def provenance(table, name: str) -> list:
    """One of the values after the columns: row_number, is_total (then the row's level)."""
    position = len(table.columns) + ["row_number", "is_total"].index(name)
    return [row[position] for row in rows_of(table)]


def xlsx(path, rows, header=HEADER, notes=True):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if notes:
        sheet.append([])
        sheet.append(["Notes: Y56 is London"])
    book.save(path)
    return path


def test_groups_fill_down_but_never_into_or_past_a_totals_row(tmp_path):
    path = xlsx(tmp_path / "groups.xlsx", ROWS)
    table = open_table(str(path), cache_dir=tmp_path, fill_down=["region"])
    rows = rows_of(table)
    assert [row[0] for row in rows] == FILLED
    assert provenance(table, "is_total") == [True, False, False, False, True] + [False] * 4
    assert provenance(table, "row_number") == [2, 4, 5, 6, 7, 8, 9, 10, 11]
    assert table.filled_down == {"region": 3}
    assert table.columns[0].null_count == FILLED.count(None)
    plain = open_table(str(path), cache_dir=tmp_path)
    assert [row[0] for row in rows_of(plain)] == [
        None,
        "Y56",
        None,
        None,
        None,
        None,
        "Y58",
        "-",
        None,
    ]
    assert plain.filled_down == {} and plain.columns[0].null_count == 6
    assert [row[1:] for row in rows_of(plain)] == [row[1:] for row in rows]


def test_a_csv_fills_as_a_workbook_does_and_leaves_the_fast_path(tmp_path):
    blank = ["", "", "", ""]
    csv_rows = [blank if row[1] is None else ["" if v is None else v for v in row] for row in ROWS]
    path = write_csv(tmp_path / "groups.csv", HEADER, csv_rows)
    table = open_table(str(path), cache_dir=tmp_path, fill_down=["region"])
    workbook = open_table(str(xlsx(tmp_path / "g.xlsx", ROWS, notes=False)), cache_dir=tmp_path)
    assert [row[0] for row in rows_of(table)] == FILLED
    assert [row[1:-2] for row in rows_of(table)] == [row[1:-2] for row in rows_of(workbook)]
    # A plain CSV takes the Arrow fast path, unless it has columns to fill.
    plain = write_csv(tmp_path / "plain.csv", HEADER, [r for r in csv_rows if r != blank])
    assert os.environ.get(NO_ARROW_ENV) is None
    fast = open_table(str(plain), cache_dir=tmp_path)
    filled = open_table(str(plain), cache_dir=tmp_path, fill_down=["region"])
    assert fast.supports_arrow and not filled.supports_arrow
    assert filled.iter_arrow_batches() is None
    assert [row[0] for row in rows_of(filled)] == [
        None,
        "Y56",
        "Y56",
        "Y56",
        None,
        None,
        "Y58",
        "-",
        "-",
    ]
    assert [row[1:] for row in rows_of(filled)] == [row[1:] for row in rows_of(fast)]


def test_the_value_carries_across_chunks_of_rows(tmp_path):
    rows = [[f"G{i // 700}" if i % 700 == 0 else None, f"R{i}", i] for i in range(2000)]
    path = xlsx(tmp_path / "long.xlsx", rows, header=["Group", "Code", "Value"], notes=False)
    table = open_table(str(path), cache_dir=tmp_path, fill_down=["group"])
    assert [row[0] for row in rows_of(table)] == [f"G{i // 700}" for i in range(2000)]
    assert table.filled_down == {"group": 2000 - 3} and table.columns[0].null_count == 0


def test_stacked_blocks_fill_each_from_its_own_rows(tmp_path):
    """Two side-by-side blocks: block B's first empty year never takes block A's."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Standard A", None, None, None, "Standard B"])
    sheet.append(["Year", "Month", "Total", None, "Year", "Month", "Total"])
    sheet.append(["2022/23", "April", 10, None, None, "April", 20])
    sheet.append([None, "May", 11, None, "2022/23", "May", 21])
    sheet.append([None, "June", 12, None, None, "June", 22])
    book.save(tmp_path / "blocks.xlsx")
    table = open_table(str(tmp_path / "blocks.xlsx"), cache_dir=tmp_path, fill_down=["year"])
    assert table.layout.blocks == 2
    year = table.column_names.index("year")
    assert [(row[0], row[year]) for row in rows_of(table)] == [
        ("Standard A", "2022/23"),
        ("Standard B", None),
        ("Standard A", "2022/23"),
        ("Standard B", "2022/23"),
        ("Standard A", "2022/23"),
        ("Standard B", "2022/23"),
    ]
    assert table.filled_down == {"year": 3}


def test_rows_a_category_column_names_england_are_filled_like_any_other(tmp_path):
    """'England' in most rows of a Country column marks no totals, so those rows are filled;
    the counts pass 1 reports are those of the rows loaded."""
    header = ["Country", "Region", "Org Code", "Value"]
    rows = [
        ["England", "North", "R1", 1],
        ["England", None, "R2", 2],
        ["England", None, "R3", 3],
        ["Wales", None, "W1", 4],
        ["England", "South", "R4", 5],
        ["England", None, "R5", 6],
    ]
    table = open_table(str(xlsx(tmp_path / "c.xlsx", rows, header=header)), fill_down=["region"])
    loaded = rows_of(table)
    assert [row[1] for row in loaded] == ["North"] * 4 + ["South"] * 2
    assert not any(provenance(table, "is_total")) and table.total_rows == []
    assert table.filled_down == {"region": 4} and table.columns[1].null_count == 0


def test_a_column_the_table_lacks_is_one_line_naming_it_and_the_file(tmp_path):
    path = xlsx(tmp_path / "groups.xlsx", ROWS)
    with pytest.raises(BadInputError) as caught:
        open_table(str(path), cache_dir=tmp_path, fill_down=["region", "org"])
    message = caught.value.message
    assert message.startswith("fill_down names org, which groups.xlsx, sheet 'Data' does not")
    assert message.endswith("its columns: region, org_code, org_name, attendances")
    with pytest.raises(BadInputError, match="the column headed 'Org Code' is called org_code"):
        open_table(str(path), cache_dir=tmp_path, fill_down=["Org Code"])


@pytest.mark.samples
def test_rtt_year_written_on_april_rows_only_fills_every_month(nhs_samples, tmp_path):
    path = str(nhs_samples / RTT)
    table = open_table(path, cache_dir=tmp_path, fill_down=["year"])
    rows = rows_of(table)
    assert len(rows) == 192 and table.filled_down == {"year": 176}
    assert table.columns[0].null_count == 0 and table.columns[0].pg_type == "text"
    for row in rows:
        month: dt.date = row[1]
        start = month.year if month.month >= 4 else month.year - 1
        assert row[0] == f"{start}/{(start + 1) % 100:02d}", row[:2]
    sparse = rows_of(open_table(path, cache_dir=tmp_path))
    assert sum(row[0] is None for row in sparse) == 176
    assert [row[1:] for row in sparse] == [row[1:] for row in rows]


def test_a_row_placed_national_by_its_code_is_a_totals_row_for_filling(tmp_path):
    """E92000001 is England's code: the row is _is_total although no totals word names it."""
    header = ["Region Code", "Org Code", "Org Name", "Value"]
    rows = [
        ["Y56", "R1H", "Barts Health NHS Trust", 1],
        [None, "RAL", "Royal Free London NHS Foundation Trust", 2],
        [None, "E92000001", "All providers in the country", 10],
        [None, "RAN", "Royal National Orthopaedic Hospital NHS Trust", 3],
    ]
    path = xlsx(tmp_path / "national.xlsx", rows, header=header)
    table = open_table(str(path), cache_dir=tmp_path, fill_down=["region_code"])
    loaded = rows_of(table)
    assert [row[0] for row in loaded] == ["Y56", "Y56", None, None]
    assert provenance(table, "is_total") == [False, False, True, False]
    assert table.filled_down == {"region_code": 1} and table.columns[0].null_count == 2
