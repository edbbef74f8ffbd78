"""A first load of a plain CSV in one read: typed from the first block, checked at the end.

Every table here is compared, value by value as text, with the same file loaded by the
Python path (DATAWARP_NO_ARROW=1), which reads the file twice and is the reference. Blocks
are made small (4 KiB) so that the first block is a small part of each file and whatever
comes later can prove the first block's types wrong.
"""

from __future__ import annotations

import pytest

from datawarp.pipeline import steps
from datawarp.pipeline.extract import arrow_csv, arrow_stream, one_pass
from datawarp.pipeline.extract.arrow_one_pass import OnePass
from datawarp.pipeline.extract.env_limits import NO_ARROW_ENV
from datawarp.pipeline.fetch import FetchedFile
from tests.pipeline.helpers import events, register, run, write_manifest
from tests.pipeline.test_load_arrow import _table_text
from tests.pipeline.test_row_defaults import TableRef

LOAD_BLOCK_BYTES = arrow_stream.BLOCK_BYTES  # before the tests' small blocks replace it
HEADER = "Period,Org Code,Org Name,Attendances,Rate,Seen on\n"
ROWS = 400  # about 14 KB: the first 4 KiB block holds a quarter of them


def _row(n: int, attendances: object = None) -> str:
    value = 100 + n % 900 if attendances is None else attendances
    return f"2025-09,R{n:04d},Trust {n},{value},{n % 97}.5,{1 + n % 28:02d}/09/2025\n"


def _file(tmp_path, name: str, last_rows: str = "") -> str:
    body = "".join(_row(n) for n in range(ROWS))
    (tmp_path / name).write_text(HEADER + body + last_rows, encoding="utf-8")
    return name


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(arrow_stream, "BLOCK_BYTES", 4096)


@pytest.fixture
def reads(monkeypatch):
    """Counts the one reads and the pass 2 reads (the file read again) of the loads."""
    counted = {"one read": 0, "pass 2": 0}
    one_read, pass_2 = OnePass.typed_batches, arrow_csv.typed_batches

    def counting_one_read(self, *args, **kwargs):
        counted["one read"] += 1
        return one_read(self, *args, **kwargs)

    def counting_pass_2(*args, **kwargs):
        counted["pass 2"] += 1
        return pass_2(*args, **kwargs)

    monkeypatch.setattr(OnePass, "typed_batches", counting_one_read)
    monkeypatch.setattr(arrow_csv, "typed_batches", counting_pass_2)
    return counted


def _load(conn, db_url, tmp_path, code: str, name: str, monkeypatch, *, python=False, **source):
    register(conn, code, **source)
    conn.commit()
    with monkeypatch.context() as patch:
        if python:
            patch.setenv(NO_ARROW_ENV, "1")
        manifest = write_manifest(tmp_path, [{"source_code": code, "path": name}], period="2025-09")
        report, _ = run(db_url, tmp_path / "home", manifest, test=True)
    assert [o.status for o in report.outcomes] == ["completed"], report.outcomes
    table = _table_text(conn, TableRef("staging_test", f"tbl_{code}"),
                        exclude=("_loaded_at", "_load_id"))  # fmt: skip
    types = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'staging_test' AND table_name = %s ORDER BY ordinal_position",
        (f"tbl_{code}",),
    ).fetchall()
    conn.commit()  # no lock on the table held against a later load's DDL
    return table, types, report.outcomes[0]


def _against_python_path(conn, db_url, tmp_path, name, monkeypatch, suffix=""):
    fast = _load(conn, db_url, tmp_path, f"one_read{suffix}", name, monkeypatch)
    python = _load(conn, db_url, tmp_path, f"two_reads{suffix}", name, monkeypatch, python=True)
    assert fast[:2] == python[:2]
    assert fast[2].rows_loaded == python[2].rows_loaded == len(fast[0]) - 1
    return fast


def test_a_file_typed_alike_throughout_is_read_once(conn, db_url, tmp_path, monkeypatch, reads):
    name = _file(tmp_path, "plain.csv")
    table, types, outcome = _against_python_path(conn, db_url, tmp_path, name, monkeypatch)
    assert reads == {"one read": 1, "pass 2": 0}
    assert dict(types)["attendances"] == "smallint" and dict(types)["seen_on"] == "date"
    assert outcome.columns_added == 6 and len(table) == ROWS + 1
    assert [event["rows_loaded"] for event in events(conn, "one_read")] == [ROWS]


