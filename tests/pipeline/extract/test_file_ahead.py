"""Work on the first file done ahead (fingerprint, CSV encoding) and taken only while it holds.

The loader must get what it would have worked out itself: the fingerprint and encoding of
the file as it is when it is loaded, never of an earlier version, and it does the work itself
whenever the work ahead failed, was not started, or was for another file.
"""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from datawarp.pipeline.extract.csv_reader import file_encoding
from datawarp.pipeline.extract.file_ahead import AHEAD, FileAhead
from datawarp.pipeline.fetch import fetch, file_sha256
from datawarp.pipeline.inspect import open_table
from datawarp.pipeline.manifest import parse_manifest
from datawarp.pipeline.read_ahead import read_first_file_ahead


@pytest.fixture(autouse=True)
def _nothing_ahead():
    AHEAD.clear()
    yield
    AHEAD.clear()


def _csv(path, text="Org Code,Attendances\nR001,5\nR002,7\n", encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_a_result_is_taken_once_for_the_unchanged_file(tmp_path):
    ahead = FileAhead()
    path = _csv(tmp_path / "a.csv")
    assert ahead.start("sha256", path, file_sha256)
    assert ahead.take("sha256", path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ahead.take("sha256", path) is None  # handed over once; then the caller works


def test_a_changed_file_is_worked_on_again(tmp_path):
    ahead = FileAhead()
    path = _csv(tmp_path / "a.csv")
    ahead.start("sha256", path, file_sha256)
    _csv(path, "Org Code,Attendances\nR001,5\nR002,8000\n")  # longer: another size
    assert ahead.take("sha256", path) is None


def test_a_file_rewritten_to_the_same_size_is_worked_on_again(tmp_path):
    ahead = FileAhead()
    path = _csv(tmp_path / "a.csv")
    ahead.start("sha256", path, file_sha256)
    ahead._pending["sha256"][1].result()
    _csv(path, "Org Code,Attendances\nR001,5\nR002,8\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert ahead.take("sha256", path) is None


def test_failed_work_hands_over_nothing(tmp_path):
    ahead = FileAhead()
    path = _csv(tmp_path / "a.csv")

    def broken(_):
        raise OSError("disk gone")

    ahead.start("sha256", path, broken)
    assert ahead.take("sha256", path) is None
    assert not ahead.start("sha256", tmp_path / "missing.csv", file_sha256)


def test_another_file_takes_nothing(tmp_path):
    ahead = FileAhead()
    first, second = _csv(tmp_path / "a.csv"), _csv(tmp_path / "b.csv")
    ahead.start("encoding", first, file_encoding)
    assert ahead.take("encoding", second) is None


def test_the_taker_waits_for_work_still_running(tmp_path):
    ahead = FileAhead()
    path = _csv(tmp_path / "a.csv")
    release = threading.Event()

    def slow(found):
        release.wait(10)
        return "done"

    ahead.start("sha256", path, slow)
    threading.Timer(0.05, release.set).start()
    assert ahead.take("sha256", path) == "done"


def _manifest(tmp_path, name: str):
    return parse_manifest(
        f"sources:\n  - source_code: first\n    path: {name}\n    period: 2025-09\n",
        base_dir=tmp_path,
    )


def test_load_batch_fingerprints_and_decodes_its_first_csv_ahead(tmp_path):
    path = _csv(tmp_path / "activity.csv", "Org Code,Name\nR001,Caf\xe9\n", "cp1252")
    manifest = _manifest(tmp_path, "activity.csv")
    # Not loading: a load-batch would also type the CSV's table ahead (test_one_read_ahead).
    assert not read_first_file_ahead(manifest, loading=False)  # no sheet parsed
    assert set(AHEAD._pending) == {"sha256", "encoding"}
    fetched = fetch(str(path), cache_dir=tmp_path / "cache")
    assert fetched.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    table = open_table(str(path), cache_dir=tmp_path / "cache")
    assert AHEAD._pending == {}  # both taken
    assert table.encoding == "cp1252"
    rows = [row for batch in table.iter_batches() for row in batch]
    assert rows[0][:2] == ("R001", "Café")


def test_a_csv_changed_after_the_work_ahead_is_fingerprinted_as_it_is_now(tmp_path):
    path = _csv(tmp_path / "activity.csv")
    read_first_file_ahead(_manifest(tmp_path, "activity.csv"))
    AHEAD._pending["sha256"][1].result()
    _csv(path, "Org Code,Attendances\nR001,5\nR002,7\nR003,9000\n")
    fetched = fetch(str(path), cache_dir=tmp_path / "cache")
    assert fetched.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_workbook_first_is_fingerprinted_ahead_but_not_decoded(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Org Code", "Attendances"])
    book.active.append(["R001", 5])
    book.save(tmp_path / "activity.xlsx")
    assert read_first_file_ahead(_manifest(tmp_path, "activity.xlsx"))
    assert set(AHEAD._pending) == {"sha256"}


def test_an_xls_first_is_opened_ahead_and_read_as_without(nhs_samples, tmp_path):
    name = "rtt_provider_new_periods/New-Periods-Provider-Apr23.xls"
    path = nhs_samples / name
    expected = [
        row for batch in open_table(str(path), sheet="Provider").iter_batches() for row in batch
    ]
    manifest = parse_manifest(
        f"sources:\n  - source_code: first\n    path: {path}\n    period: 2023-04\n",
        base_dir=tmp_path,
    )
    assert not read_first_file_ahead(manifest)  # opened, no sheet parsed ahead
    assert set(AHEAD._pending) == {"sha256", "workbook"}
    table = open_table(str(path), sheet="Provider", cache_dir=tmp_path)
    assert "workbook" not in AHEAD._pending  # the reader took the opened book
    assert [row for batch in table.iter_batches() for row in batch] == expected


def test_a_large_sheet_has_pyarrow_imported_while_it_parses_unless_arrow_is_off(
    tmp_path, monkeypatch
):
    import openpyxl

    from datawarp.pipeline import read_ahead
    from datawarp.pipeline.extract import excel_reader, xlsx_extent

    book = openpyxl.Workbook()
    book.active.append(["Org Code", "Attendances"])
    book.save(tmp_path / "activity.xlsx")
    prepared = []
    monkeypatch.setattr(read_ahead, "prepare_arrow_pass", lambda: prepared.append(True))
    monkeypatch.setattr(xlsx_extent, "ARROW_SHEET_XML_BYTES", 0)  # any sheet is "large"
    manifest = _manifest(tmp_path, "activity.xlsx")
    assert read_first_file_ahead(manifest) and prepared == [True]
    excel_reader._LAST_PARSED.forget_other_files(None)
    monkeypatch.setenv("DATAWARP_NO_ARROW", "1")
    assert read_first_file_ahead(manifest) and prepared == [True]
    excel_reader._LAST_PARSED.forget_other_files(None)


def test_a_read_ahead_that_cannot_start_leaves_the_load_to_do_the_work(tmp_path, monkeypatch):
    path = _csv(tmp_path / "activity.csv")

    def no_threads(*_):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(AHEAD, "start", no_threads)
    assert not read_first_file_ahead(_manifest(tmp_path, "activity.csv"))
    fetched = fetch(str(path), cache_dir=tmp_path / "cache")
    assert fetched.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
