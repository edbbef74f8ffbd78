"""A stray cell far from the table: the sheet is streamed in memory that follows its cells.

calamine would hold the sheet as a dense grid to the stray cell (17 billion cells for one at
XFD1048576); the extent scan sends such a sheet to the streamed reader instead, and refuses
in one line only a sheet holding more real cells than the limit.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import zipfile
import zlib

import openpyxl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract import xlsx_extent
from datawarp.pipeline.inspect import open_table

PEAK_RSS_MB = 400  # ``inspect`` of a small table takes about 100 MB; the dense grid took 6.4 GB
# The child runs under an address-space cap, so a return of the dense grid fails fast rather
# than taking the machine's memory; its peak RSS is the wrapper's only child's.
_MEASURED = """
import json, resource, subprocess, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
done = subprocess.run([sys.executable, "-m", "datawarp", "inspect", "--json", *sys.argv[1:]],
                      capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(json.dumps({"code": done.returncode, "peak_mb": peak, "out": done.stdout,
                  "err": done.stderr[-2000:]}))
"""


def _book(path, stray: str | None = None, rows: int = 20):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["Org Code", "Attendances"])
    for number in range(rows):
        sheet.append([f"R{number:03d}", number])
    if stray:
        sheet[stray] = "stray"
    book.save(path)
    return path


def _loaded(location: str) -> list[tuple]:
    table = open_table(location)
    return [row for batch in table.iter_batches(1000) for row in batch]


def _inspect_measured(tmp_path, *arguments: str) -> tuple[dict, int]:
    run = subprocess.run(
        [sys.executable, "-c", _MEASURED, *arguments],
        capture_output=True, text=True, check=True,
        env={**os.environ, "DATAWARP_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    measured = json.loads(run.stdout)
    assert measured["code"] == 0, measured["err"]
    return json.loads(measured["out"]), measured["peak_mb"]


@pytest.mark.parametrize("stray", ["XFD1048576", "BXY100001"])
def test_a_stray_cell_far_away_loads_the_table_in_bounded_memory(tmp_path, stray):
    """One cell at the last address, and the 5 KB file with one at row 100,001, column 2,001
    (the one that took 6.4 GB and 29 s): the table's rows, well under the memory bound."""
    path = _book(tmp_path / "stray.xlsx", stray)
    assert xlsx_extent.check_sheet(path, "Data", "stray.xlsx") is True
    rows = _loaded(str(path))
    assert (
        len(rows) == 20
        and rows[0] == ("R000", 0, 2, False, None)
        and rows[-1][:3] == ("R019", 19, 21)
    )
    report, peak_mb = _inspect_measured(tmp_path, str(path))
    assert report["row_count"] == 20 and report["layout"]["last_data_row"] == 21
    assert [column["name"] for column in report["columns"]] == ["org_code", "attendances"]
    assert report["warnings"] == [
        f"sheet 'Data': 1 cell more than 256 empty columns right of the table (to column"
        f" {stray.rstrip('0123456789')}) not read"
    ]
    assert peak_mb < PEAK_RSS_MB


def test_the_same_inside_a_zip(tmp_path):
    book = _book(tmp_path / "stray.xlsx", "XFD1048576")
    with zipfile.ZipFile(tmp_path / "pack.zip", "w") as archive:
        archive.write(book, "stray.xlsx")
    assert len(_loaded(str(tmp_path / "pack.zip"))) == 20
    report, peak_mb = _inspect_measured(tmp_path, str(tmp_path / "pack.zip"))
    assert (report["member"], report["row_count"]) == ("stray.xlsx", 20)
    assert peak_mb < PEAK_RSS_MB


def test_a_stray_cell_far_below_is_read_as_calamine_would(tmp_path):
    """Below the table it is a value of the table's first column (a dense read's answer)."""
    path = _book(tmp_path / "below.xlsx", "A1048576")
    assert xlsx_extent.check_sheet(path, "Data", "below.xlsx") is True
    rows = _loaded(str(path))
    assert len(rows) == 21 and rows[-1] == ("stray", None, 1048576, False, None)


def test_a_sheet_holding_more_cells_than_the_limit_is_one_line(tmp_path, monkeypatch):
    path = _book(tmp_path / "stray.xlsx", "XFD1048576", rows=200)
    monkeypatch.setenv(xlsx_extent.MAX_CELLS_ENV, "100")
    with pytest.raises(BadInputError) as caught:
        open_table(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "stray.xlsx: sheet 'Data' holds 403 cells (to XFD1048576), over the limit of 100"
        " (DATAWARP_MAX_SHEET_CELLS)"
    )


def test_a_real_table_over_the_limit_says_so(tmp_path, monkeypatch):
    path = _book(tmp_path / "wide.xlsx", rows=200)
    monkeypatch.setenv(xlsx_extent.MAX_CELLS_ENV, "100")
    with pytest.raises(BadInputError, match=r"holds 402 cells \(to row 201\), over the limit"):
        open_table(str(path))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'r="B5"', b'r="XFD1048576"'),  # a reference past every row the sheet lists
        (b'r="B5"', b'r="B9999999"'),
        (b'<c r="B5"', b'<c\nr="B5"'),  # calamine reads attributes however they are spaced
        (b'<c r="B5" t="n"', b'<c t="n" r="B5"'),
        (b'<c r="B5" t="n"', b'<c t="n"'),  # placed by its order in the row
    ],
    ids=["far reference", "eight-digit row", "newline", "r not first", "no reference"],
)
def test_a_cell_the_scan_cannot_bound_makes_the_sheet_streamed(tmp_path, old, new):
    """calamine places a cell by its own reference, whatever the <row> around it says, so a
    reference the quick bounds do not cover sends the sheet to the streamed reader."""
    book = _book(tmp_path / "plain.xlsx")
    irregular = tmp_path / "irregular.xlsx"
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(irregular, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old in body
                body = body.replace(old, new, 1)
            target.writestr(item, body)
    assert xlsx_extent.check_sheet(book, "Data", "plain.xlsx") is False
    assert xlsx_extent.check_sheet(irregular, "Data", "irregular.xlsx") is True
    try:
        rows = _loaded(str(irregular))
    except BadInputError as exc:  # a row past Excel's last is damage, said in one line
        assert new == b'r="B9999999"' and "\n" not in str(exc)
        return
    assert len(rows) == 20 and rows[3][:3] == ("R003", None if b"XFD" in new else 3, 5)


def test_a_grid_over_the_limit_with_cells_under_it_is_streamed(tmp_path, monkeypatch):
    """The grid is bounded by 26 columns when no reference has two letters: 201 rows x 26
    exceed 5,000, the 402 real cells do not, so the sheet is streamed, not refused."""
    path = _book(tmp_path / "tall.xlsx", rows=200)
    monkeypatch.setenv(xlsx_extent.MAX_CELLS_ENV, "5000")
    assert xlsx_extent.check_sheet(path, "Data", "tall.xlsx") is True
    monkeypatch.delenv(xlsx_extent.MAX_CELLS_ENV)
    dense = _loaded(str(path))
    monkeypatch.setenv(xlsx_extent.MAX_CELLS_ENV, "5000")
    assert _loaded(str(path)) == dense and len(dense) == 200


def test_the_scan_does_not_depend_on_where_chunks_end(tmp_path, monkeypatch):
    path = _book(tmp_path / "book.xlsx", "AAB40", rows=30)
    whole = xlsx_extent.sheet_extent(path, "Data")
    monkeypatch.setattr(xlsx_extent, "_CHUNK", 7)
    assert xlsx_extent.sheet_extent(path, "Data") == whole
    assert (whole.cells, whole.last_row, whole.columns, whole.farthest) == (63, 40, 704, "AAB40")
    assert table_loads(path)


@pytest.mark.parametrize("stray", [None, "AB7", "XFD1048576"])
def test_a_scan_without_counting_bounds_the_grid_as_one_that_counts(tmp_path, stray):
    """The loader's first scan leaves the cells uncounted (only a grid over the limit needs
    them); its bounds are those of the counting scan."""
    path = _book(tmp_path / "book.xlsx", stray)
    counted = xlsx_extent.sheet_extent(path, "Data")
    quick = xlsx_extent.sheet_extent(path, "Data", count_cells=False)
    assert counted.cells == 42 + (stray is not None) and quick.cells == 0
    bounds = ("grid", "last_row", "columns", "farthest", "irregular")
    assert [getattr(quick, name) for name in bounds] == [getattr(counted, n) for n in bounds]


def test_a_sheet_of_empty_rows_is_not_refused(tmp_path, monkeypatch):
    """Rows without a cell bound a grid the uncounted scan cannot tell empty: the count that
    follows finds no cells, and the sheet reads as the empty sheet it is."""
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.row_dimensions[500].height = 30  # a formatted row, no cells
    book.save(tmp_path / "empty.xlsx")
    monkeypatch.setenv(xlsx_extent.MAX_CELLS_ENV, "100")
    assert xlsx_extent.sheet_extent(tmp_path / "empty.xlsx", "Data").grid == 0
    assert xlsx_extent.check_sheet(tmp_path / "empty.xlsx", "Data", "empty.xlsx") is True


def table_loads(path) -> bool:
    return open_table(str(path)).row_count > 0


@pytest.mark.parametrize(
    ("stray", "columns", "farthest"),
    [(None, 26, "row 21"), ("Z7", 26, "row 21"), ("AB7", 702, "row 21"), ("ZZ3", 702, "row 21"),
     ("AAA9", 703, "AAA9"), ("XFD2", 16_384, "XFD2")],
)  # fmt: skip
def test_columns_are_bounded_by_the_widest_reference_in_any_piece(
    tmp_path, monkeypatch, stray, columns, farthest
):
    path = _book(tmp_path / "book.xlsx", stray)
    for chunk in (xlsx_extent._CHUNK, 64):  # the reference alone in its piece, or not
        monkeypatch.setattr(xlsx_extent, "_CHUNK", chunk)
        extent = xlsx_extent.sheet_extent(path, "Data")
        assert (extent.columns, extent.farthest) == (columns, farthest)


_CELL_STARTS = ["<c", "<col", "<cfRule"]
_AFTER_C = [' r="', ' t="n" r="', ">", "\n", "\t", " ", " r", " r=", ' s="1" r="']


@st.composite
def _cells(draw) -> bytes:
    """Pieces of sheet XML: cells with references regular and not, other tags, cut anywhere."""
    parts = []
    for _ in range(draw(st.integers(1, 12))):
        letters = draw(st.text(alphabet="ABCXYZabxz", max_size=5))
        digits = draw(st.text(alphabet="0123456789", max_size=8))
        start, after = draw(st.sampled_from(_CELL_STARTS)), draw(st.sampled_from(_AFTER_C))
        parts.append(f'{start}{after}{letters}{digits}" t="n"><v>1</v></c>')
    body = "".join(parts).encode()
    return body[: draw(st.integers(0, len(body)))]


@settings(max_examples=400, deadline=None)
@given(_cells(), st.integers(1, 1_048_576))
def test_both_scanners_find_the_same_cells_the_bounds_may_not_cover(body, rows):
    """Python's patterns for small sheets and RE2's for large ones agree on every piece."""
    piece = pa.array([body], pa.large_binary())
    assert xlsx_extent.irregular_cell(body, rows, piece) == xlsx_extent.irregular_cell(body, rows)
    assert xlsx_extent.two_or_more_letters(body, piece) == xlsx_extent.two_or_more_letters(body)


@pytest.mark.parametrize("stray", [None, "AB7", "AAA9", "XFD1048576"])
def test_a_large_sheets_scan_bounds_the_grid_as_a_small_ones(tmp_path, monkeypatch, stray):
    path = _book(tmp_path / "book.xlsx", stray)
    by_python = xlsx_extent.sheet_extent(path, "Data")
    monkeypatch.setattr(xlsx_extent, "ARROW_SHEET_XML_BYTES", 0)  # every sheet is "large"
    assert xlsx_extent.sheet_extent(path, "Data") == by_python
    assert xlsx_extent.check_sheet(path, "Data", "book.xlsx") is (stray == "XFD1048576")


def _prefixed(path):
    """``_book``'s workbook with its sheet's elements written with a namespace prefix."""
    _book(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = members[sheet].decode()
    body = xml[xml.index("<sheetData") : xml.index("</worksheet>")]
    prefixed = body.replace("<", "<x:").replace("<x:/", "</x:")
    members[sheet] = (
        xml.replace(body, prefixed)
        .replace(
            "<worksheet ",
            '<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
            1,
        )
        .encode()
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_sheet_whose_cells_are_prefixed_is_irregular_however_large(tmp_path, monkeypatch):
    """The scan's patterns see no ``<c``: the sheet's cells go uncounted, so it is streamed."""
    path = _prefixed(tmp_path / "prefixed.xlsx")
    assert xlsx_extent.sheet_extent(path, "Data").irregular
    monkeypatch.setattr(xlsx_extent, "ARROW_SHEET_XML_BYTES", 0)  # every sheet is "large"
    assert xlsx_extent.sheet_extent(path, "Data").irregular


def _inflate_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "datawarp-sheet-inflate"]


def test_pieces_inflated_ahead_are_the_pieces_in_order(monkeypatch):
    monkeypatch.setattr(xlsx_extent, "_CHUNK", 64)
    xml = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(500))
    ahead = list(xlsx_extent.chunks_ahead(io.BytesIO(xml)))
    assert [piece for piece, _ in ahead] == list(xlsx_extent.chunks(io.BytesIO(xml)))
    assert not any(prefixed for _, prefixed in ahead)
    assert not _inflate_threads()


def test_a_piece_naming_a_prefixed_sheet_data_is_marked_where_it_is_inflated(monkeypatch):
    monkeypatch.setattr(xlsx_extent, "_CHUNK", 64)
    xml = b'<x:worksheet><x:sheetData><x:row r="1"><x:c r="A1"/></x:row>' * 20
    assert all(prefixed for piece, prefixed in xlsx_extent.chunks_ahead(io.BytesIO(xml))
               if b":sheetData" in piece)  # fmt: skip
    assert any(prefixed for _, prefixed in xlsx_extent.chunks_ahead(io.BytesIO(xml)))


def test_a_caller_that_stops_early_ends_the_inflating_thread(monkeypatch):
    monkeypatch.setattr(xlsx_extent, "_CHUNK", 8)
    pieces = xlsx_extent.chunks_ahead(io.BytesIO(b"<row><c>1</c></row>" * 1000))
    assert next(pieces)[0].startswith(b"<row>")
    pieces.close()
    assert not _inflate_threads()


def test_a_stream_that_fails_fails_the_caller():
    class Damaged(io.RawIOBase):
        def readinto(self, buffer):
            raise zlib.error("invalid stored block lengths")

    with pytest.raises(zlib.error):
        list(xlsx_extent.chunks_ahead(Damaged()))
    assert not _inflate_threads()


def test_a_damaged_large_sheet_is_left_to_calamine_to_report(tmp_path, monkeypatch):
    """A large sheet's scan inflates ahead: damage found there reads as unknown, as before."""
    path = _book(tmp_path / "book.xlsx", rows=300)
    damaged = tmp_path / "damaged.xlsx"
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 40 : start + 80] = b"\xff" * 40
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(xlsx_extent, "ARROW_SHEET_XML_BYTES", 0)
    assert xlsx_extent.sheet_extent(damaged, "Data") is None
    assert not _inflate_threads()
