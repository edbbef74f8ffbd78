"""The first file's sheet parsed ahead while the command starts, and handed to the reader.

The reader must get exactly what it would have parsed itself: the same sheet, the file as it
is now (not as it was when the read-ahead began), and the usual one-line error for a file it
cannot read. A read-ahead that cannot help must stay silent and change nothing.
"""

from __future__ import annotations

import threading

import openpyxl
import pytest

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract import excel_reader
from datawarp.pipeline.extract.excel_reader import read_sheet_ahead
from datawarp.pipeline.extract.file_ahead import AHEAD, file_key
from datawarp.pipeline.inspect import open_table
from datawarp.pipeline.manifest import parse_manifest
from datawarp.pipeline.read_ahead import read_first_file_ahead


@pytest.fixture(autouse=True)
def _no_kept_sheet():
    excel_reader._LAST_PARSED.forget_other_files(None)  # each test starts with nothing kept
    yield
    excel_reader._LAST_PARSED.forget_other_files(None)
    AHEAD.clear()  # a CSV's table typed ahead


def _workbook(path, *, rows: int = 30, notes_first: bool = True, value: int = 0):
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Monthly activity, provisional"])
    data = book.create_sheet("Data")
    data.append(["Org Code", "Attendances"])
    for number in range(rows):
        data.append([f"R{number:03d}", number * 10 + value])
    if not notes_first:
        book.move_sheet("Data", offset=-1)
    book.save(path)
    return path


def _rows(path, sheet: str | None = "Data") -> list[tuple]:
    table = open_table(str(path), sheet=sheet)
    return [row[:2] for batch in table.iter_batches(1000) for row in batch]


def test_the_reader_takes_the_sheet_parsed_ahead_and_reads_the_same_rows(tmp_path):
    path = _workbook(tmp_path / "activity.xlsx")
    expected = _rows(path)
    excel_reader._LAST_PARSED.forget_other_files(None)

    pending = read_sheet_ahead(path)
    assert pending is not None
    parsed = pending.result()
    assert parsed.height == 31  # the largest sheet, Data, though Notes comes first
    assert _rows(path) == expected
    kept = excel_reader._LAST_PARSED.get(file_key(path), "Data")
    assert kept is parsed  # not parsed a second time


def test_the_sheet_the_manifest_names_is_read_ahead(tmp_path):
    path = _workbook(tmp_path / "activity.xlsx")
    assert read_sheet_ahead(path, "Notes").result().height == 1
    assert read_sheet_ahead(path).result().height == 31


def test_a_file_changed_after_its_read_ahead_is_read_as_it_is_now(tmp_path):
    path = _workbook(tmp_path / "activity.xlsx", value=0)
    read_sheet_ahead(path).result()
    _workbook(path, value=5)  # rewritten: its size or modification time changes
    assert _rows(path)[-1][1] == 295


def test_the_reader_waits_for_a_parse_in_flight_instead_of_parsing_again(tmp_path):
    path = _workbook(tmp_path / "activity.xlsx")
    key = file_key(path)
    release = threading.Event()
    parsed = []

    def slow_parse():
        release.wait()
        book = excel_reader.python_calamine.CalamineWorkbook.from_path(str(path))
        parsed.append(book.get_sheet_by_name("Data"))
        return parsed[0]

    excel_reader._LAST_PARSED.parse_ahead(key, "Data", slow_parse)
    taken = []
    reader = threading.Thread(
        target=lambda: taken.append(excel_reader._LAST_PARSED.get(key, "Data"))
    )
    reader.start()  # it can only get the sheet by waiting: the parse is held back
    # Another sheet of the same file read meanwhile does not push out the one in flight.
    other = excel_reader.python_calamine.CalamineWorkbook.from_path(str(path))
    excel_reader._LAST_PARSED.keep(key, "Notes", other.get_sheet_by_name("Notes"))
    release.set()
    reader.join()
    assert taken == parsed  # the read-ahead's own sheet, not None and not a second parse


def test_a_read_ahead_that_failed_leaves_the_reader_to_report_the_problem(tmp_path):
    path = _workbook(tmp_path / "activity.xlsx")
    pending = read_sheet_ahead(path, "Missing")
    assert pending is not None and pending.exception() is not None
    assert excel_reader._LAST_PARSED.get(file_key(path), "Missing") is None
    with pytest.raises(BadInputError, match="Missing"):
        open_table(str(path), sheet="Missing")


def _truncated(tmp_path):
    whole = _workbook(tmp_path / "whole.xlsx").read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def _stray_cell(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Org Code", "Attendances"])
    book.active.append(["R001", 5])
    book.active["XFD1048576"] = "stray"
    book.save(tmp_path / "stray.xlsx")
    return tmp_path / "stray.xlsx"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda tmp_path: tmp_path / "missing.xlsx", id="missing"),
        pytest.param(_truncated, id="truncated"),
        pytest.param(_stray_cell, id="stray-cell-streamed"),
        pytest.param(lambda tmp_path: _write(tmp_path / "text.xlsx", b"a,b\n1,2\n"), id="csv"),
        pytest.param(lambda tmp_path: _write(tmp_path / "a.csv", b"a,b\n1,2\n"), id="csv-name"),
    ],
)
def test_what_cannot_be_read_ahead_is_left_to_the_reader(tmp_path, make):
    path = make(tmp_path)
    assert read_sheet_ahead(path) is None


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_a_truncated_workbook_still_fails_in_one_line(tmp_path):
    path = _truncated(tmp_path)
    read_sheet_ahead(path)
    with pytest.raises(BadInputError, match="truncated or corrupt"):
        open_table(str(path))


def test_load_batch_reads_ahead_only_a_local_workbook_of_the_first_file(tmp_path):
    book = _workbook(tmp_path / "activity.xlsx")
    (tmp_path / "activity.csv").write_text("Org Code,Attendances\nR001,5\n")
    manifest = parse_manifest(
        "sources:\n"
        "  - source_code: csv_first\n    path: activity.csv\n    period: 2025-09\n"
        "  - source_code: book_second\n    path: activity.xlsx\n    period: 2025-09\n"
        "  - source_code: from_web\n    url: https://example.org/a.xlsx\n    period: 2025-09\n",
        base_dir=tmp_path,
    )
    assert not read_first_file_ahead(manifest)  # the batch starts with the CSV
    assert read_first_file_ahead(manifest, "book_second")
    kept = excel_reader._LAST_PARSED.get(file_key(book), "Data")
    assert kept is not None and kept.height == 31
    assert not read_first_file_ahead(manifest, "from_web")
