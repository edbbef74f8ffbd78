"""The NHS-style sample files: their structure, determinism, and what the extractor reads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from datawarp.demo.samplegen import (
    DEMO_SOURCES,
    LARGE_HEADERS,
    ae_layout,
    make_ae_data,
    rtt_headers,
    write_ae_provider_csv,
    write_ae_provider_xlsx,
    write_demo_publication,
    write_large_csv,
    write_large_xlsx,
    write_rtt_zip,
)

DATA_SHEET = "Provider Level Data"
HEADER_ROW, BAND_ROW, ENGLAND_ROW = 14, 13, 16
TITLE_KEYS = ["Title:", "Summary:", "Period:", "Source:", "Basis:", "Published:", "Revised:"]
TITLE_KEYS += ["Status:", "Contact:"]


def sheet_values(path: Path, sheet: str = DATA_SHEET) -> list[tuple]:
    workbook = openpyxl.load_workbook(path)
    return [tuple(row) for row in workbook[sheet].iter_rows(values_only=True)]


def all_values(path: Path) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}


def provider_rows(rows: list[tuple], providers: int) -> list[tuple]:
    return rows[ENGLAND_ROW : ENGLAND_ROW + providers]


def numeric_columns(header: tuple) -> list[int]:
    keys = {"Period", "Region", "Org Code", "Org Name"}
    return [i for i, text in enumerate(header) if text is not None and text not in keys]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("samplegen")


@pytest.fixture(scope="module")
def ae_v1(folder) -> Path:
    (folder / "v1").mkdir()
    return write_ae_provider_xlsx(folder / "v1", "2025-08", providers=12, layout_version=1)


@pytest.fixture(scope="module")
def ae_v2(folder) -> Path:
    (folder / "v2").mkdir()
    return write_ae_provider_xlsx(folder / "v2", "2025-09", providers=12, layout_version=2)


# ---------------------------------------------------------------------------------------------
# A&E workbook


def test_ae_workbook_has_cover_data_and_hidden_lookup(ae_v1):
    assert ae_v1.name == "Monthly-AE-August-2025.xlsx"
    workbook = openpyxl.load_workbook(ae_v1)
    assert workbook.sheetnames == ["Cover", DATA_SHEET, "Lookup"]
    assert workbook["Lookup"].sheet_state == "hidden"
    assert workbook["Cover"]["A1"].value == "A&E Attendances and Emergency Admissions"
    lookup = list(workbook["Lookup"].iter_rows(values_only=True))
    assert lookup[0] == ("Org Code", "Org Name", "Region") and len(lookup) == 13


def test_ae_workbook_title_block_banner_and_stray_count(ae_v1):
    rows = sheet_values(ae_v1)
    assert [row[0] for row in rows[:9]] == TITLE_KEYS
    values = {row[0]: row[1] for row in rows[:9]}
    assert values["Title:"] == "A&E Attendances and Emergency Admissions"
    assert values["Period:"] == "August 2025"
    assert values["Basis:"] == "Provider"
    assert values["Status:"] == "Published (Finalised)"
    assert values["Revised:"] is None
    assert isinstance(values["Published:"], dt.datetime)
    assert not any(rows[9])
    banner = rows[10]
    assert banner[0] == "Provider Level Data"
    assert [cell for cell in banner[1:] if cell is not None] == [12]  # the stray count, far right
    assert banner[-1] == 12


def test_ae_workbook_grouped_header_with_merged_bands_and_spacers(ae_v1):
    sheet = openpyxl.load_workbook(ae_v1)[DATA_SHEET]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert merged == {"A11:C11", "F13:I13", "K13:N13", "P13:U13", "W13:X13"}
    rows = sheet_values(ae_v1)
    band, header = rows[BAND_ROW - 1], rows[HEADER_ROW - 1]
    assert header[:4] == ("Period", "Region", "Org Code", "Org Name")
    assert band[:5] == (None,) * 5  # the key columns' band cells are empty
    assert band[5] == "A&E attendances" and band[15] == "Emergency Admissions"
    assert band[10].startswith("A&E attendances > 4 hours")
    assert header[5:9] == (
        "Type 1 Departments - Major A&E",
        "Type 2 Departments - Single Specialty",
        "Other A&E Departments",
        "Total attendances",
    )
    for spacer in (4, 9, 14, 21):  # E, J, O, V: empty in the header and in every data row
        assert all(row[spacer] is None for row in rows[BAND_ROW - 1 :])


def test_ae_workbook_england_row_first_and_equal_to_the_sum_of_providers(ae_v1, ae_v2):
    for path in (ae_v1, ae_v2):
        rows = sheet_values(path)
        header = rows[HEADER_ROW - 1]
        england = rows[ENGLAND_ROW - 1]
        names = dict(zip(header, england, strict=True))
        assert names["Org Code"] == "-" and names["Org Name"] == "England"
        providers = provider_rows(rows, 12)
        for column in numeric_columns(header):
            numbers = [row[column] for row in providers if isinstance(row[column], int)]
            assert england[column] == sum(numbers), header[column]


def test_ae_workbook_providers_codes_markers_and_notes(ae_v1):
    rows = sheet_values(ae_v1)
    providers = provider_rows(rows, 12)
    codes = [row[2] for row in providers]
    assert all(isinstance(code, str) and re.fullmatch(r"[RN][0-9A-Z]{2}", code) for code in codes)
    assert len(set(codes)) == 12
    names = [row[3] for row in providers]
    assert any(name.endswith(" ") for name in names)
    assert any("NHS FOUNDATION TRUST" in name for name in names)
    assert "\u2013" in names[-1]
    cells = [cell for row in providers for cell in row[5:]]
    assert "*" in cells and "-" in cells
    tail = rows[ENGLAND_ROW + 12 :]
    assert not any(tail[0])
    assert tail[1][0] == "Notes:" and tail[2][0].startswith("1. ")
    assert tail[-1][0].startswith("Source: NHS England")


def test_ae_layout_version_2_drifts(ae_v1, ae_v2):
    header_1 = sheet_values(ae_v1)[HEADER_ROW - 1]
    header_2 = sheet_values(ae_v2)[HEADER_ROW - 1]
    assert header_2[:4] == ("Period", "Org Code", "Org Name", "Region")  # column order shifted
    assert "Booked Appointments" in header_2 and "Booked Appointments" not in header_1
    assert "4-12 hs" in header_1 and "4-12 hrs" in header_2  # the typo is fixed
    assert len(header_2) == len(header_1) + 1
    merged = {str(r) for r in openpyxl.load_workbook(ae_v2)[DATA_SHEET].merged_cells.ranges}
    assert "F13:J13" in merged  # the first band is one column wider
    keys_1, bands_1 = ae_layout(1)
    keys_2, bands_2 = ae_layout(2)
    assert len(bands_2[0][1]) == len(bands_1[0][1]) + 1


def test_ae_workbook_is_deterministic(tmp_path):
    first, second, other = (tmp_path / name for name in ("a", "b", "c"))
    for folder in (first, second, other):
        folder.mkdir()
    kwargs = dict(providers=8, layout_version=2)
    a = write_ae_provider_xlsx(first, "2025-09", seed=3, **kwargs)
    b = write_ae_provider_xlsx(second, "2025-09", seed=3, **kwargs)
    c = write_ae_provider_xlsx(other, "2025-09", seed=4, **kwargs)
    assert all_values(a) == all_values(b)
    assert all_values(a) != all_values(c)


def test_ae_periods_share_providers_but_not_numbers():
    august, september = make_ae_data("2025-08", 10), make_ae_data("2025-09", 10)
    assert august.providers == september.providers
    assert august.values != september.values


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="2025-09"):
        write_ae_provider_xlsx(tmp_path, "Sept 2025")
    with pytest.raises(ValueError, match="layout_version"):
        write_ae_provider_xlsx(tmp_path, layout_version=3)


# ---------------------------------------------------------------------------------------------
# A&E CSV


def test_ae_csv_header_total_row_and_same_data_as_the_workbook(tmp_path):
    path = write_ae_provider_csv(tmp_path, "2025-09", providers=12)
    assert path.name == "Monthly-AE-September-2025.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0][:5] == ["Period", "Org Code", "Parent Org", "Org name", "A&E attendances Type 1"]
    assert len(rows) == 1 + 12 + 1 and all(len(row) == 22 for row in rows)
    assert rows[1][0] == "MSitAE-SEPTEMBER-2025"
    total = rows[-1]
    assert total[:4] == ["TOTAL"] * 4
    for column in range(4, 22):
        numbers = [int(row[column]) for row in rows[1:-1] if row[column].isdigit()]
        assert int(total[column]) == sum(numbers), rows[0][column]
    data = make_ae_data("2025-09", 12)
    assert [row[1] for row in rows[1:-1]] == [p.code for p in data.providers]
    assert [row[4] for row in rows[1:-1]] == [str(v["att_t1"]) for v in data.values]


def test_ae_csv_cp1252_has_a_late_non_ascii_character(tmp_path):
    path = write_ae_provider_csv(tmp_path, "2025-09", providers=12, encoding="cp1252")
    raw = path.read_bytes()
    text = raw.decode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    first_non_ascii = next(i for i, byte in enumerate(raw) if byte > 127)
    assert first_non_ascii > 0.8 * len(raw)
    assert "\u2013" in text.splitlines()[-2]
    (tmp_path / "utf8").mkdir()
    utf8 = write_ae_provider_csv(tmp_path / "utf8", "2025-09", providers=12)
    assert utf8.read_bytes().decode("utf-8") == text


def test_ae_csv_is_deterministic_bytes(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    a = write_ae_provider_csv(tmp_path / "a", "2025-09", providers=9, seed=7)
    b = write_ae_provider_csv(tmp_path / "b", "2025-09", providers=9, seed=7)
    assert a.read_bytes() == b.read_bytes()


# ---------------------------------------------------------------------------------------------
# RTT ZIP


def test_rtt_zip_has_one_csv_and_macosx_junk(tmp_path):
    path = write_rtt_zip(tmp_path, "2025-09", rows=120)
    assert path.name == "RTT-September-2025.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        member = "20250930-RTT-September-2025-full-extract.csv"
        assert names == [member, f"__MACOSX/._{member}"]
        text = archive.read(member).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header == rtt_headers()
    assert header[:2] == ["Period", "Provider Parent Org Code"]
    assert "Gt 00 To 01 Weeks SUM 1" in header and header[-3:-2] == ["Total"]
    assert len(rows) == 121 and all(len(row) == len(header) for row in rows)
    codes = {row[header.index("Treatment Function Code")] for row in rows[1:]}
    assert {"C_100", "C_999", "X02"} <= codes
    first_total = next(i for i, row in enumerate(rows) if "C_999" in row)
    group = rows[1:first_total]
    total_column = header.index("Total")
    assert int(rows[first_total][total_column]) == sum(int(row[total_column]) for row in group)


def test_rtt_zip_is_deterministic_bytes(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    a = write_rtt_zip(tmp_path / "a", "2025-09", rows=50, seed=2)
    b = write_rtt_zip(tmp_path / "b", "2025-09", rows=50, seed=2)
    assert a.read_bytes() == b.read_bytes()


# ---------------------------------------------------------------------------------------------
# Large files


def test_large_csv_has_exactly_n_rows_of_12_columns(tmp_path):
    path = write_large_csv(tmp_path / "large.csv", 20_000, seed=1)
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == list(LARGE_HEADERS) and len(LARGE_HEADERS) == 12
    assert len(rows) == 20_001 and {len(row) for row in rows} == {12}
    sample = rows[1]
    assert re.fullmatch(r"\d{4}-\d{2}", sample[0])
    assert all(value.isdigit() for value in sample[4:10])
    assert re.fullmatch(r"\d+\.\d", sample[10])
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", sample[11])
    again = write_large_csv(tmp_path / "again.csv", 20_000, seed=1)
    assert again.read_bytes() == path.read_bytes()


def test_large_xlsx_has_12_typed_columns(tmp_path):
    path = write_large_xlsx(tmp_path / "large.xlsx", 50)
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook["Data"].iter_rows(values_only=True))
    assert rows[0] == LARGE_HEADERS
    assert len(rows) == 51 and {len(row) for row in rows} == {12}
    assert isinstance(rows[1][4], int)
    assert any(isinstance(row[10], float) for row in rows[1:])  # 74.0 reads back as 74
    assert isinstance(rows[1][11], dt.datetime)


# ---------------------------------------------------------------------------------------------
# The demo publication


def test_demo_publication_files_and_manifest(tmp_path):
    from datawarp.pipeline.manifest import load_manifest

    manifest_path = write_demo_publication(tmp_path / "demo")
    folder = manifest_path.parent
    assert manifest_path.name == "manifest.yaml"
    assert sorted(p.name for p in folder.iterdir()) == [
        "Monthly-AE-August-2025.xlsx",
        "Monthly-AE-September-2025.csv",
        "Monthly-AE-September-2025.xlsx",
        "RTT-September-2025.zip",
        "manifest.yaml",
    ]
    assert str(tmp_path) not in manifest_path.read_text()  # relative paths only
    manifest = load_manifest(manifest_path)
    sources = {source.source_code: source for source in manifest.sources}
    assert list(sources) == [spec["source_code"] for spec in DEMO_SOURCES]
    ae = sources["ae_attendances"]
    assert ae.sheet == DATA_SHEET and ae.primary_key == ["org_code"]
    assert [(Path(f.path).name, f.period) for f in ae.files] == [
        ("Monthly-AE-August-2025.xlsx", "2025-08"),
        ("Monthly-AE-September-2025.xlsx", "2025-09"),
    ]
    assert all(Path(f.path).is_file() for s in manifest.sources for f in s.files)
    assert sources["rtt_waiting_times"].files[0].member == "*.csv"
    csv_bytes = (folder / "Monthly-AE-September-2025.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        csv_bytes.decode("utf-8")


def test_demo_sources_registration_fields():
    fields = {"source_code", "publication", "domain", "owner", "purpose", "load_mode"}
    assert all(set(spec) == fields for spec in DEMO_SOURCES)
    modes = {spec["source_code"]: spec["load_mode"] for spec in DEMO_SOURCES}
    assert modes == {
        "ae_attendances": "REPLACE",
        "ae_attendances_csv": "REPLACE",
        "rtt_waiting_times": "APPEND",
    }


# ---------------------------------------------------------------------------------------------
# What the extraction engine reads from the generated files


def open_generated(path: Path, tmp_path: Path, **kwargs):
    from datawarp.pipeline.inspect import open_table

    return open_table(str(path), cache_dir=tmp_path / "cache", **kwargs)


def test_engine_reads_the_ae_workbook_v1(ae_v1, tmp_path):
    table = open_generated(ae_v1, tmp_path)
    assert table.sheet == DATA_SHEET and not table.sheet_ambiguous
    assert table.layout.header_rows == [BAND_ROW, HEADER_ROW]
    assert table.layout.first_data_row == ENGLAND_ROW
    assert table.row_count == 13 and table.total_rows == [ENGLAND_ROW]
    assert table.layout.notes_row == ENGLAND_ROW + 12 + 2
    assert table.metadata["Period"] == "August 2025"
    names = table.column_names
    # The 'Provider Level Data' banner under the title block is every row's block_title.
    assert names[:5] == ["block_title", "period", "region", "org_code", "org_name"]
    assert "a_and_e_attendances_type_1_departments_major_a_and_e" in names
    assert "waits_from_decision_to_admit_to_admission_x4_12_hs" in names
    assert len(names) == 21 and not table.warnings


def test_engine_reads_the_ae_workbook_v2(ae_v2, tmp_path):
    table = open_generated(ae_v2, tmp_path)
    assert table.layout.header_rows == [BAND_ROW, HEADER_ROW]
    assert table.row_count == 13 and table.total_rows == [ENGLAND_ROW]
    names = table.column_names
    assert names[:5] == ["block_title", "period", "org_code", "org_name", "region"]
    assert "a_and_e_attendances_booked_appointments" in names
    assert "waits_from_decision_to_admit_to_admission_x4_12_hrs" in names
    assert len(names) == 22
    england = next(iter(table.iter_batches()))[0]
    assert england[0] == "Provider Level Data" and england[3] == "England"
    assert england[-2] is True


def test_engine_reads_the_ae_csv_in_cp1252(tmp_path):
    path = write_ae_provider_csv(tmp_path, "2025-09", providers=12, encoding="cp1252")
    table = open_generated(path, tmp_path)
    assert table.encoding == "cp1252"
    assert table.layout.header_rows == [1]
    assert table.row_count == 13 and table.total_rows == [14]
    assert table.column_names[:5] == [
        "period",
        "org_code",
        "parent_org",
        "org_name",
        "a_and_e_attendances_type_1",
    ]
    rows = [row for batch in table.iter_batches() for row in batch]
    assert "\u2013" in rows[-2][3]  # decoded as an en dash, not mojibake


def test_engine_reads_the_rtt_zip(tmp_path):
    path = write_rtt_zip(tmp_path, "2025-09", rows=120)
    table = open_generated(path, tmp_path, member="*.csv")
    assert table.member.endswith("-full-extract.csv")
    assert table.layout.header_rows == [1] and table.row_count == 120
    assert table.total_rows == [23, 45, 67, 89, 111]  # the C_999 'Total' rows
    names = table.column_names
    assert names[:3] == ["period", "provider_parent_org_code", "provider_parent_name"]
    assert {"treatment_function_code", "gt_00_to_01_weeks_sum_1", "total_all"} <= set(names)


def test_engine_reads_the_large_files(tmp_path):
    csv_table = open_generated(write_large_csv(tmp_path / "l.csv", 300), tmp_path)
    xlsx_table = open_generated(write_large_xlsx(tmp_path / "l.xlsx", 300), tmp_path)
    for table in (csv_table, xlsx_table):
        assert table.row_count == 300 and len(table.columns) == 12
        types = [column.pg_type for column in table.columns]
        assert types[:4] == ["text"] * 4 and types[-1] == "date" and types[-2] == "numeric"
    assert csv_table.column_names == xlsx_table.column_names


def test_demo_manifest_columns_are_names_the_engine_produces(tmp_path):
    from datawarp.pipeline.manifest import load_manifest

    manifest_path = write_demo_publication(tmp_path / "demo")

    for source in load_manifest(manifest_path).sources:
        for entry in source.files:
            table = open_generated(
                Path(entry.path), tmp_path, sheet=source.sheet, member=entry.member
            )
            missing = set(source.columns) - set(table.column_names)
            assert not missing, f"{source.source_code} {Path(entry.path).name}: {missing}"
            assert set(source.primary_key) <= set(table.column_names)
