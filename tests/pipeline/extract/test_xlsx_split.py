"""A large xlsx sheet parsed in two halves at once reads exactly as the sheet parsed whole."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract import excel_reader, xlsx_split
from datawarp.pipeline.extract.excel_reader import ExcelWorkbook
from datawarp.pipeline.extract.xlsx_extent import check_sheet, sheet_extent
from datawarp.pipeline.inspect import open_table

SHEET_PART = "xl/worksheets/sheet1.xml"


def _rows(path, monkeypatch, *, split: bool) -> dict[str, list]:
    """Every sheet's rows as the reader gives them, parts allowed for any size or never; a
    sheet whose parts did not join is read again, as the engine reads it (``open_fetched``)."""
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0 if split else 1 << 62)
    monkeypatch.setattr(excel_reader, "_LAST_PARSED", excel_reader._LastParsedSheet())
    monkeypatch.setattr(excel_reader, "_READ_WHOLE", set())
    book = ExcelWorkbook(path, kind="xlsx", display_name=path.name)
    try:
        rows = {}
        for info in book.sheets:
            try:
                rows[info.name] = list(book.iter_rows(info.name))
            except xlsx_split.ReadSheetAgain:
                rows[info.name] = list(book.iter_rows(info.name))
        return rows
    finally:
        book.close()


def _joined_kinds(path, monkeypatch) -> list[str]:
    """What the parts made of each sheet once read: "SplitSheet", a "part" alone (the other
    holds no cell), or "whole" (the parts did not join: the sheet's whole parse)."""
    parsed: list = []
    parse = xlsx_split.SheetSplitter.parse

    def noting(self, sheet, parse_whole):
        parsed.append(parse(self, sheet, parse_whole))
        return parsed[-1]

    monkeypatch.setattr(xlsx_split.SheetSplitter, "parse", noting)
    _rows(path, monkeypatch, split=True)
    kinds = []
    for sheet in parsed:
        settled = sheet.settled() if isinstance(sheet, xlsx_split.SplitSheet) else sheet
        if settled is sheet and isinstance(sheet, xlsx_split.SplitSheet):
            kinds.append("SplitSheet")
        else:
            kinds.append("whole" if settled is getattr(sheet, "_whole", None) else "part")
    return kinds


def _workbook(path, rows: list[list], *, sheets: int = 1):
    book = openpyxl.Workbook()
    for index in range(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = f"Sheet {index + 1}"
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _edited(path, target, old: bytes, new: bytes, count: int = 1):
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as edited:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == SHEET_PART:
                assert old in body
                body = body.replace(old, new, count)
            edited.writestr(item, body)
    return target


def _table(count: int) -> list[list]:
    day = dt.datetime(2024, 4, 1)
    rows = [["Org Code", "Attendances", "Rate", "Day", "Note"]]
    for number in range(count):
        rows.append([f"R{number:03d}", number, number / 7, day + dt.timedelta(days=number),
                     "suppressed" if number % 9 == 0 else None])  # fmt: skip
    return rows


def test_the_halves_read_as_the_whole_sheet(tmp_path, monkeypatch):
    path = _workbook(tmp_path / "book.xlsx", _table(400), sheets=2)
    whole = _rows(path, monkeypatch, split=False)
    assert _rows(path, monkeypatch, split=True) == whole
    assert _joined_kinds(path, monkeypatch) == ["SplitSheet", "SplitSheet"]
    assert len(whole["Sheet 2"]) == 401 and whole["Sheet 2"][200][1][:2] == ["R199", 199]


def test_halves_starting_in_different_columns_keep_every_cell_in_its_column(tmp_path, monkeypatch):
    """The first half starts at column A, the second only at column C: calamine starts each
    half's rows at its own first column, and the join puts them back where they lie."""
    rows = [["Title"]] + [[None, None, f"R{n}", n] for n in range(300)]
    path = _workbook(tmp_path / "offset.xlsx", rows)
    whole = _rows(path, monkeypatch, split=False)
    assert _rows(path, monkeypatch, split=True) == whole
    assert _joined_kinds(path, monkeypatch) == ["SplitSheet"]
    assert whole["Sheet 1"][-1] == (301, [None, None, "R299", 299])


def test_a_second_half_without_cells_leaves_the_first(tmp_path, monkeypatch):
    """Rows after the middle that hold no cell (formatting only): the first half is the sheet."""
    path = _workbook(tmp_path / "book.xlsx", _table(50))
    padded = _edited(
        path, tmp_path / "padded.xlsx", b"</sheetData>",
        b"".join(b'<row r="%d" ht="20" customHeight="1"/>' % n for n in range(52, 3000))
        + b"</sheetData>",
    )  # fmt: skip
    whole = _rows(padded, monkeypatch, split=False)
    assert _rows(padded, monkeypatch, split=True) == whole
    assert _joined_kinds(padded, monkeypatch) == ["part"]


def _moved(tmp_path) -> Path:
    """A row numbered before the cut, written at the end: calamine places it by its number,
    so only the whole sheet's parse reads it right, and it is found only once the second part
    is parsed, after the first part's rows were read."""
    path = _workbook(tmp_path / "book.xlsx", _table(300))
    return _edited(
        path, tmp_path / "moved.xlsx", b'<row r="301"',
        b'<row r="3"><c r="E3" t="inlineStr"><is><t>late</t></is></c></row><row r="301"',
    )  # fmt: skip


def test_rows_out_of_order_are_read_again_from_the_whole_parse(tmp_path, monkeypatch):
    moved = _moved(tmp_path)
    assert check_sheet(moved, "Sheet 1", moved.name) is False  # calamine reads it
    whole = _rows(moved, monkeypatch, split=False)
    assert whole["Sheet 1"][2][1][-1] == "late"
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0)
    for stop_early in (True, False):
        monkeypatch.setattr(excel_reader, "_LAST_PARSED", excel_reader._LastParsedSheet())
        monkeypatch.setattr(excel_reader, "_READ_WHOLE", set())
        book = ExcelWorkbook(moved, kind="xlsx", display_name=moved.name)
        try:
            rows = book.iter_rows("Sheet 1")
            assert next(rows)[1][0] == "Org Code"  # given before the second part was known
            with pytest.raises(xlsx_split.ReadSheetAgain):
                if stop_early:  # a table that ends in the first part: the confirmation says
                    book.confirm_rows("Sheet 1")
                else:  # reading on into the second part
                    list(rows)
            assert list(book.iter_rows("Sheet 1")) == whole["Sheet 1"]  # the whole parse
            book.confirm_rows("Sheet 1")  # read whole: nothing to read again
        finally:
            book.close()
    assert _joined_kinds(moved, monkeypatch) == ["whole"]


def test_a_table_read_early_from_a_sheet_out_of_order_is_the_whole_sheets(tmp_path, monkeypatch):
    """The engine reads the table again from the whole parse: every value as without parts."""
    moved = _moved(tmp_path)
    tables = {}
    for split in (False, True):
        monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0 if split else 1 << 62)
        monkeypatch.setattr(excel_reader, "_LAST_PARSED", excel_reader._LastParsedSheet())
        monkeypatch.setattr(excel_reader, "_READ_WHOLE", set())
        table = open_table(str(moved), cache_dir=tmp_path / f"cache{split}")
        tables[split] = (table.row_count, [row for batch in table.iter_batches() for row in batch])
    assert tables[True] == tables[False]
    assert tables[True][1][1][4] == "late"  # the second data row's note, from row 3


