"""The streamed xlsx reader: the same rows as calamine's, in memory that follows the cells.

Workbooks are written part by part so that shared strings, rich text, number formats and the
1904 date system are exactly what the test says (openpyxl writes inline strings only).
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract import xlsx_extent
from datawarp.pipeline.extract.excel_reader import ExcelWorkbook
from datawarp.pipeline.extract.xlsx_sparse import FAR_COLUMNS, SparseSheet
from datawarp.pipeline.inspect import open_table
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import register, table_rows, write_manifest

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>'
)
# Number formats by style index: 1 a builtin date, 2 a custom date, 3 a datetime, 4 a time,
# 5 a duration, 6 a plain custom number, 7 a quoted "d" (not a date).
FORMATS = {164: "dd/mm/yyyy", 165: "yyyy-mm-dd hh:mm:ss", 166: "[h]:mm:ss", 167: "0.00"}
FORMATS[168] = '0" days"'
STYLES = (0, 14, 164, 165, 21, 166, 167, 168)


def write_xlsx(path: Path, rows_xml: str, strings=(), *, date1904: bool = False) -> Path:
    """A one-sheet ('Data') workbook from the sheet's <row> elements and shared strings."""
    formats = "".join(f'<numFmt numFmtId="{i}" formatCode="{c}"/>' for i, c in FORMATS.items())
    formats = formats.replace('" days"', "&quot; days&quot;")
    xfs = "".join(f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0"/>' for i in STYLES)
    parts = {
        "[Content_Types].xml": _TYPES,
        "_rels/.rels": f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}'
        '/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}">'
        f'<workbookPr date1904="{int(date1904)}"/><sheets><sheet name="Data" sheetId="1"'
        ' r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1"'
        f' Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/styles.xml": f'<styleSheet xmlns="{_MAIN}"><numFmts>{formats}</numFmts>'
        f"<cellXfs>{xfs}</cellXfs></styleSheet>",
        "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}">'
        + "".join(f"<si>{item}</si>" for item in strings)
        + "</sst>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}"><sheetData>{rows_xml}'
        "</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + text)
    return path


def both_readers(path: Path) -> tuple[list, list]:
    """The rows calamine gives (through excel_reader) and the rows the streamed reader gives."""
    with ExcelWorkbook(path, kind="xlsx", display_name=path.name) as book:
        dense = list(book.iter_rows("Data"))
    while dense and not dense[-1][1]:
        dense.pop()  # calamine's range may end on a row of empty strings; nothing reads on
    return dense, list(SparseSheet(path, "Data", path.name).rows())


STRINGS = [
    "<t>Org Code</t>",
    '<t xml:space="preserve">  padded  </t>',
    '<r><t>ri</t></r><r><rPr><b/></rPr><t xml:space="preserve">ch </t></r>'
    '<rPh sb="0" eb="1"><t>PHONETIC</t></rPh>',
    "<t>line_x000D_break &amp; &lt;escaped&gt;_x005F_x0041_</t>",
    "<t/>",
    "<t>Caf\u00e9 \u2013 \U0001f600</t>",
]
CELLS = (
    '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c>'
    '<c r="C2" t="s"><v>2</v></c><c r="D2" t="s"><v>3</v></c><c r="E2" t="s"><v>4</v></c>'
    '<c r="F2" t="s"><v>5</v></c><c r="H2" t="inlineStr"><is><t>inline</t></is></c>'
    '<c r="I2" t="inlineStr"><is><r><t>in</t></r><r><t>run</t></r></is></c>'
    '<c r="J2" t="str"><f>A2&amp;"x"</f><v>Org Codex</v></c></row>'
    '<row r="3"><c r="A3"><v>1</v></c><c r="B3" t="n"><v>-2.5</v></c><c r="C3"><v>1E+3</v></c>'
    '<c r="D3"><v>12345678901234567890</v></c><c r="E3" s="6"><v>0.125</v></c>'
    '<c r="F3" s="7"><v>45000</v></c><c r="G3"><v>not a number</v></c><c r="H3"><v/></c>'
    '<c r="I3" s="2"/><c r="J3"><f>SUM(A3:B3)</f><v>-1.5</v></c><c r="K3"><f>1+1</f></c></row>'
    '<row r="5"><c r="A5" s="1"><v>45901</v></c><c r="B5" s="2"><v>45901</v></c>'
    '<c r="C5" s="3"><v>45901.5625</v></c><c r="D5" s="4"><v>0.5625</v></c>'
    '<c r="E5" s="5"><v>1.75</v></c><c r="F5" s="2"><v>60</v></c><c r="G5" s="2"><v>59.5</v></c>'
    '<c r="H5" s="2"><v>1</v></c><c r="I5" s="2"><v>0</v></c><c r="J5" s="2"><v>3000000</v></c>'
    '<c r="K5" s="3"><v>45000.99999999</v></c><c r="L5" s="5"><v>-0.5</v></c></row>'
    '<row r="6"><c r="A6" t="b"><v>1</v></c><c r="B6" t="b"><v>0</v></c>'
    '<c r="C6" t="e"><v>#DIV/0!</v></c><c r="D6" t="e"><v>#N/A</v></c>'
    '<c r="E6" t="d"><v>2025-09-01</v></c><c r="F6" t="d"><v>2025-09-01T10:30:00</v></c>'
    '<c r="G6" t="d"><v>not iso</v></c><c r="H6" t="str"><v></v></c></row>'
    '<row r="7"><c><v>1</v></c><c><v>2</v></c><c r="E7"><v>5</v></c><c><v>6</v></c></row>'
    '<row r="9" spans="1:3"/><row r="10"><c r="C10" t="s"><v>0</v></c></row>'
)


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_every_kind_of_cell_reads_as_calamine_reads_it(tmp_path, date1904):
    path = write_xlsx(tmp_path / "cells.xlsx", CELLS, STRINGS, date1904=date1904)
    dense, streamed = both_readers(path)
    assert streamed == dense
    assert [type(value) for value in streamed[4][1][:5]] == [
        dt.date, dt.date, dt.datetime, dt.time, dt.timedelta
    ]  # fmt: skip
    assert streamed[1][1][2] == "rich "  # runs joined, the phonetic guide left out


def test_an_openpyxl_workbook_reads_the_same(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["Period", "Org", "Count", "Rate", "Seen", "At", "Flag", None, "Note"])
    for number in range(40):
        sheet.append([
            dt.date(2025, 1 + number % 12, 1 + number % 28), f"R{number:03d}", number,
            number / 7, dt.datetime(2025, 9, 1, number % 24, number), dt.time(number % 24, 30),
            number % 3 == 0, None, "" if number % 5 else f"note {number}",
        ])  # fmt: skip
    sheet["C50"] = 10**15
    book.save(tmp_path / "book.xlsx")
    dense, streamed = both_readers(tmp_path / "book.xlsx")
    assert streamed == dense and len(streamed) == 50


_FORMAT_STYLES = st.sampled_from(range(len(STYLES)))
_SERIALS = st.one_of(
    st.floats(min_value=-1e6, max_value=3e6, allow_nan=False),
    st.integers(min_value=-100, max_value=2_958_470).map(float),
    st.integers(min_value=0, max_value=86_400_000).map(lambda ms: 45000 + ms / 86_400_000),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.tuples(_SERIALS, _FORMAT_STYLES), min_size=1, max_size=8))
