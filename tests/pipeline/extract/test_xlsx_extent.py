"""A stray cell far from the table is refused in one line before calamine sizes its grid."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract import xlsx_extent
from datawarp.pipeline.inspect import open_table


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


def test_a_stray_cell_at_the_last_address_is_one_line_not_a_crash(tmp_path):
    path = _book(tmp_path / "stray.xlsx", "XFD1048576")
    with pytest.raises(BadInputError) as caught:
        open_table(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert "spans 17,179,869,184 cells (to XFD1048576) but holds only 43" in message


def test_the_same_inside_a_zip(tmp_path):
    book = _book(tmp_path / "stray.xlsx", "CV100001")
    with zipfile.ZipFile(tmp_path / "pack.zip", "w") as archive:
        archive.write(book, "stray.xlsx")
    with pytest.raises(BadInputError, match=r"pack.zip!stray.xlsx: sheet 'Data' spans"):
        open_table(str(tmp_path / "pack.zip"))


def test_a_real_table_over_the_limit_says_so(tmp_path, monkeypatch):
    path = _book(tmp_path / "wide.xlsx", rows=200)
    monkeypatch.setenv(xlsx_extent.MAX_CELLS_ENV, "100")
    with pytest.raises(BadInputError, match=r"spans 5,226 cells \(to row 201\), over the limit"):
        open_table(str(path))


def test_the_scan_does_not_depend_on_where_chunks_end(tmp_path, monkeypatch):
    path = _book(tmp_path / "book.xlsx", "AAB40", rows=30)
    whole = xlsx_extent.sheet_extent(path, "Data")
    monkeypatch.setattr(xlsx_extent, "_CHUNK", 7)
    assert xlsx_extent.sheet_extent(path, "Data") == whole
    assert (whole.cells, whole.last_row, whole.columns, whole.farthest) == (63, 40, 704, "AAB40")
    assert table_loads(path)


def table_loads(path) -> bool:
    return open_table(str(path)).row_count > 0