def test_a_second_part_calamine_cannot_read_fails_the_table_as_the_whole_sheet_does(
    tmp_path, monkeypatch
):
    """The first part's rows were read; the second part's parse fails, then the whole
    sheet's: one line naming the file, as without parts."""
    path = _workbook(tmp_path / "book.xlsx", _table(300))
    broken = _edited(
        path, tmp_path / "broken.xlsx", b'<row r="250"',
        b'<row r="250"><c r="A250" t="s"><v>99999</v></c></row><row r="250"',
    )  # fmt: skip
    messages = {}
    for split in (False, True):
        monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0 if split else 1 << 62)
        monkeypatch.setattr(excel_reader, "_LAST_PARSED", excel_reader._LastParsedSheet())
        monkeypatch.setattr(excel_reader, "_READ_WHOLE", set())
        with pytest.raises(BadInputError) as raised:
            open_table(str(broken), cache_dir=tmp_path / f"cache{split}")
        messages[split] = str(raised.value)
    assert messages[True] == messages[False]
    assert "broken.xlsx is truncated or corrupt" in messages[True]
    assert "\n" not in messages[True]


def test_a_row_without_its_number_is_never_where_the_sheet_is_cut(tmp_path, monkeypatch):
    """calamine numbers a row without r= after the one before it, which the second half
    would not know: no cut is made there, and the halves are dropped."""
    path = _workbook(tmp_path / "book.xlsx", _table(300))
    unnumbered = tmp_path / "unnumbered.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(unnumbered, "w") as edited:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == SHEET_PART:
                body = re.sub(rb'<row r="[0-9]+"', b"<row", body)
            edited.writestr(item, body)
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0)
    splitter = xlsx_split.SheetSplitter.for_sheet(unnumbered, "Sheet 1")
    sheet_extent(unnumbered, "Sheet 1", count_cells=False, sink=splitter.feed)
    assert not splitter.finish() and not splitter.folder.exists()
    numbered = xlsx_split.SheetSplitter.for_sheet(path, "Sheet 1")
    sheet_extent(path, "Sheet 1", count_cells=False, sink=numbered.feed)
    assert numbered.finish()
    numbered.discard()