@pytest.mark.parametrize(
    ("last_rows", "column", "settled_type"),
    [
        (_row(ROWS, 70000), "attendances", "integer"),  # wider than the first block's smallint
        (_row(ROWS, "closed"), "attendances", "text"),  # words where numbers were
        (_row(ROWS, "<5"), "attendances_original", "text"),  # censored: a companion column
        (_row(ROWS, "12.25"), "attendances", "numeric"),  # a fraction
    ],
    ids=["wider", "words", "censored", "fraction"],
)
def test_a_file_the_first_block_types_wrong_loads_as_the_whole_file_types_it(
    conn, db_url, tmp_path, monkeypatch, reads, last_rows, column, settled_type
):
    name = _file(tmp_path, "late.csv", last_rows)
    _, types, _ = _against_python_path(conn, db_url, tmp_path, name, monkeypatch)
    assert dict(types)[column] == settled_type
    assert reads == {"one read": 1, "pass 2": 1}  # the rows sent on the guess were undone
    tables = conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'staging_test'"
    ).fetchone()
    assert tables == (2,)


def test_a_surprise_in_the_middle_of_a_file_still_has_pass_1_read_it_all(
    conn, db_url, tmp_path, monkeypatch, reads
):
    """The batches after the one that missed the guess are still profiled: pass 1's findings
    cover every row, and pass 2 finds as many rows as pass 1 did."""
    middle = ROWS // 2
    body = "".join(_row(n, 70000 if n == middle else None) for n in range(ROWS))
    (tmp_path / "middle.csv").write_text(HEADER + body, encoding="utf-8")
    table, types, _ = _against_python_path(conn, db_url, tmp_path, "middle.csv", monkeypatch)
    assert dict(types)["attendances"] == "integer" and len(table) == ROWS + 1
    assert reads == {"one read": 1, "pass 2": 1}


def test_a_totals_row_late_in_the_file_is_flagged(conn, db_url, tmp_path, monkeypatch, reads):
    name = _file(tmp_path, "totals.csv", "2025-09,-,England,99999,50.5,01/09/2025\n")
    table, _, _ = _against_python_path(conn, db_url, tmp_path, name, monkeypatch)
    by_name = dict(zip(table[0], zip(*table[1:], strict=True), strict=True))
    flags = dict(zip(by_name["org_code"], by_name["_is_total"], strict=True))
    assert flags.pop("-") == "true" and set(flags.values()) == {"false"}
    assert reads == {"one read": 1, "pass 2": 1}


def test_totals_rows_and_levels_the_first_block_has_are_flagged_in_one_read(
    conn, db_url, tmp_path, monkeypatch, reads
):
    england = "2025-09,-,England,99999,50.5,01/09/2025\n"
    body = "".join(_row(n) for n in range(ROWS))
    (tmp_path / "levels.csv").write_text(HEADER + england + body + england, encoding="utf-8")
    table, _, outcome = _against_python_path(conn, db_url, tmp_path, "levels.csv", monkeypatch)
    by_name = dict(zip(table[0], zip(*table[1:], strict=True), strict=True))
    flagged = {row for row, flag in zip(by_name["_row_number"], by_name["_is_total"],
                                        strict=True) if flag == "true"}  # fmt: skip
    assert flagged == {"2", str(ROWS + 3)}  # the England rows, first and last
    assert set(by_name["_level"]) == {"national", "organisation"}
    assert reads == {"one read": 1, "pass 2": 0}


def test_genuine_csv_files_load_in_one_read_as_the_python_path_loads_them(
    conn, db_url, tmp_path, monkeypatch, reads, nhs_samples
):
    monkeypatch.setattr(arrow_stream, "BLOCK_BYTES", LOAD_BLOCK_BYTES)  # as loads read them
    files = sorted([*nhs_samples.glob("**/*.csv"), *nhs_samples.glob("**/*.csv.zip")])
    assert len(files) >= 9
    for number, path in enumerate(files):
        _against_python_path(conn, db_url, tmp_path, str(path), monkeypatch, f"_{number}")
    assert reads == {"one read": len(files), "pass 2": 0}


@pytest.mark.parametrize("late", ["\n", "Notes: figures are provisional\n"], ids=["blank", "notes"])
def test_a_late_line_the_fast_path_cannot_read_takes_the_python_path(
    conn, db_url, tmp_path, monkeypatch, reads, late
):
    name = _file(tmp_path, "ending.csv", late)
    _against_python_path(conn, db_url, tmp_path, name, monkeypatch)
    assert reads == {"one read": 1, "pass 2": 0}  # given up part way: the Python path read it


