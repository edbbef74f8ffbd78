"""The engine end to end on files built here: xlsx (openpyxl), CSV (cp1252) and ZIP."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from datawarp.cli import inspect_cmd
from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.pipeline.extract.file_ahead import file_key
from datawarp.pipeline.extract.table import NoTableError
from datawarp.pipeline.inspect import inspect, open_table

PROVIDERS = [
    ("RXX", "Trust X", 100, 5, "*"),
    ("RYY", "Trust Y", 200, 7, 0.5),
    ("RZZ", "Trust Z", 300, "-", 0.25),
]


def provider_workbook(path: Path, *, extra_data_sheet: bool = False) -> Path:
    """An NHS-style workbook: cover, data (title block, banner, grouped header), notes."""
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "Cover"
    cover.append(["A&E Attendances and Emergency Admissions"])
    cover.append(["Published 12 October 2023"])
    data = book.create_sheet("Provider Data")
    for row in [
        [None],
        [None, "Title:", "A&E Attendances"],
        [None, "Period:", "September 2023"],
        [None, "Source:", "SDCS"],
        [None, "Published:", dt.datetime(2023, 10, 12)],
        [None],
        [None, "Provider Level Data", None, None, 3],
        [None, None, None, "Attendances", None, "Rate"],
        [None, "Code", "Name", "Type 1", "Type 2", "Conversion"],
        [None, "-", "England", 600, 12, 0.4],
        [None],
        *([None, *provider] for provider in PROVIDERS),
        [None],
        [None, "Notes:"],
        [None, "* = suppressed; - = not applicable"],
    ]:
        data.append(row)
    data.merge_cells("D8:E8")
    hidden = book.create_sheet("Lookup")
    hidden.append(["Code", "Region"])
    hidden.append(["RXX", "North"])
    hidden.sheet_state = "hidden"
    if extra_data_sheet:
        region = book.create_sheet("Region Data")
        region.append(["Region", "Attendances"])
        region.append(["North", 10])
    notes = book.create_sheet("Notes")
    notes.append(["Notes"])
    notes.append(["1. Figures are provisional."])
    book.save(path)
    return path


def test_xlsx_end_to_end(tmp_path):
    table = open_table(str(provider_workbook(tmp_path / "provider.xlsx")))
    assert table.sheet == "Provider Data"
    assert not table.sheet_ambiguous
    assert [(s.name, s.kind, s.hidden) for s in table.sheets] == [
        ("Cover", "cover", False),
        ("Provider Data", "data", False),
        ("Lookup", "data", True),
        ("Notes", "notes", False),
    ]
    assert table.layout.header_rows == [8, 9]
    assert (table.layout.first_data_row, table.layout.last_data_row) == (10, 14)
    assert table.layout.notes_row == 16
    assert table.metadata == {
        "Title": "A&E Attendances",
        "Period": "September 2023",
        "Source": "SDCS",
        "Published": "2023-10-12",
        "Banner": "Provider Level Data",
    }
    assert [(c.name, c.pg_type, c.suppressed_count) for c in table.columns] == [
        ("block_title", "text", 0),  # the banner says which rows these are
        ("code", "text", 0),
        ("name", "text", 0),
        ("attendances_type_1", "smallint", 0),
        ("attendances_type_2", "smallint", 1),
        ("rate_conversion", "numeric", 1),
    ]
    assert table.columns[3].original_header == "Attendances | Type 1"
    assert table.columns[3].source_column == "D"
    assert table.row_count == 4
    assert table.total_rows == [10]
    rows = [row for batch in table.iter_batches() for row in batch]
    banner = "Provider Level Data"
    assert rows == [
        (banner, "-", "England", 600, 12, Decimal("0.4"), 10, True, "national"),
        (banner, "RXX", "Trust X", 100, 5, None, 12, False, "organisation"),
        (banner, "RYY", "Trust Y", 200, 7, Decimal("0.5"), 13, False, "organisation"),
        (banner, "RZZ", "Trust Z", 300, None, Decimal("0.25"), 14, False, "organisation"),
    ]


def test_several_data_sheets_make_the_choice_ambiguous(tmp_path):
    path = provider_workbook(tmp_path / "two.xlsx", extra_data_sheet=True)
    table = open_table(str(path))
    assert table.sheet == "Provider Data"
    assert table.sheet_ambiguous
    assert "'Region Data'" in table.warnings[0]
    chosen = open_table(str(path), sheet="region data")  # case and spaces forgiven
    assert chosen.sheet == "Region Data"
    assert not chosen.sheet_ambiguous
    # Only the named sheet is read; the others are judged by name.
    assert [(s.name, s.kind) for s in chosen.sheets] == [
        ("Cover", "cover"),
        ("Provider Data", "unread"),
        ("Lookup", "unread"),
        ("Region Data", "data"),
        ("Notes", "notes"),
    ]
    rows = [row for batch in chosen.iter_batches() for row in batch]
    assert rows == [("North", 10, 2, False, None)]


def test_a_hidden_sheet_loads_only_when_named(tmp_path):
    table = open_table(str(provider_workbook(tmp_path / "p.xlsx")), sheet="Lookup")
    assert table.column_names == ["code", "region"]


def test_unknown_sheet_lists_the_sheets(tmp_path):
    with pytest.raises(NotFoundError, match="Sheet 'Data' not found .*'Cover', 'Provider Data'"):
        open_table(str(provider_workbook(tmp_path / "p.xlsx")), sheet="Data")


def test_workbook_without_a_table_is_a_clear_error(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.active.append(["Cancer Waiting Times"])
    notes = book.create_sheet("Definitions")
    notes.append(["Definitions"])
    notes.append(["A breach is a wait longer than the standard."])
    path = tmp_path / "cover_only.xlsx"
    book.save(path)
    with pytest.raises(NoTableError, match=r"holds no loadable table; sheets: 'Cover' \(cover\)"):
        open_table(str(path))


def test_named_sheet_without_a_table_is_a_clear_error(tmp_path):
    with pytest.raises(NoTableError, match="sheet 'Notes': no table found"):
        open_table(str(provider_workbook(tmp_path / "p.xlsx")), sheet="Notes")


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def test_cp1252_csv_with_suppression_and_a_total_row(tmp_path):
    path = write_csv(
        tmp_path / "costs.csv",
        [
            "Org Code,Org Name,Cost (£),Patients,Month",
            "RXX,Trust X £,1200,*,01/09/2023",
            "RYY,Trust Y,1300.50,15,01/10/2023",
            "TOTAL,TOTAL,2500.50,15,",
        ],
        encoding="cp1252",
    )
    table = open_table(str(path))
    assert table.encoding == "cp1252"
    assert table.column_names == ["org_code", "org_name", "cost", "patients", "month"]
    assert [c.pg_type for c in table.columns] == ["text", "text", "numeric", "smallint", "date"]
    assert table.columns[3].suppressed_count == 1
    assert table.columns[4].null_count == 1
    rows = [row for batch in table.iter_batches() for row in batch]
    assert rows[0][:-1] == ("RXX", "Trust X £", Decimal(1200), None, dt.date(2023, 9, 1), 2, False)
    assert [row[-2:] for row in rows] == [(False, "organisation"), (False, "organisation"),
                                          (True, "national")]  # fmt: skip


def test_ragged_csv_row_names_its_line(tmp_path):
    path = write_csv(tmp_path / "ragged.csv", ["a,b,c", "1,2,3", "4,5", "6,7,8"])
    with pytest.raises(BadInputError, match=r"ragged\.csv line 3: 2 fields where the header"):
        open_table(str(path))


def test_csv_in_a_zip_with_macos_junk(tmp_path):
    csv_bytes = b"Procedure,Improved,Total\r\nHip,10,20\r\nKnee,*,5\r\n"
    path = tmp_path / "pack.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Key Facts 1617.csv", csv_bytes)
        archive.writestr("__MACOSX/._Key Facts 1617.csv", b"\x00\x05\x16\x07junk")
    table = open_table(str(path))
    assert table.member == "Key Facts 1617.csv"
    assert table.row_count == 2
    assert [row for batch in table.iter_batches() for row in batch][1] == (
        "Knee",
        None,
        5,
        3,
        False,
        None,
    )


def test_zip_member_is_chosen_by_glob(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a/Provider.csv", "Org,Value\nRXX,1\n")
        archive.writestr("a/Region.csv", "Region,Value\nNorth,2\nSouth,3\n")
    with pytest.raises(BadInputError, match="holds several files"):
        open_table(str(path))
    assert open_table(str(path), member="*region*").row_count == 2


def test_batches_are_bounded_and_can_be_read_twice(tmp_path):
    path = write_csv(tmp_path / "n.csv", ["n,square"] + [f"{n},{n * n}" for n in range(25)])
    table = open_table(f"file://{path}")
    sizes = [len(batch) for batch in table.iter_batches(batch_size=10)]
    assert sizes == [10, 10, 5]
    again = [row[0] for batch in table.iter_batches(batch_size=7) for row in batch]
    assert again == list(range(25))


def test_downloads_go_to_the_content_addressed_cache(tmp_path, httpserver):
    body = b"Org,Value\nRXX,1\nRYY,2\n"
    httpserver.expect_request("/data/file.csv").respond_with_data(body, content_type="text/csv")
    table = open_table(httpserver.url_for("/data/file.csv"), cache_dir=tmp_path / "cache")
    assert table.source.name == "file.csv"
    assert table.source.path.is_relative_to(tmp_path / "cache")
    assert table.source.path.read_bytes() == body
    assert [row[:2] for batch in table.iter_batches() for row in batch] == [("RXX", 1), ("RYY", 2)]


def test_inspect_report_is_json_ready(tmp_path):
    report = inspect(str(provider_workbook(tmp_path / "p.xlsx")))
    as_json = json.loads(json.dumps(report.to_dict()))
    assert as_json["sheet"] == "Provider Data"
    assert as_json["row_count"] == 4
    assert as_json["total_rows"] == [10]
    assert as_json["columns"][4]["name"] == "attendances_type_2"
    assert as_json["columns"][4]["suppressed_count"] == 1
    assert [sheet["kind"] for sheet in as_json["sheets"]] == ["cover", "data", "data", "notes"]


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("inspect")(inspect_cmd.inspect)
    app.command("unused")(lambda: None)  # keeps 'inspect' a subcommand, as in the real CLI
    return app


def test_cli_inspect_renders_tables_and_json(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("DATAWARP_HOME", str(tmp_path / "home"))
    path = str(provider_workbook(tmp_path / "p.xlsx"))
    result = CliRunner().invoke(cli, ["inspect", path], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Provider Data" in result.output
    assert "attendances_type_1" in result.output
    assert "Totals rows (_is_total): 1 (row 10)" in result.output
    result = CliRunner().invoke(cli, ["inspect", path, "--json", "--sheet", "Lookup"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sheet"] == "Lookup"


def test_cli_help_shows_an_example(cli):
    result = CliRunner().invoke(cli, ["inspect", "--help"])
    assert "datawarp inspect Monthly-AE-September-2023.csv" in result.output


def test_the_garbage_collector_is_never_left_paused(tmp_path):
    import gc

    path = write_csv(tmp_path / "n.csv", ["n"] + [str(n) for n in range(50)])
    batches = open_table(str(path)).iter_batches(batch_size=10)
    next(batches)
    assert gc.isenabled()  # the caller runs with the collector on between batches
    batches.close()
    assert gc.isenabled()


def test_pass_two_reuses_the_parsed_sheet_unless_the_file_changed(tmp_path):
    from datawarp.pipeline.extract import excel_reader

    path = provider_workbook(tmp_path / "provider.xlsx")
    table = open_table(str(path))
    key = file_key(path)
    kept = excel_reader._LAST_PARSED.get(key, "Provider Data")
    assert kept is not None  # parsed once by pass 1, kept for pass 2
    first = [row for batch in table.iter_batches() for row in batch]
    assert excel_reader._LAST_PARSED.get(key, "Provider Data") is kept  # not parsed again

    book = openpyxl.load_workbook(path)
    book["Provider Data"]["D14"] = 301  # same shape, new value: the file's key changes
    book.save(path)
    assert excel_reader._LAST_PARSED.get(file_key(path), "Provider Data") is None
    again = open_table(str(path))
    changed = [row for batch in again.iter_batches() for row in batch]
    assert first[-1][3] == 300 and changed[-1][3] == 301  # after block_title, code, name


def test_a_quoted_value_over_many_lines_is_a_warning_and_still_loads(tmp_path, monkeypatch):
    note = "\n".join(f"part {i}" for i in range(30))
    path = tmp_path / "long_note.csv"
    path.write_text(f'Code,Count,Note\nR1,1,"{note}"\nR2,2,short\n', encoding="utf-8")
    table = open_table(str(path))
    assert table.row_count == 2
    assert any("line 2: a quoted value runs over 30 lines" in w for w in table.warnings)
    rows = [row for batch in table.iter_batches() for row in batch]
    assert rows[0][2] == note

    monkeypatch.setenv("DATAWARP_CSV_MULTILINE_LINES", "40")  # the threshold is a setting
    assert not any("quoted value" in w for w in open_table(str(path)).warnings)


def test_a_large_cell_loads_and_a_runaway_one_names_its_line(tmp_path):
    large = tmp_path / "large.csv"
    large.write_text('Code,Note\nR1,"' + "x" * (1 << 20) + '"\nR2,short\n', encoding="utf-8")
    rows = [row for batch in open_table(str(large)).iter_batches() for row in batch]
    assert len(rows[0][1]) == 1 << 20

    runaway = tmp_path / "runaway.csv"
    runaway.write_text('Code,Note\nR1,ok\nR2,"' + "y\n" * (9 << 20) + '"\n', encoding="utf-8")
    with pytest.raises(BadInputError, match=r"runaway.csv line 3: a value longer than 16 million"):
        [row for batch in open_table(str(runaway)).iter_batches() for row in batch]


@pytest.mark.parametrize("arrow", [True, False], ids=["arrow path", "python path"])
def test_percentages_beside_plain_numbers_are_warned_about(tmp_path, monkeypatch, arrow):
    if not arrow:
        monkeypatch.setenv("DATAWARP_NO_ARROW", "1")
    path = tmp_path / "mix.csv"
    path.write_text("Code,Rate,Share\nR1,0.125,50%\nR2,50%,60%\nR3,7,70%\n", encoding="utf-8")
    warned = [w for w in open_table(str(path)).warnings if "percentages" in w]
    assert len(warned) == 1 and warned[0].startswith("column rate mixes percentages")