def test_the_scratch_workbooks_are_removed(tmp_path, monkeypatch):
    path = _workbook(tmp_path / "book.xlsx", _table(300))
    splitter = xlsx_split.SheetSplitter.for_sheet(path, "Sheet 1")
    assert splitter is None  # under SPLIT_XML_BYTES: parsed whole
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0)
    splitter = xlsx_split.SheetSplitter.for_sheet(path, "Sheet 1")
    assert check_sheet(path, "Sheet 1", path.name, splitter.feed) is False
    assert splitter.finish()
    assert sorted(item.name for item in splitter.folder.iterdir()) == ["half0.xlsx", "half1.xlsx"]
    sheet = splitter.parse("Sheet 1", lambda: pytest.fail("parsed whole"))
    assert isinstance(sheet, xlsx_split.SplitSheet) and sheet.height == 301
    assert not splitter.folder.exists()


def test_a_streamed_sheet_leaves_no_halves(tmp_path, monkeypatch):
    """A sheet the reach check sends to the streamed reader is never parsed by calamine."""
    path = _workbook(tmp_path / "book.xlsx", _table(300))
    stray = _edited(path, tmp_path / "stray.xlsx", b'r="B5"', b'r="XFD1048576"')
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0)
    streamed, halves = excel_reader._scan_and_split(stray, "Sheet 1", stray.name)
    assert streamed is True and halves is None
    assert not list(tmp_path.glob("*/half*.xlsx"))


def test_every_genuine_workbook_reads_the_same_in_halves(nhs_samples, monkeypatch):
    books = sorted(nhs_samples.rglob("*.xlsx"))
    assert books
    cut = 0
    for path in books:
        whole = _rows(path, monkeypatch, split=False)
        assert _rows(path, monkeypatch, split=True) == whole, path.name
        cut += _joined_kinds(path, monkeypatch).count("SplitSheet")
    assert cut >= len(books)  # the cut was made, not skipped, on every genuine workbook


@pytest.mark.parametrize("size", [0, 1 << 20])
def test_for_sheet_needs_a_sheet_that_exists(tmp_path, monkeypatch, size):
    path = _workbook(tmp_path / "book.xlsx", _table(10))
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", size)
    assert xlsx_split.SheetSplitter.for_sheet(path, "No such sheet") is None
    assert xlsx_split.SheetSplitter.for_sheet(tmp_path / "missing.xlsx", "Sheet 1") is None


