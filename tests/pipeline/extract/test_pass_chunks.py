"""Pass 2 of a workbook table reuses pass 1's cells when they fit; a CSV is always read again."""

from __future__ import annotations

import gc
import shutil

import openpyxl
import pytest

from datawarp.core.errors import BadInputError
from datawarp.demo.samplegen import write_large_xlsx
from datawarp.pipeline.extract import engine, pass_chunks
from datawarp.pipeline.extract.pass_chunks import KeptChunks
from datawarp.pipeline.inspect import open_table
from tests.pipeline.extract.test_engine import provider_workbook


def test_chunks_are_kept_while_they_fit_and_dropped_once_they_do_not():
    kept = KeptChunks(limit=12)
    kept.keep([1, 2], [["a", "b"], [1, 2], [3, 4]])  # 6 cells
    kept.keep([3, 4], [["c", "d"], [5, 6], [7, 8]])  # 12: still fits
    assert kept.chunks is not None and [c[0] for c in kept.chunks] == [[1, 2], [3, 4]]
    kept.keep([5], [["e"], [9], [10]])
    assert kept.chunks is None  # the caller reads the sheet again
    kept.keep([6], [["f"], [11], [12]])
    assert kept.chunks is None


def _rows(table) -> list[tuple]:
    return [row for batch in table.iter_batches(batch_size=97) for row in batch]


@pytest.mark.parametrize("make", ["bulk", "provider"])
def test_kept_cells_give_the_same_rows_as_reading_the_sheet_again(tmp_path, monkeypatch, make):
    if make == "bulk":
        path = write_large_xlsx(tmp_path / "bulk.xlsx", 1500)
    else:
        path = provider_workbook(tmp_path / "provider.xlsx")
    kept = open_table(str(path), cache_dir=tmp_path / "a")
    monkeypatch.setattr(pass_chunks, "KEEP_CELLS", 0)
    read_again = open_table(str(path), cache_dir=tmp_path / "b")
    rows = _rows(kept)
    assert rows == _rows(read_again)
    assert len(rows) == kept.row_count > 0
    assert _rows(kept) == rows  # the kept cells are not consumed or changed by a pass


def test_kept_cells_flag_the_totals_rows_pass_1_found(tmp_path, monkeypatch):
    """Pass 2 of kept cells takes pass 1's totals rows rather than looking at the labels
    again: the same flags as a pass 2 that reads the sheet again, both row and Arrow."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Region", "Org Code", "Attendances"])
    for number in range(1, 301):
        region = ["North", "South", "East"][number % 3]
        sheet.append([region, f"R{number:03}", number])
        if number % 100 == 0:
            sheet.append([region, "Total", number * 50])  # a subtotal under each hundred
    sheet.append(["All regions", "Grand total", 99999])
    path = tmp_path / "totals.xlsx"
    book.save(path)
    kept = open_table(str(path), cache_dir=tmp_path / "a")
    monkeypatch.setattr(pass_chunks, "KEEP_CELLS", 0)
    read_again = open_table(str(path), cache_dir=tmp_path / "b")
    flags = [row[-2] for row in _rows(read_again)]
    assert sum(flags) == 4  # three subtotals and the grand total
    assert [row[-2] for row in _rows(kept)] == flags
    monkeypatch.setattr(engine, "ARROW_PASS_CELLS", 1)  # the Arrow pass 2 (kept cells only)
    arrow = [
        flag for batch in kept.iter_arrow_batches(97) for flag in batch["_is_total"].to_pylist()
    ]
    assert arrow == flags


@pytest.mark.parametrize("freezing", [False, True])
def test_kept_cells_are_frozen_once_made_where_the_process_says_so(tmp_path, monkeypatch, freezing):
    """The ``datawarp`` command's process freezes them (cli.collector); a library user's
    collector is left to walk them as it walks everything else."""
    path = write_large_xlsx(tmp_path / "bulk.xlsx", 500)
    monkeypatch.setattr(pass_chunks.FREEZING, "kept_cells", freezing)
    before = gc.get_freeze_count()
    try:
        table = open_table(str(path), cache_dir=tmp_path / "a")
        assert (gc.get_freeze_count() > before) is freezing
        assert len(_rows(table)) == 500
    finally:
        gc.unfreeze()


def _shorter(path, keep_rows: int) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book.active
    sheet.delete_rows(keep_rows + 2, sheet.max_row)
    book.save(path)


def test_a_kept_table_is_not_read_again_and_a_large_one_is(tmp_path, monkeypatch):
    source = write_large_xlsx(tmp_path / "source.xlsx", 300)
    small, large = tmp_path / "small.xlsx", tmp_path / "large.xlsx"
    shutil.copyfile(source, small)
    shutil.copyfile(source, large)
    kept = open_table(str(small), cache_dir=tmp_path / "a")
    monkeypatch.setattr(pass_chunks, "KEEP_CELLS", 300 * 12 - 1)  # one cell short
    not_kept = open_table(str(large), cache_dir=tmp_path / "b")
    _shorter(small, 100)
    _shorter(large, 100)
    assert len(_rows(kept)) == 300  # exactly what pass 1 profiled
    with pytest.raises(BadInputError, match="changed while it was being read"):
        _rows(not_kept)


def test_csv_and_filled_down_tables_are_always_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAWARP_NO_ARROW", "1")  # the Python path, which could keep cells
    csv = tmp_path / "plain.csv"
    csv.write_text("Code,Region,Value\nR1,North,1\nR2,,2\nR3,South,3\n")
    csv_table = open_table(str(csv), cache_dir=tmp_path / "a")
    book = openpyxl.Workbook()
    for row in [["Code", "Region", "Value"], ["R1", "North", 1], ["R2", None, 2], ["R3", "S", 3]]:
        book.active.append(row)
    xlsx = tmp_path / "filled.xlsx"
    book.save(xlsx)
    filled = open_table(str(xlsx), cache_dir=tmp_path / "b", fill_down=["region"])
    assert [row[1] for row in _rows(filled)] == ["North", "North", "S"]
    csv.write_text("Code,Region,Value\nR1,North,1\n")
    _shorter(xlsx, 1)
    for table in (csv_table, filled):
        with pytest.raises(BadInputError, match="changed while it was being read"):
            _rows(table)