def test_numbers_in_any_format_read_as_calamine_reads_them(tmp_path_factory, values):
    cells = "".join(
        f'<c r="{chr(65 + index)}1" s="{style}"><v>{value!r}</v></c>'
        for index, (value, style) in enumerate(values)
    )
    path = write_xlsx(tmp_path_factory.mktemp("n") / "n.xlsx", f'<row r="1">{cells}</row>')
    try:
        dense, streamed = both_readers(path)
    except BadInputError:  # a duration beyond what Python holds: both readers refuse
        with pytest.raises(BadInputError):
            list(SparseSheet(path, "Data", path.name).rows())
        return
    assert streamed == dense


@pytest.mark.parametrize("gap", [FAR_COLUMNS, FAR_COLUMNS + 1])
def test_a_value_far_right_of_the_table_is_no_column_and_is_named(tmp_path, gap):
    column = 1 + gap + 1  # the table is A:B; ``gap`` empty columns, then the value
    letters = xlsx_extent.column_letters(column + 1)
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>Org</t></is></c>'
    rows += '<c r="B1" t="inlineStr"><is><t>Count</t></is></c></row>'
    rows += "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>1</v></c></row>'
                    for n in range(2, 30))  # fmt: skip
    rows += f'<row r="40"><c r="A40"><v>40</v></c><c r="{letters}40"><v>8</v></c></row>'
    sheet = SparseSheet(write_xlsx(tmp_path / "far.xlsx", rows), "Data", "far.xlsx")
    last = list(sheet.rows())[-1]
    if gap <= FAR_COLUMNS:
        assert last == (40, [40.0] + [None] * (column - 1) + [8.0])
        assert sheet.warnings() == []
        return
    assert last == (40, [40.0])
    assert sheet.warnings() == [
        f"sheet 'Data': 1 cell more than {FAR_COLUMNS} empty columns right of the table"
        f" (to column {letters}) not read"
    ]


