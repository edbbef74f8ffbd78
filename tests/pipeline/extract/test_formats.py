"""sniff() and open_workbook(): formats recognised by content, raw rows with true positions."""

from __future__ import annotations

import datetime as dt
import os
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.pipeline.extract.csv_reader import SCAN_CHUNK_BYTES
from datawarp.pipeline.extract.formats import (
    SheetInfo,
    Workbook,
    list_members,
    open_workbook,
    sniff,
)

# --- builders ----------------------------------------------------------------------------


def build_xlsx(path: Path) -> Path:
    """Sheet 'Data' with a title at C3 and a block from C5; a hidden and a very hidden sheet."""
    book = openpyxl.Workbook()
    data = book.active
    data.title = "Data"
    data["C3"] = "Title: A&E attendances"
    data.append([])  # row 4 stays blank
    for row in (
        ["Period", "Org", "Count", "Ok"],
        [dt.datetime(2024, 1, 1), "RBD", 42, True],
        [dt.datetime(2024, 2, 1, 9, 30), "", 3.5, False],
    ):
        data.append([None, None, *row])
    data["H20"] = "Source: NHS England"
    book.create_sheet("Hidden notes").sheet_state = "hidden"
    book.create_sheet("Lookup").sheet_state = "veryHidden"
    book.create_sheet("Empty")
    book.save(path)
    return path


