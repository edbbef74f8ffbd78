"""A workbook's Arrow pass 2 gives exactly what its row pass gives (``arrow_rows``).

A workbook table whose cells pass 1 kept, and large enough (``ARROW_PASS_CELLS``), takes pass
2 as typed Arrow batches and a binary COPY. Here the threshold is lowered so that every table
takes it; each is then read both ways and compared value by value, and loaded both ways and
compared as text (``col::text``: a numeric's scale, a timestamp's fraction or an empty string
against NULL would all show).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from datawarp.catalog import staging_arrow
from datawarp.catalog.schema_changes import IncomingColumn
from datawarp.catalog.staging import Provenance, copy_rows, create_table
from datawarp.catalog.staging_arrow import copy_arrow
from datawarp.core.errors import BadInputError
from datawarp.core.naming import TableRef
from datawarp.pipeline.extract import engine
from datawarp.pipeline.extract.engine import ExtractedTable
from datawarp.pipeline.extract.env_limits import NO_ARROW_ENV
from datawarp.pipeline.inspect import open_table
from tests.pipeline.test_load_arrow import _table_text

SAMPLE_WORKBOOKS = [
    ("ae_weekly_sitrep/Weekly-AE-Sitrep-Provider-we-07-Nov-2010.xls", "A&E Data"),
    ("beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx", "NHS Trust by Sector"),
    ("cancer_waiting_times/CWT-CRS-Apr-2023-to-Sep-2023-Data-Extract-Provider-Provisional.xlsx",
     None),
    ("cancer_waiting_times/CWT-CRS-Apr-23-to-Oct-23-Data-Extract-ICB-Sub-Location.xlsx", None),
    ("cancer_waiting_times/CWT-CRS-National-Time-Series-Oct-2009-Oct-2023-with-Revisions.xlsx",
     "Monthly Performance"),
    ("cancer_waiting_times/Cancer-Waiting-Times-National-Time-Series-Oct-2009-Sep-2023-with-"
     "Revisions.xlsx", "Monthly Data"),
    ("ccg_outcomes_indicators/CCG_1_2_I00754_D.xls", "Data"),
    ("rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx", None),
    ("rtt_provider_new_periods/New-Periods-Provider-Apr23.xls", "Provider"),
    ("ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls", "Activity"),
    ("ae_monthly_timeseries/AE_England_data.xls", "Activity"),
]  # fmt: skip

HEADER = ["Org Code", "Org Name", "Attendances", "Big", "Rate", "Huge", "Percent Seen",
          "Date", "Moment", "Flag", "Note"]  # fmt: skip
ROWS = [
    ["  R01 ", "Café Ærø", 1200, 9_000_000_000, 0.1, 1e22, 0.673, dt.datetime(2025, 9, 1),
     dt.datetime(2025, 9, 1, 10, 30, 15, 250_000), True, "say \"hi\""],
    ["R02", "Leeds,\nWest", "*", -5, 1e-7, 2.5, 0.5, dt.datetime(2025, 9, 2),
     dt.datetime(2025, 9, 2, 0, 0), False, "  "],
    ["R03", "York", None, 12, 67.3, 3.0, 1.0, None, None, None, None],
    ["Total", None, 1200, 9_000_000_007, 1234567.125, 1e-300, None, dt.datetime(2025, 9, 3),
     dt.datetime(2025, 9, 3, 23, 59, 59), True, "x"],
]  # fmt: skip


@pytest.fixture(autouse=True)
def every_kept_table(monkeypatch):
    monkeypatch.setattr(engine, "ARROW_PASS_CELLS", 0)


@pytest.fixture(
    params=[True, False] if staging_arrow.BINARY_COPY else [False],
    ids=["binary-copy", "csv-copy"] if staging_arrow.BINARY_COPY else ["csv-copy"],
)
def copy_format(request, monkeypatch):
    monkeypatch.setattr(staging_arrow, "BINARY_COPY", request.param)
    return request.param


def _workbook(path, rows=ROWS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["Activity by provider, September 2025"])
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _both_ways(table: ExtractedTable) -> tuple[list[tuple], list[tuple]]:
    """The rows ``iter_batches`` gives, and those the Arrow batches hold, numeric text read
    back as the Decimal it spells."""
    rows = [row for batch in table.iter_batches(7) for row in batch]
    numeric = [c.pg_type == "numeric" for c in table.columns] + [False] * 3
    arrow = []
    for batch in table.iter_arrow_batches(7):
        assert batch.num_rows <= 7
        for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
            arrow.append(tuple(
                Decimal(value) if is_numeric and value is not None else value
                for value, is_numeric in zip(row, numeric, strict=True)
            ))  # fmt: skip
    return rows, arrow


def _same(arrow: list[tuple], rows: list[tuple]) -> None:
    assert len(arrow) == len(rows)
    for got, expected in zip(arrow, rows, strict=True):
        assert got == expected
        # Decimal('1.0') == Decimal('1') and 1 == True: the scale and the type must agree too
        assert [str(v) for v in got] == [str(v) for v in expected]
        assert [type(v) for v in got] == [type(v) for v in expected]


@pytest.mark.parametrize(("name", "sheet"), SAMPLE_WORKBOOKS, ids=[s[0] for s in SAMPLE_WORKBOOKS])
def test_each_genuine_workbook_gives_the_same_values_both_ways(nhs_samples, tmp_path, name, sheet):
    table = open_table(str(nhs_samples / name), sheet=sheet, cache_dir=tmp_path)
    assert table.supports_arrow, "the sample's table is kept, so it takes the Arrow pass"
    rows, arrow = _both_ways(table)
    assert len(rows) == table.row_count > 0
    _same(arrow, rows)


def test_a_generated_workbook_gives_the_same_values_both_ways(tmp_path):
    table = open_table(str(_workbook(tmp_path / "mixed.xlsx")), cache_dir=tmp_path)
    assert table.supports_arrow
    assert [c.pg_type for c in table.columns][:11] == [
        "text", "text", "smallint", "bigint", "numeric", "numeric", "numeric", "date",
        "timestamp", "boolean", "text",
    ]  # fmt: skip
    rows, arrow = _both_ways(table)
    _same(arrow, rows)
    assert [row[-2] for row in arrow] == [False, False, False, True]  # the Total row


def test_a_workbook_loads_the_same_table_both_ways(conn, tmp_path, copy_format):
    path = _workbook(tmp_path / "mixed.xlsx")
    table = open_table(str(path), cache_dir=tmp_path)
    incoming = [IncomingColumn(c.name, c.pg_type, c.original_header) for c in table.columns]
    provenance = Provenance(41, "2025-09", str(path), table.sheet)
    rows_target = TableRef("staging_test", "tbl_rows")
    arrow_target = TableRef("staging_test", "tbl_arrow")
    for target in (rows_target, arrow_target):
        create_table(conn, target, incoming)
    loaded = (
        copy_rows(conn, rows_target, table.column_names, table.iter_batches(3), provenance),
        copy_arrow(conn, arrow_target, table.column_names, table.iter_arrow_batches(3),
                   provenance),
    )  # fmt: skip
    assert loaded == (4, 4)
    expected = _table_text(conn, rows_target)
    assert _table_text(conn, arrow_target) == expected
    by_name = dict(zip(expected[0], zip(*expected[1:], strict=True), strict=True))
    assert by_name["rate"] == ("0.1", "0.0000001", "67.3", "1234567.125")
    assert by_name["huge"][0] == "1" + "0" * 22 and by_name["org_code"][0] == "R01"
    assert by_name["moment"][0] == "2025-09-01 10:30:15.25"


def test_only_a_large_kept_table_takes_the_arrow_pass(tmp_path, monkeypatch):
    path = _workbook(tmp_path / "mixed.xlsx")
    cells = open_table(str(path), cache_dir=tmp_path)._kept_cells
    assert cells >= 4 * 11
    monkeypatch.setattr(engine, "ARROW_PASS_CELLS", cells + 1)
    small = open_table(str(path), cache_dir=tmp_path)
    assert not small.supports_arrow and small.iter_arrow_batches() is None
    monkeypatch.setattr(engine, "ARROW_PASS_CELLS", cells)
    assert open_table(str(path), cache_dir=tmp_path).supports_arrow
    monkeypatch.setenv(NO_ARROW_ENV, "1")
    assert not open_table(str(path), cache_dir=tmp_path).supports_arrow


_CELLS = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.booleans(),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)).map(
        lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    ),
)
_COLUMN = st.one_of(
    st.lists(_CELLS, min_size=3, max_size=3),  # a column of anything: often text
    st.lists(st.one_of(st.none(), st.floats(-1e12, 1e12)), min_size=3, max_size=3),
    st.lists(st.one_of(st.none(), st.integers(-(2**62), 2**62)), min_size=3, max_size=3),
    st.lists(st.one_of(st.none(), st.booleans()), min_size=3, max_size=3),
    st.lists(
        st.one_of(
            st.none(),
            st.dates(dt.date(1900, 3, 1)).map(
                lambda day: dt.datetime(day.year, day.month, day.day)
            ),
        ),
        min_size=3,
        max_size=3,
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(columns=st.lists(_COLUMN, min_size=1, max_size=4))
def test_generated_cells_give_the_same_values_both_ways(tmp_path_factory, columns):
    path = tmp_path_factory.mktemp("cells") / "cells.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Org Code", *(f"Measure {n}" for n in range(len(columns)))])
    for number, cells in enumerate(zip(*columns, strict=True)):
        sheet.append([f"R{number:02d}", *cells])
    book.save(path)
    table = open_table(str(path), cache_dir=path.parent)
    event(f"types: {sorted({c.pg_type for c in table.columns})}")
    assert table.supports_arrow
    rows, arrow = _both_ways(table)
    _same(arrow, rows)


@pytest.mark.parametrize("column", ["attendances", "big"])  # with a marker; floats only
def test_a_cell_that_cannot_be_converted_is_named_by_its_row_both_ways(tmp_path, column):
    """A cell made a batch at a time still fails as the row pass fails: by row and column,
    whether its batch holds two kinds of cell or one that Arrow's cast refuses. (Pass 1 types
    a column from every cell, so one is changed after it here.)"""
    table = open_table(str(_workbook(tmp_path / "mixed.xlsx")), cache_dir=tmp_path)
    numbers, columns = table._kept[0]
    source = table._plans[table.column_names.index(column)].source
    columns[source][2] = 2.5  # R03's: a fraction in an integer column
    messages = []
    for batches in (table.iter_batches(7), table.iter_arrow_batches(7)):
        with pytest.raises(BadInputError) as raised:
            list(batches)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert f"row {numbers[2]}, column {column}" in messages[0]