def test_a_file_that_fits_an_existing_table_is_read_once(
    conn, db_url, tmp_path, monkeypatch, reads
):
    first = _file(tmp_path, "first.csv")
    _load(conn, db_url, tmp_path, "again", first, monkeypatch)
    manifest = write_manifest(tmp_path, [{"source_code": "again", "path": first}], period="2025-10")
    report, _ = run(db_url, tmp_path / "home", manifest, test=True)
    assert [o.status for o in report.outcomes] == ["completed"], report.outcomes
    assert reads == {"one read": 2, "pass 2": 0}
    periods = conn.execute(
        "SELECT _period, count(*), min(_row_number), max(_row_number)"
        " FROM staging_test.tbl_again GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert periods == [("2025-09", ROWS, 2, ROWS + 1), ("2025-10", ROWS, 2, ROWS + 1)]


def test_a_file_with_a_new_column_for_an_existing_table_takes_the_usual_path(
    conn, db_url, tmp_path, monkeypatch, reads
):
    _load(conn, db_url, tmp_path, "grows", _file(tmp_path, "first.csv"), monkeypatch)
    wider = "".join(f"{_row(n).rstrip()},{n}\n" for n in range(ROWS))
    (tmp_path / "wider.csv").write_text(HEADER.rstrip() + ",Beds\n" + wider, encoding="utf-8")
    manifest = write_manifest(tmp_path, [{"source_code": "grows", "path": "wider.csv"}],
                              period="2025-10")  # fmt: skip
    report, _ = run(db_url, tmp_path / "home", manifest, test=True)
    assert [o.status for o in report.outcomes] == ["completed"], report.outcomes
    assert report.outcomes[0].columns_added == 1
    assert reads == {"one read": 1, "pass 2": 1}
    beds = conn.execute("SELECT count(beds) FROM staging_test.tbl_grows").fetchone()
    assert beds == (ROWS,)


def test_a_replacement_the_first_block_types_wrong_replaces_once(
    conn, db_url, tmp_path, monkeypatch, reads
):
    """The deletions made in the savepoint come back with it; the usual path then widens the
    column and replaces the period."""
    first = _file(tmp_path, "first.csv")
    _load(conn, db_url, tmp_path, "replaced", first, monkeypatch, load_mode="REPLACE")
    late = _file(tmp_path, "late.csv", _row(ROWS, 70000))
    manifest = write_manifest(tmp_path, [{"source_code": "replaced", "path": late}],
                              period="2025-09")  # fmt: skip
    report, _ = run(db_url, tmp_path / "home", manifest, test=True)
    assert [o.status for o in report.outcomes] == ["completed"], report.outcomes
    assert report.outcomes[0].rows_replaced == ROWS
    assert reads == {"one read": 2, "pass 2": 1}
    found = conn.execute(
        "SELECT count(*), max(attendances), count(DISTINCT _load_id) FROM staging_test.tbl_replaced"
    ).fetchone()
    assert found == (ROWS + 1, 70000, 1)


def test_a_failure_after_the_one_read_leaves_nothing(conn, db_url, tmp_path, monkeypatch):
    name = _file(tmp_path, "plain.csv")

    def failing(*args, **kwargs):
        raise RuntimeError("the server went away")

    monkeypatch.setattr(steps, "record_column_metadata", failing)
    register(conn, "fails")
    conn.commit()
    manifest = write_manifest(tmp_path, [{"source_code": "fails", "path": name}], period="2025-09")
    report, _ = run(db_url, tmp_path / "home", manifest)
    assert [o.status for o in report.outcomes] == ["failed"]
    exists = conn.execute("SELECT to_regclass('staging.tbl_fails') IS NOT NULL").fetchone()
    assert exists == (False,)


def test_a_workbook_or_an_archived_one_is_left_to_the_usual_path_unopened(tmp_path, monkeypatch):
    """Opening one would take what was read ahead for it (an .xls opened, a sheet parsed) or
    copy a member out, for the usual path to do again; a ZIP's CSV member is read once."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Org Code", "Attendances"])
    book.active.append(["R01", 12])
    book.save(tmp_path / "book.xlsx")
    with zipfile.ZipFile(tmp_path / "files.zip", "w") as archive:
        archive.write(tmp_path / "book.xlsx", "book.xlsx")
        archive.writestr("a.csv", "Org Code,Attendances\nR01,12\nR02,13\n")

    def fetched(name):
        return FetchedFile(tmp_path / name, "0" * 64, 1, name)

    text = one_pass.open_provisional(fetched("files.zip"), member="a.csv")
    assert text.table.member == "a.csv" and text.table.column_names == ["org_code", "attendances"]

    def opening(*args, **kwargs):
        raise AssertionError("opened")

    monkeypatch.setattr(one_pass, "open_workbook", opening)
    assert one_pass.open_provisional(fetched("book.xlsx")) is None
    assert one_pass.open_provisional(fetched("files.zip"), member="book.xlsx") is None


def test_a_zipped_csv_loads_in_one_read_as_the_python_path_loads_it(
    conn, db_url, tmp_path, monkeypatch, reads
):
    import zipfile

    name = _file(tmp_path, "plain.csv", "2025-09,-,England,99999,50.5,01/09/2025\n")
    with zipfile.ZipFile(tmp_path / "plain.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(tmp_path / name, name)
    table, _, _ = _against_python_path(conn, db_url, tmp_path, "plain.zip", monkeypatch)
    assert len(table) == ROWS + 2
    assert reads == {"one read": 1, "pass 2": 1}  # the totals row at its end, unseen: undone


@pytest.mark.parametrize(
    ("last_rows", "column", "settled_type"),
    [
        ("2025-09,-,England,99999,50.5,01/09/2025\n", "attendances", "integer"),
        (_row(ROWS, 70000), "attendances", "integer"),
    ],
    ids=["totals", "wider"],
)
def test_what_the_end_of_a_file_says_is_known_before_its_rows_are_sent(
    conn, db_url, tmp_path, monkeypatch, reads, last_rows, column, settled_type
):
    monkeypatch.setattr(arrow_stream, "TAIL_BYTES", 1024)  # the file's last 1 KiB
    name = _file(tmp_path, "ending.csv", last_rows)
    _, types, _ = _against_python_path(conn, db_url, tmp_path, name, monkeypatch)
    assert dict(types)[column] == settled_type
    assert reads == {"one read": 1, "pass 2": 0}  # guessed from both ends, and right


def test_notes_at_the_end_of_a_file_take_the_python_path_before_any_row_is_sent(
    conn, db_url, tmp_path, monkeypatch, reads
):
    monkeypatch.setattr(arrow_stream, "TAIL_BYTES", 1024)
    name = _file(tmp_path, "notes.csv", "\nNotes: figures are provisional\n")
    _against_python_path(conn, db_url, tmp_path, name, monkeypatch)
    assert reads == {"one read": 0, "pass 2": 0}


def test_the_last_records_of_a_file(tmp_path):
    """Whole records from the first line break in the file's last bytes; None where there are
    none to read; ArrowFallback where they are not records of the file's width."""
    body = "".join(f"R{n:04d},Trust {n},{n}\n" for n in range(400))
    path = tmp_path / "plain.csv"
    path.write_text("Code,Name,Count\n" + body, encoding="cp1252")
    source = arrow_stream.ArrowSource(path, None, "cp1252", ",", 3)
    last = source.last_records(200)
    assert last.column(0).to_pylist()[-1] == "R0399"
    assert last.num_rows == len(body.encode()[-200:].split(b"\n", 1)[1].splitlines())
    assert source.last_records(len(body)) is None  # no longer than a block and the tail
    quoted = tmp_path / "quoted.csv"
    quoted.write_text("Code,Name,Count\n" + body + 'R9999,"a note\nover, two, three",1\n')
    with pytest.raises(arrow_stream.ArrowFallback, match="last lines"):  # 'over, two, ...'
        arrow_stream.ArrowSource(quoted, None, "utf-8", ",", 3).last_records(25)


@pytest.mark.parametrize(
    "text",
    [
        "Attendances by provider, September 2025\n\n" + HEADER,  # a title above the header
        HEADER.replace("Org Code", ""),  # a header field missing: not a plain layout
    ],
    ids=["titled", "not-plain"],
)
def test_a_csv_the_attempt_gives_up_on_has_its_encoding_worked_out_no_more_often(
    conn, db_url, tmp_path, monkeypatch, reads, text
):
    """The usual path opens the file again; what the attempt found of its encoding (a scan
    of the whole file) is handed to it: as many scans as the usual path alone makes."""
    from datawarp.pipeline import one_read
    from datawarp.pipeline.extract import csv_reader

    scans = []
    detect = csv_reader.detect_encoding

    def counting(*args, **kwargs):
        scans.append(args)
        return detect(*args, **kwargs)

    monkeypatch.setattr(csv_reader, "detect_encoding", counting)
    (tmp_path / "titled.csv").write_text(text + "".join(_row(n) for n in range(ROWS)))
    counts = []
    for code in ("usual", "attempted"):
        register(conn, code)
        conn.commit()
        manifest = write_manifest(tmp_path, [{"source_code": code, "path": "titled.csv"}],
                                  period="2025-09")  # fmt: skip
        with monkeypatch.context() as patch:
            if code == "usual":
                patch.setattr(one_read, "open_provisional", lambda *a, **k: None)
            report, _ = run(db_url, tmp_path / "home", manifest, test=True)
        assert [o.status for o in report.outcomes] == ["completed"], report.outcomes
        counts.append(len(scans))
    assert reads["one read"] == 0 and counts[1] - counts[0] == counts[0]