def test_a_parse_while_the_command_starts_is_split_only_from_a_larger_sheet(tmp_path, monkeypatch):
    """Read ahead, the whole parse has a core to itself while the command starts: halves pay
    only from ``SPLIT_AHEAD_XML_BYTES``; read by the reader, from ``SPLIT_XML_BYTES``."""
    path = _workbook(tmp_path / "book.xlsx", _table(300))
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo(SHEET_PART).file_size
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", size)
    monkeypatch.setattr(xlsx_split, "SPLIT_AHEAD_XML_BYTES", size + 1)
    monkeypatch.setattr(excel_reader, "_LAST_PARSED", excel_reader._LastParsedSheet())
    splitter = xlsx_split.SheetSplitter.for_sheet(path, "Sheet 1")
    assert splitter is not None
    splitter.discard()
    assert xlsx_split.SheetSplitter.for_sheet(path, "Sheet 1", ahead=True) is None
    assert type(excel_reader.read_sheet_ahead(path).result()).__name__ == "CalamineSheet"
    monkeypatch.setattr(xlsx_split, "SPLIT_AHEAD_XML_BYTES", size)
    monkeypatch.setattr(excel_reader, "_LAST_PARSED", excel_reader._LastParsedSheet())
    assert isinstance(excel_reader.read_sheet_ahead(path).result(), xlsx_split.SplitSheet)


@st.composite
def _sheet_rows(draw) -> list[tuple[int, list[tuple[int, str]]]]:
    """Rows in order with gaps, each with cells in some columns (numbers or text), some
    rows empty: what a cut may fall between."""
    rows, number = [], 0
    for _ in range(draw(st.integers(4, 60))):
        number += draw(st.integers(1, 4))
        columns = sorted(draw(st.sets(st.integers(0, 7), max_size=5)))
        cells = [
            (column, draw(st.sampled_from(["1", "2.5", "-7", "t:Trust", "t:"])))
            for column in columns
        ]
        rows.append((number, cells))
    return rows


def _sheet_xml(rows) -> bytes:
    out = []
    for number, cells in rows:
        parts = []
        for column, value in cells:
            ref = f"{chr(65 + column)}{number}"
            if value.startswith("t:"):
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{value[2:]}</t></is></c>')
            else:
                parts.append(f'<c r="{ref}"><v>{value}</v></c>')
        out.append(f'<row r="{number}">{"".join(parts)}</row>')
    return "".join(out).encode()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_sheet_rows(), where=st.floats(0.1, 0.9))
def test_any_sheet_cut_anywhere_reads_as_the_whole(tmp_path, monkeypatch, rows, where):
    """Generated rows (gaps, empty rows, cells starting in any column), the cut placed
    anywhere: the halves, joined or not, read as the whole sheet."""
    template = _workbook(tmp_path / "template.xlsx", [["x"]])
    path = tmp_path / "generated.xlsx"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == SHEET_PART:
                start = body.index(b"<sheetData>") + len(b"<sheetData>")
                body = body[:start] + _sheet_xml(rows) + body[body.index(b"</sheetData>") :]
            target.writestr(item, body)
    whole = _rows(path, monkeypatch, split=False)
    original = xlsx_split.SheetSplitter.__init__

    def cut_at(self, source, part, size):
        original(self, source, part, size)
        self._middle = int(size * where)

    monkeypatch.setattr(xlsx_split.SheetSplitter, "__init__", cut_at)
    assert _rows(path, monkeypatch, split=True) == whole


def test_without_room_for_the_halves_the_sheet_is_parsed_whole(tmp_path, monkeypatch):
    """No scratch folder to be had, or a disk that fills while the halves are written: the
    sheet is parsed whole, and nothing is left behind."""
    path = _workbook(tmp_path / "book.xlsx", _table(300))
    whole = _rows(path, monkeypatch, split=False)

    def no_room(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsx_split, "make_scratch", no_room)
    assert _rows(path, monkeypatch, split=True) == whole
    monkeypatch.undo()
    monkeypatch.setattr(xlsx_split, "SPLIT_XML_BYTES", 0)
    splitter = xlsx_split.SheetSplitter.for_sheet(path, "Sheet 1")
    monkeypatch.setattr(splitter, "_open_half", no_room)
    assert check_sheet(path, "Sheet 1", path.name, splitter.feed) is False
    assert not splitter.finish() and not splitter.folder.exists()