def write_ods(path: Path, sheets: dict[str, tuple[bool, list[list[object]]]]) -> Path:
    """A minimal OpenDocument spreadsheet: mimetype, content.xml and a manifest."""

    def cell(value: object) -> str:
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, int | float):
            typed = f'office:value-type="float" office:value="{value}"'
        elif isinstance(value, dt.date):
            typed = f'office:value-type="date" office:date-value="{value.isoformat()}"'
        else:
            typed = 'office:value-type="string"'
        return f"<table:table-cell {typed}><text:p>{value}</text:p></table:table-cell>"

    hidden_style = ' table:style-name="hidden"'
    tables = "".join(
        f'<table:table table:name="{name}"{hidden_style if hidden else ""}>'
        + "".join(
            "<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
            for row in rows
        )
        + "</table:table>"
        for name, (hidden, rows) in sheets.items()
    )
    namespaces = " ".join(
        f'xmlns:{prefix}="urn:oasis:names:tc:opendocument:xmlns:{prefix}:1.0"'
        for prefix in ("office", "style", "table", "text")
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {namespaces} '
        'office:version="1.2"><office:automatic-styles><style:style style:name="hidden" '
        'style:family="table"><style:table-properties table:display="false"/></style:style>'
        f"</office:automatic-styles><office:body><office:spreadsheet>{tables}"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def build_zip(path: Path, members: dict[str, bytes], folders: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            archive.writestr(zipfile.ZipInfo(folder), b"")
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def rows_of(book: Workbook, sheet: str | None = None) -> list[tuple[int, list[object]]]:
    return list(book.iter_rows(sheet or book.sheets[0].name))


def read_csv(path: Path, display_name: str | None = None) -> tuple[Workbook, list]:
    book = open_workbook(path, display_name=display_name or path.name)
    return book, rows_of(book)


def assert_refused(error_type: type[Exception], path: Path, *fragments: str, **options) -> None:
    with pytest.raises(error_type) as error:
        open_workbook(path, display_name=options.pop("display_name", path.name), **options)
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# --- sniffing ----------------------------------------------------------------------------


def test_sniff_recognises_content_whatever_the_name(tmp_path: Path) -> None:
    xlsx = build_xlsx(tmp_path / "blob")
    ods = write_ods(tmp_path / "ods.xlsx", {"S": (False, [[1]])})
    archive = build_zip(tmp_path / "pack.xlsx", {"a.csv": b"a,b\n"})
    text = tmp_path / "data.xls"
    text.write_bytes(b"a,b\n1,2\n")
    xlsb = build_zip(tmp_path / "b.zip", {"[Content_Types].xml": b"<x/>", "xl/workbook.bin": b""})
    found = [sniff(p, p.name) for p in (xlsx, ods, archive, text, xlsb)]
    assert found == ["xlsx", "ods", "zip", "csv", "xlsb"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty (0 bytes)"),
        (b"<!DOCTYPE html>\n<html><body>Page not found</body></html>", "is an HTML page"),
        (b"\xef\xbb\xbf  \r\n<HTML lang='en'><table>", "is an HTML page"),
        (b"<table><tr><td>1</td></tr></table>", "is an HTML page"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "is a PDF document, not a spreadsheet"),
        (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "Excel 2003 XML spreadsheet",
        ),
        (bytes(range(256)) * 8, "is binary data"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "gzip-compressed"),
    ],
)
def test_sniff_refuses_non_spreadsheets(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "Monthly AE.xlsx"
    path.write_bytes(content)
    with pytest.raises(BadInputError) as error:
        sniff(path, "Monthly AE.xlsx")
    assert str(error.value).startswith("Monthly AE.xlsx ")
    assert expected in str(error.value)


def test_truncated_xlsx_is_reported(tmp_path: Path) -> None:
    whole = build_xlsx(tmp_path / "whole.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    assert_refused(BadInputError, cut, "cut.xlsx is truncated or corrupt (")


def test_word_document_is_named(tmp_path: Path) -> None:
    docx = build_zip(
        tmp_path / "a.xlsx", {"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}
    )
    assert_refused(BadInputError, docx, "is a Word document")


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    assert_refused(NotFoundError, tmp_path / "nope.csv", "File not found: nope.csv")


# --- Excel and OpenDocument --------------------------------------------------------------


def test_xlsx_sheets_report_hidden_states(tmp_path: Path) -> None:
    with open_workbook(build_xlsx(tmp_path / "b.xlsx"), display_name="b.xlsx") as book:
        assert book.kind == "xlsx"
        assert book.member is None and book.encoding is None and book.delimiter is None
        assert book.sheets == [
            SheetInfo("Data", 0, False),
            SheetInfo("Hidden notes", 1, True),
            SheetInfo("Lookup", 2, True),
            SheetInfo("Empty", 3, False),
        ]


def test_xlsx_rows_keep_sheet_positions(tmp_path: Path) -> None:
    with open_workbook(build_xlsx(tmp_path / "b.xlsx"), display_name="b.xlsx") as book:
        rows = dict(rows_of(book, "Data"))
    assert rows[1] == rows[2] == rows[4] == []
    assert rows[3] == [None, None, "Title: A&E attendances"]
    assert rows[5] == [None, None, "Period", "Org", "Count", "Ok"]
    assert rows[6] == [None, None, dt.date(2024, 1, 1), "RBD", 42.0, True]
    assert rows[7] == [None, None, dt.datetime(2024, 2, 1, 9, 30), None, 3.5, False]
    assert rows[20] == [None] * 7 + ["Source: NHS England"]
    assert max(rows) == 20 and len(rows) == 20


def test_rows_can_be_read_twice_and_empty_sheet_has_none(tmp_path: Path) -> None:
    with open_workbook(build_xlsx(tmp_path / "b.xlsx"), display_name="b.xlsx") as book:
        assert rows_of(book, "Data") == rows_of(book, "Data")
        assert rows_of(book, "Empty") == []


def test_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    with open_workbook(build_xlsx(tmp_path / "b.xlsx"), display_name="b.xlsx") as book:
        with pytest.raises(NotFoundError) as error:
            book.iter_rows("Summary")
        assert str(error.value) == (
            "Sheet 'Summary' not found in b.xlsx; sheets: 'Data', 'Hidden notes', 'Lookup', 'Empty'"
        )
        assert rows_of(book, " data ") == rows_of(book, "Data")  # unique loose match


@pytest.mark.parametrize("name", ["0a1b2c3d", "wrongly named.xls", "report.csv", "macro.xlsm"])
def test_workbook_opens_whatever_its_extension(tmp_path: Path, name: str) -> None:
    path = build_xlsx(tmp_path / name)
    with open_workbook(path, display_name=name) as book:
        assert book.kind == "xlsx"
        assert rows_of(book, "Data")[2][1][2] == "Title: A&E attendances"


def test_close_removes_the_alias_and_is_idempotent(tmp_path: Path) -> None:
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("datawarp-book-*"))
    book = open_workbook(build_xlsx(tmp_path / "blob"), display_name="blob")
    book.close()
    book.close()
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("datawarp-book-*")) == before


def test_corrupt_sheet_xml_is_reported(tmp_path: Path) -> None:
    source = build_xlsx(tmp_path / "good.xlsx")
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            copy.writestr(info, data)
    with open_workbook(broken, display_name="broken.xlsx") as book:
        with pytest.raises(BadInputError) as error:
            rows_of(book, "Data")
    assert str(error.value).startswith("broken.xlsx is truncated or corrupt (")


def test_ods_is_read_with_hidden_sheets(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "beds.ods",
        {
            "Beds": (
                False,
                [["Org", "Beds", "Date"], ["RBD", 12, dt.date(2024, 1, 2)], [None, 1.5]],
            ),
            "Workings": (True, [["x"]]),
        },
    )
    with open_workbook(path, display_name="beds.ods") as book:
        assert book.kind == "ods"
        assert book.sheets == [SheetInfo("Beds", 0, False), SheetInfo("Workings", 1, True)]
        assert rows_of(book, "Beds") == [
            (1, ["Org", "Beds", "Date"]),
            (2, ["RBD", 12.0, dt.date(2024, 1, 2)]),
            (3, [None, 1.5]),
        ]


# --- CSV: encodings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        ("Org,Name\r\nRBD,Dorset £5 café\r\n".encode("utf-8-sig"), "utf-8-sig"),
        ("Org,Name\nRBD,Dorset £5 café\n".encode(), "utf-8"),
        ("Org,Name\nRBD,Dorset £5 café\n".encode("cp1252"), "cp1252"),
        ("Org\tName\r\nRBD\tDorset £5 café\r\n".encode("utf-16"), "utf-16"),
    ],
)
def test_csv_encodings(tmp_path: Path, encoded: bytes, encoding: str) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes(encoded)
    book, rows = read_csv(path)
    assert (book.encoding, book.kind) == (encoding, "csv")
    assert rows == [(1, ["Org", "Name"]), (2, ["RBD", "Dorset £5 café"])]


def test_cp1252_byte_far_into_the_file_is_decoded_right(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    filler = b"RBD,plain ascii text for padding\n" * (3 * SCAN_CHUNK_BYTES // 33)
    path.write_bytes(b"Org,Note\n" + filler + "RBD,costs £5 – approx\n".encode("cp1252"))
    book, rows = read_csv(path)
    assert book.encoding == "cp1252"
    assert rows[-1][1] == ["RBD", "costs £5 – approx"]


def test_utf8_character_split_across_scan_chunks_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    lines = b"Org,Note\n" + b"RBD,padding\n" * (SCAN_CHUNK_BYTES // 12 - 1)
    last_line_start = lines + b"RBE,"
    last_line_start += b"y" * (SCAN_CHUNK_BYTES - 1 - len(last_line_start))
    payload = last_line_start + "é\n".encode()
    assert payload[SCAN_CHUNK_BYTES - 1 : SCAN_CHUNK_BYTES + 1] == "é".encode()  # straddles
    path.write_bytes(payload)
    book, rows = read_csv(path)
    assert book.encoding == "utf-8"
    assert rows[-1][1][1].endswith("yé")


def test_cp1252_byte_ending_a_scan_chunk_is_not_taken_for_utf8(tmp_path: Path) -> None:
    path = tmp_path / "edge.csv"
    lines = b"Org,Note\n" + b"RBD,padding\n" * (SCAN_CHUNK_BYTES // 12 - 1)
    first_chunk = lines + b"RBE," + b"y" * (SCAN_CHUNK_BYTES - 5 - len(lines)) + b"\xe9"
    assert len(first_chunk) == SCAN_CHUNK_BYTES  # a UTF-8 lead byte, then plain ASCII
    path.write_bytes(first_chunk + b"\nRBF,ok\n")
    book, rows = read_csv(path)
    assert book.encoding == "cp1252"
    assert rows[-2][1][1].endswith("yé")


def test_stray_cp1252_byte_in_utf8_file_decodes_without_mojibake(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("Org,Name\nRBD,Café\n".encode() + b"RBE,\xa35 fee\n")
    book, rows = read_csv(path)
    assert book.encoding == "utf-8"
    assert [cells for _, cells in rows][1:] == [["RBD", "Café"], ["RBE", "£5 fee"]]


def test_bytes_undefined_in_cp1252_do_not_stop_the_load(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"Org,Name\nRBD,caf\xe9\x81\n")
    book, rows = read_csv(path)
    assert book.encoding == "cp1252"
    assert rows[1][1] == ["RBD", "café\x81"]


# --- CSV: dialect, rows and line numbers -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a\tb\tc\n1\t2,5\t3\n", "\t"),
        ("Org;Rate;Note\nRBD;1,5;x\nRBE;2,25;y\n", ";"),
        ("Org|Rate\nRBD|1\n", "|"),
        ('Org,Note\nRBD,"a;b;c"\nRBE,"d;e;f"\n', ","),
        ('"Org","Note, with comma"\n"RBD","x|y"\n', ","),
        ("only one column\nvalue\n", ","),
        # semicolons on every line, but only commas beside the quotes
        ('Org,Note; a; b; c,"Name"\nRBD,x; y; z; q,"Trust"\nRBE,u; v; w; t,"Board"\n', ","),
        ('Org;"Rate"\nRBD;"1,5"\nRBE;"2,25"\n', ";"),
    ],
)
def test_delimiter_detection(tmp_path: Path, text: str, delimiter: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    book, _ = read_csv(path)
    assert book.delimiter == delimiter


def test_crlf_and_lf_read_the_same(tmp_path: Path) -> None:
    text = 'Org,Note,Count\n"RBD","two\nlines, quoted",5\n\nRBE,,7\n'
    lf, crlf = tmp_path / "lf.csv", tmp_path / "crlf.csv"
    lf.write_bytes(text.encode())
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    _, lf_rows = read_csv(lf)
    _, crlf_rows = read_csv(crlf)
    assert [
        (n, [c.replace("\r\n", "\n") if c else c for c in cells]) for n, cells in crlf_rows
    ] == lf_rows
    assert lf_rows == [
        (1, ["Org", "Note", "Count"]),
        (2, ["RBD", "two\nlines, quoted", "5"]),
        (4, []),
        (5, ["RBE", None, "7"]),
    ]


def test_ragged_rows_pass_through_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('a,b,c\n1,2,\n3,4,5,6\n"",x\nSource: NHS England\n', encoding="utf-8")
    _, rows = read_csv(path)
    assert [cells for _, cells in rows] == [
        ["a", "b", "c"],
        ["1", "2", None],
        ["3", "4", "5", "6"],
        [None, "x"],
        ["Source: NHS England"],
    ]


def test_csv_sheet_is_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("a,b\n", encoding="utf-8")
    with open_workbook(path, display_name="Monthly AE Sept.csv") as book:
        assert book.sheets == [SheetInfo("Monthly AE Sept", 0, False)]
        with pytest.raises(NotFoundError) as error:
            book.iter_rows("Sheet1")
    assert str(error.value) == (
        "Sheet 'Sheet1' not found in Monthly AE Sept.csv; sheets: 'Monthly AE Sept'"
    )


def test_quote_left_open_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text('a,b\n1,2\n3,"never closed\n' + "x,y\n" * 40_000, encoding="utf-8")
    book = open_workbook(path, display_name="open.csv")
    with pytest.raises(BadInputError) as error:
        rows_of(book)
    assert str(error.value).startswith("open.csv line 3: a quote opened in this record is never")


def test_large_csv_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = "RBD,2024-01,Dorset County Hospital NHS Foundation Trust,123,456,78.9\n"
    with open(path, "w", encoding="utf-8") as out:
        out.write("Org,Period,Name,A,B,C\n")
        for _ in range(200):
            out.write(line * 1000)
        out.write("RBE,2024-01,Caf\xe9,1,2,3\n")  # one non-ASCII line at the end
    size = path.stat().st_size
    tracemalloc.start()
    try:
        book = open_workbook(path, display_name="big.csv")
        count = sum(1 for _ in book.iter_rows("big"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 200_002
    assert peak < min(size // 3, 6 * 1024**2), f"peak {peak:,} bytes for a {size:,}-byte file"


# --- ZIP archives ------------------------------------------------------------------------


def test_zip_with_macos_junk_needs_no_member(tmp_path: Path) -> None:
    path = build_zip(
        tmp_path / "Key Facts.csv.zip",
        {
            "Key Facts.csv": b"Org,Value\r\nRBD,67.30%\r\n",
            "__MACOSX/._Key Facts.csv": b"\x00\x05\x16\x07junk",
            ".DS_Store": b"\x00\x00\x00\x01Bud1",
        },
        folders=("__MACOSX/",),
    )
    assert list_members(path, path.name) == ["Key Facts.csv"]
    with open_workbook(path, display_name=path.name) as book:
        assert (book.kind, book.member) == ("csv", "Key Facts.csv")
        assert book.display_name == "Key Facts.csv.zip!Key Facts.csv"
        assert book.sheet_names == ["Key Facts"]
        assert rows_of(book) == [(1, ["Org", "Value"]), (2, ["RBD", "67.30%"])]


def test_zip_picks_the_only_tabular_member(tmp_path: Path) -> None:
    path = build_zip(tmp_path / "pack.zip", {"guide.pdf": b"%PDF-1.4", "data/rtt.csv": b"a,b\n"})
    with open_workbook(path, display_name="pack.zip") as book:
        assert book.member == "data/rtt.csv"


def test_zip_with_several_candidates_needs_a_member(tmp_path: Path) -> None:
    path = build_zip(tmp_path / "pack.zip", {"2023/a.csv": b"a\n", "2024/a.csv": b"a\n"})
    assert_refused(
        BadInputError, path, "pack.zip holds several files", "'2023/a.csv', '2024/a.csv'"
    )


@pytest.mark.parametrize(
    ("member", "chosen"),
    [("2024/a.csv", "2024/a.csv"), ("2024/*", "2024/a.csv"), ("B*.CSV", "2024/b.csv")],
)
def test_zip_member_by_name_or_glob(tmp_path: Path, member: str, chosen: str) -> None:
    path = build_zip(
        tmp_path / "p.zip", {"2023/a.csv": b"a\n", "2024/a.csv": b"b\n", "2024/b.csv": b"c\n"}
    )
    if member == "2024/*":
        assert_refused(BadInputError, path, "matches several files in p.zip", member=member)
        return
    with open_workbook(path, display_name="p.zip", member=member) as book:
        assert book.member == chosen
        assert book.display_name == f"p.zip!{chosen}"


def test_missing_member_lists_the_members(tmp_path: Path) -> None:
    path = build_zip(tmp_path / "p.zip", {"a.csv": b"a\n", "__MACOSX/._a.csv": b"x"})
    assert_refused(
        NotFoundError, path, "Member 'b.csv' not found in p.zip; members: 'a.csv'", member="b.csv"
    )


def test_member_of_a_file_that_is_no_zip(tmp_path: Path) -> None:
    path = build_xlsx(tmp_path / "b.xlsx")
    assert_refused(BadInputError, path, "b.xlsx is not a ZIP archive (it is xlsx)", member="x.csv")


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"__MACOSX/._a.csv": b"x"}, "holds no files"),
        ({"page.csv": b"<!DOCTYPE html><html>"}, "z.zip!page.csv is an HTML page"),
        ({"empty.csv": b""}, "z.zip!empty.csv is empty (0 bytes)"),
        ({"inner.zip": b"PK\x05\x06" + b"\x00" * 18}, "z.zip!inner.zip is itself a ZIP archive"),
    ],
)
def test_unusable_zip_members(tmp_path: Path, members: dict[str, bytes], expected: str) -> None:
    assert_refused(BadInputError, build_zip(tmp_path / "z.zip", members), expected)


def test_excel_and_ods_members_are_opened(tmp_path: Path) -> None:
    xlsx_bytes = build_xlsx(tmp_path / "b.xlsx").read_bytes()
    ods_bytes = write_ods(tmp_path / "c.ods", {"S": (False, [["x", 1]])}).read_bytes()
    path = build_zip(tmp_path / "books.zip", {"b.xlsx": xlsx_bytes, "c.ods": ods_bytes})
    with open_workbook(path, display_name="books.zip", member="*.xlsx") as book:
        assert (book.kind, book.display_name) == ("xlsx", "books.zip!b.xlsx")
        assert rows_of(book, "Data")[2] == (3, [None, None, "Title: A&E attendances"])
    with open_workbook(path, display_name="books.zip", member="c.ods") as book:
        assert rows_of(book, "S") == [(1, ["x", 1.0])]


def test_cp1252_csv_member_is_detected(tmp_path: Path) -> None:
    path = build_zip(tmp_path / "z.zip", {"a.csv": "Org;Name\nRBD;Café £\n".encode("cp1252")})
    with open_workbook(path, display_name="z.zip") as book:
        assert (book.encoding, book.delimiter) == ("cp1252", ";")
        assert rows_of(book)[1] == (2, ["RBD", "Café £"])


def test_corrupt_member_data_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.csv", b"Org,Value\n" + b"RBD,1\n" * 100)
    data = bytearray(path.read_bytes())
    data[data.index(b"RBD,1") + 300] ^= 0x01  # flip one bit of the stored member
    path.write_bytes(bytes(data))
    assert_refused(BadInputError, path, "z.zip!a.csv is truncated or corrupt (", "CRC")


def patch_zip_header(path: Path, local_offset: int, central_offset: int, value: int) -> None:
    """Overwrite one 2-byte field of the first member's local and central headers."""
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    for position in (local_offset, central + central_offset):
        data[position : position + 2] = value.to_bytes(2, "little")
    path.write_bytes(bytes(data))


def test_unsupported_compression_is_named(tmp_path: Path) -> None:
    path = build_zip(tmp_path / "z.zip", {"a.csv": b"a,b\n1,2\n"})
    patch_zip_header(path, 8, 10, 9)  # compression method 9 = Deflate64
    assert_refused(BadInputError, path, "z.zip!a.csv uses a compression method Python cannot read")


def test_encrypted_member_is_named(tmp_path: Path) -> None:
    path = build_zip(tmp_path / "z.zip", {"a.csv": b"a,b\n1,2\n"})
    patch_zip_header(path, 6, 8, 0x0001)  # general-purpose flag bit 0 = encrypted
    assert_refused(BadInputError, path, "z.zip!a.csv is password-protected")


def test_truncated_zip_is_reported(tmp_path: Path) -> None:
    whole = build_zip(tmp_path / "w.zip", {"a.csv": os.urandom(5000)}).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[:3000])
    assert_refused(BadInputError, cut, "cut.zip is truncated or corrupt (")


# --- genuine NHS files -------------------------------------------------------------------


@pytest.mark.samples
def test_proms_csv_zip(nhs_samples: Path) -> None:
    path = nhs_samples / "proms_csv_datapack" / "Key Facts Hip and Knee Replacement 1617.csv.zip"
    with open_workbook(path, display_name=path.name) as book:
        assert book.member == "Key Facts Hip and Knee Replacement 1617.csv"
        assert book.display_name == f"{path.name}!{book.member}"
        assert (book.encoding, book.delimiter) == ("utf-8", ",")
        rows = rows_of(book)
    assert "Organsation Name" in rows[0][1]
    assert len(rows) == 8139
    assert [number for number, _ in rows] == list(range(1, 8140))
    assert {len(cells) for _, cells in rows} == {13}
    assert not any(isinstance(c, str) and "\r" in c for _, cells in rows for c in cells)


@pytest.mark.samples
def test_mhsds_csv_with_percent_in_name(nhs_samples: Path) -> None:
    path = nhs_samples / "mhsds_4ww" / "MHSDS%20Data_4WW_AprPerf_2024_v2.csv"
    with open_workbook(path, display_name=path.name) as book:
        assert book.sheet_names == ["MHSDS%20Data_4WW_AprPerf_2024_v2"]
        rows = rows_of(book)
    assert rows[0][1][0] == "REPORTING_PERIOD_START"
    assert len(rows) == 19_959
    assert {len(cells) for _, cells in rows} == {11}


@pytest.mark.samples
def test_ae_provider_csv_keeps_total_row(nhs_samples: Path) -> None:
    path = nhs_samples / "ae_monthly_provider" / "Monthly-AE-September-2023.csv"
    with open_workbook(path, display_name=path.name) as book:
        rows = rows_of(book)
    assert len(rows) == 203
    assert rows[-1][1][:4] == ["TOTAL"] * 4


@pytest.mark.samples
def test_legacy_xls_sheets_and_cells(nhs_samples: Path) -> None:
    path = nhs_samples / "ae_monthly_timeseries" / "Monthly-AE-Time-Series-January-2024.xls"
    with open_workbook(path, display_name=path.name) as book:
        assert book.kind == "xls"
        assert [(s.name, s.hidden) for s in book.sheets] == [
            ("Activity", False),
            ("Performance", False),
            ("Booking", False),
            ("Notes", False),
            ("Chart Data", True),
            ("Charts", True),
        ]
        rows = dict(rows_of(book, "Activity"))
    assert rows[1] == []
    assert rows[2][:2] == [None, "Title:"]
    assert rows[2][2].startswith("A&E Attendances & Emergency Admission statistics")
    assert rows[14][:2] == [None, "Period"]
    assert rows[15][1] == dt.date(2010, 8, 1)  # dates arrive as date objects in .xls too
    assert all(isinstance(value, int | float) for value in rows[15][2:6])


@pytest.mark.samples
def test_xls_read_from_an_extensionless_cache_path(nhs_samples: Path, tmp_path: Path) -> None:
    source = nhs_samples / "ccg_outcomes_indicators" / "CCG_1_2_I00754_D.xls"
    blob = tmp_path / "3f" / "3fa9c0"
    blob.parent.mkdir()
    blob.symlink_to(source)
    with open_workbook(blob, display_name=source.name) as book:
        assert book.kind == "xls"
        assert book.sheet_names == ["Title sheet", "Notes and definitions", "Data"]


@pytest.mark.samples
def test_kh03_xlsx_sheet_list(nhs_samples: Path) -> None:
    path = nhs_samples / "beds_kh03_overnight" / "Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx"
    with open_workbook(path, display_name=path.name) as book:
        assert book.sheets == [
            SheetInfo("NHS Trust by Sector", 0, False),
            SheetInfo("Region by Sector", 1, False),
            SheetInfo("Occupied by Specialty", 2, False),
            SheetInfo("Data Quality", 3, False),
        ]
        assert len(rows_of(book, "NHS Trust by Sector")) >= 211


@pytest.mark.samples
def test_every_sample_opens(nhs_samples: Path) -> None:
    for path in sorted(nhs_samples.glob("*/*")):
        with open_workbook(path, display_name=path.name) as book:
            for sheet in book.sheets:
                for _ in book.iter_rows(sheet.name):
                    pass