def test_rows_out_of_order_are_one_line(tmp_path):
    rows = '<row r="3"><c r="A3"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
    sheet = SparseSheet(write_xlsx(tmp_path / "order.xlsx", rows), "Data", "order.xlsx")
    with pytest.raises(BadInputError, match=r"lists row 2 after row 3") as caught:
        list(sheet.rows())
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v>',
        '<row r="1"><c r="A1" t="s"><v>9</v></c></row>',
        '<row r="1"><c r="A1" t="x"><v>1</v></c></row>',
        '<row r="99999999"><c r="A1"><v>1</v></c></row>',
    ],
    ids=["truncated", "no such string", "unknown type", "row past the last"],
)
def test_a_damaged_sheet_is_one_line(tmp_path, rows):
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(BadInputError, match=r"bad.xlsx is truncated or corrupt") as caught:
        list(SparseSheet(path, "Data", "bad.xlsx").rows())
    assert "\n" not in str(caught.value)


def test_a_sheet_that_stops_inside_its_data_is_one_line(tmp_path):
    path = write_xlsx(tmp_path / "cut.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row>')
    cut = tmp_path / "cut-short.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(cut, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"</sheetData></worksheet>", b"")
            target.writestr(item, body)
    with pytest.raises(BadInputError, match=r"ends inside its data"):
        list(SparseSheet(cut, "Data", "cut-short.xlsx").rows())


def test_a_table_beside_a_stray_cell_is_streamed_not_refused(tmp_path, monkeypatch):
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>Org Code</t></is></c>'
    rows += '<c r="B1" t="inlineStr"><is><t>Attendances</t></is></c></row>'
    rows += "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>R{n:03d}</t></is></c>'
                    f'<c r="B{n}"><v>{n * 10}</v></c></row>' for n in range(2, 22))  # fmt: skip
    rows += '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = write_xlsx(tmp_path / "stray.xlsx", rows)
    assert xlsx_extent.check_sheet(path, "Data", "stray.xlsx") is True
    table = open_table(str(path))
    loaded = [row for batch in table.iter_batches(100) for row in batch]
    assert [row[:3] for row in loaded[:2]] == [("R002", 20, 2), ("R003", 30, 3)]
    assert table.row_count == 20 and table.layout.last_data_row == 21
    assert any("to column XFD" in warning for warning in table.warnings)


def test_nan_in_a_date_format_is_the_epoch_in_both(tmp_path):
    path = write_xlsx(tmp_path / "nan.xlsx", '<row r="1"><c r="A1" s="2"><v>NaN</v></c>'
                      '<c r="B1"><v>nan</v></c></row>')  # fmt: skip
    dense, streamed = both_readers(path)
    assert streamed[0][1][0] == dense[0][1][0] == dt.datetime(1899, 12, 30)
    assert math.isnan(streamed[0][1][1]) and math.isnan(dense[0][1][1])


def test_load_batch_loads_the_table_beside_a_stray_cell(conn, db_url, tmp_path):
    """The whole load, not only inspect: 20 rows with their sheet row numbers, the stray cell
    at XFD1048576 nowhere, and the warning in the report."""
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>Org Code</t></is></c>'
    rows += '<c r="B1" t="inlineStr"><is><t>Attendances</t></is></c></row>'
    rows += "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>R{n:03d}</t></is></c>'
                    f'<c r="B{n}"><v>{n * 10}</v></c></row>' for n in range(2, 22))  # fmt: skip
    rows += '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    write_xlsx(tmp_path / "stray.xlsx", rows)
    register(conn, "stray_ae")
    manifest = write_manifest(
        tmp_path, [{"source_code": "stray_ae", "path": "stray.xlsx"}], period="2025-09"
    )
    result = run_cli("load-batch", str(manifest), "--json", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    loaded = table_rows(conn, "staging.tbl_stray_ae", "org_code, attendances, _row_number")
    assert loaded[0] == ("R002", 20, 2) and loaded[-1] == ("R021", 210, 21) and len(loaded) == 20
    assert "to column XFD" in result.stdout
