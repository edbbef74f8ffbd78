"""load-batch: several data sheets are refused with inspect's list; fill_down fills on load."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from datawarp.pipeline.extract.sheets import candidates_listing
from datawarp.pipeline.inspect import open_table
from tests.pipeline.helpers import events, register, run, table_exists, table_rows, write_csv
from tests.pipeline.helpers import write_manifest as manifest_of

AE_2024 = "ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls"
RTT = "rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx"


@pytest.mark.samples
@pytest.mark.parametrize("dry_run", [False, True])
def test_several_data_sheets_are_refused_listing_what_inspect_lists(
    conn, db_url, tmp_path, nhs_samples, dry_run
):
    path = nhs_samples / AE_2024
    register(conn, "ae")
    manifest = manifest_of(tmp_path, [{"source_code": "ae", "path": str(path), "period": "none"}])
    report, _ = run(db_url, tmp_path / "home", manifest, dry_run=dry_run)
    (outcome,) = report.outcomes
    assert outcome.status == "failed" and report.exit_code == 1
    candidates = open_table(str(path), cache_dir=tmp_path).sheet_candidates
    assert [c.name for c in candidates] == ["Activity", "Performance", "Booking"]
    assert outcome.error == (
        f"{path.name} has 3 sheets holding tables: {candidates_listing(candidates)};"
        " add sheet: NAME to the file's manifest entry (e.g. sheet: Activity)"
    )
    assert not table_exists(conn, "staging.tbl_ae")
    if not dry_run:
        (event,) = events(conn, "ae")
        assert event["load_status"] == "failed" and event["error_message"] == outcome.error


@pytest.mark.samples
def test_a_named_sheet_of_a_workbook_with_several_loads(conn, db_url, tmp_path, nhs_samples):
    path = str(nhs_samples / AE_2024)
    register(conn, "ae")
    files = [{"path": path, "period": "none", "sheet": "performance"}]  # case forgiven
    report, _ = run(db_url, tmp_path / "home", manifest_of(tmp_path, [{"source_code": "ae",
                    "files": files}]))  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == "completed", outcome.error
    assert (outcome.sheet, outcome.rows_loaded) == ("Performance", 159)


@pytest.mark.samples
def test_rtt_year_fills_down_on_load_and_a_file_can_turn_it_off(
    conn, db_url, tmp_path, nhs_samples
):
    path = str(nhs_samples / RTT)
    register(conn, "rtt")
    register(conn, "rtt_sparse")
    sources = [
        {"source_code": "rtt", "fill_down": ["year"], "path": path, "period": "none"},
        {"source_code": "rtt_sparse", "fill_down": "year",
         "files": [{"path": path, "period": "none", "fill_down": []}]},
    ]  # fmt: skip
    report, _ = run(db_url, tmp_path / "home", manifest_of(tmp_path, sources))
    filled, sparse = report.outcomes
    assert (filled.status, sparse.status) == ("completed", "completed"), report.outcomes
    assert "fill_down: empty cells that took the value above (year 176)" in filled.notes
    assert not any("fill_down" in note for note in sparse.notes)
    rows = table_rows(conn, "staging.tbl_rtt", "year, month")
    assert len(rows) == 192
    for year, month in rows:
        start = month.year if month.month >= 4 else month.year - 1
        assert year == f"{start}/{(start + 1) % 100:02d}"
    assert table_rows(conn, "staging.tbl_rtt", "year", order="month")[12] == ("2008/09",)
    nulls = conn.execute("SELECT count(*) FROM staging.tbl_rtt_sparse WHERE year IS NULL")
    assert nulls.fetchone() == (176,)


def test_fill_down_of_a_csv_loads_the_rows_inspect_shows(conn, db_url, tmp_path):
    header = ["Region Code", "Org Code", "Attendances"]
    rows = [["-", "England", 60], ["Y56", "R1", 10], ["", "R2", 20], ["", "R3", 30],
            ["Y58", "R4", 0], ["", "R5", 0]]  # fmt: skip
    data = write_csv(tmp_path / "regions.csv", header, rows)
    register(conn, "regions")
    sources = [{"source_code": "regions", "path": data.name, "period": "2025-09",
                "fill_down": ["region_code"]}]  # fmt: skip
    report, _ = run(db_url, tmp_path / "home", manifest_of(tmp_path, sources))
    assert report.outcomes[0].status == "completed", report.outcomes[0].error
    loaded = table_rows(conn, "staging.tbl_regions", "region_code, org_code, _is_total")
    assert loaded == [("-", "England", True), ("Y56", "R1", False), ("Y56", "R2", False),
                      ("Y56", "R3", False), ("Y58", "R4", False), ("Y58", "R5", False)]  # fmt: skip
    shown = open_table(str(data), cache_dir=tmp_path, fill_down=["region_code"])
    assert [row[:2] for batch in shown.iter_batches() for row in batch] == [r[:2] for r in loaded]


def test_an_unknown_fill_down_column_fails_the_file_in_one_line(conn, db_url, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["Year", "Month", "Referrals"])
    sheet.append(["2024/25", dt.datetime(2024, 4, 1), 10])
    sheet.append([None, dt.datetime(2024, 5, 1), 11])
    book.save(tmp_path / "monthly.xlsx")
    register(conn, "monthly")
    sources = [{"source_code": "monthly", "path": "monthly.xlsx", "period": "none",
                "fill_down": ["year", "fy"]}]  # fmt: skip
    report, _ = run(db_url, tmp_path / "home", manifest_of(tmp_path, sources))
    (outcome,) = report.outcomes
    assert outcome.status == "failed" and "\n" not in outcome.error
    assert outcome.error == (
        "fill_down names fy, which monthly.xlsx, sheet 'Data' does not have;"
        " its columns: year, month, referrals"
    )
    assert not table_exists(conn, "staging.tbl_monthly")
