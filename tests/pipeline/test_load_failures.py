"""Bad input during a load: a clear one-line error, a failed event, nothing half-written."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from datawarp.catalog import registry
from datawarp.catalog.loads import SERIALISE_LOCK
from datawarp.catalog.staging import PROVENANCE_COLUMNS
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import (
    HEADER,
    events,
    provider_manifest,
    provider_rows,
    register,
    run,
    table_exists,
    table_rows,
    write_csv,
    write_manifest,
)  # fmt: skip


def _workbook(path, sheets=("Data",)):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in sheets:
        sheet = book.create_sheet(name)
        sheet.append(HEADER)
        for row in provider_rows("2025-09"):
            sheet.append(row)
    book.save(path)
    return path


def _assert_failed_cleanly(conn, code: str, report, *fragments: str) -> None:
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert report.exit_code == 1
    assert "\n" not in outcome.error
    for fragment in fragments:
        assert fragment in outcome.error
    (event,) = events(conn, code)
    assert event["load_status"] == "failed" and event["error_message"] == outcome.error
    assert not table_exists(conn, f"staging.tbl_{code}")
    assert registry.get_source(conn, code).status == "registered"


def _load_one(conn, db_url, tmp_path, home, path, **source):
    register(conn, "src")
    manifest = write_manifest(tmp_path, [{"source_code": "src", "path": path.name, **source}])
    return run(db_url, home, manifest)


def test_html_page_saved_as_xlsx(conn, db_url, tmp_path, home):
    page = tmp_path / "Monthly-AE.xlsx"
    page.write_text("<!DOCTYPE html><html><body>Page moved</body></html>")
    report, notifications = _load_one(conn, db_url, tmp_path, home, page)
    _assert_failed_cleanly(conn, "src", report, "Monthly-AE.xlsx", "HTML page")
    (notice,) = notifications
    assert notice.recipient == "owner@nhs.net" and notice.kind == "load_failed"


def test_truncated_workbook(conn, db_url, tmp_path, home):
    good = _workbook(tmp_path / "good.xlsx")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    report, _ = _load_one(conn, db_url, tmp_path, home, cut)
    _assert_failed_cleanly(conn, "src", report, "cut.xlsx", "truncated or corrupt")


def test_empty_csv(conn, db_url, tmp_path, home):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    report, _ = _load_one(conn, db_url, tmp_path, home, empty)
    _assert_failed_cleanly(conn, "src", report, "empty.csv", "empty")


def test_sheet_not_found_lists_the_sheets(conn, db_url, tmp_path, home):
    book = _workbook(tmp_path / "book.xlsx", sheets=("Cover", "Data"))
    report, _ = _load_one(conn, db_url, tmp_path, home, book, sheet="Provider Data")
    _assert_failed_cleanly(conn, "src", report, "'Provider Data' not found", "'Cover'", "'Data'")


def test_zip_member_not_found(conn, db_url, tmp_path, home):
    archive = tmp_path / "pack.zip"
    buffer = io.StringIO()
    buffer.write(",".join(HEADER) + "\n1,2,3,4,5\n")
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("data/providers.csv", buffer.getvalue())
    report, _ = _load_one(conn, db_url, tmp_path, home, archive, member="*commissioners*.csv")
    _assert_failed_cleanly(conn, "src", report, "*commissioners*.csv", "providers.csv")


def test_ragged_csv_row_names_the_line(conn, db_url, tmp_path, home):
    rows = provider_rows("2025-09")
    rows[4] = [*rows[4], "surplus", "cells"]
    data = write_csv(tmp_path / "ragged.csv", HEADER, rows)
    report, _ = _load_one(conn, db_url, tmp_path, home, data)
    _assert_failed_cleanly(conn, "src", report, "ragged.csv", "line 6")


def test_failure_of_one_file_does_not_stop_the_batch(conn, db_url, tmp_path, home):
    register(conn, "bad")
    register(conn, "fine")
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"")
    good = write_csv(tmp_path / "good.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(
        tmp_path,
        [{"source_code": "bad", "path": broken.name}, {"source_code": "fine", "path": good.name}],
    )
    report, _ = run(db_url, home, manifest)
    assert [o.status for o in report.outcomes] == ["failed", "completed"]
    assert report.exit_code == 1
    assert len(table_rows(conn, "staging.tbl_fine")) == 13
    result = run_cli("load-batch", str(manifest), "--force", database_url=db_url)
    assert result.exit_code == 1
    assert "FAILED" in result.stdout and "1 completed" in result.stdout


def test_failed_reload_keeps_the_previous_data(conn, db_url, tmp_path, home):
    """REPLACE deletes the period's rows in the same transaction, so a failure restores them."""
    register(conn, "src", load_mode="REPLACE")
    manifest = provider_manifest(tmp_path, "src", period="2025-09")
    run(db_url, home, manifest)
    rows = provider_rows("2025-09", scale=3)
    rows[2] = [*rows[2], "x", "y"]
    write_csv(tmp_path / "a.csv", HEADER, rows)
    report, _ = run(db_url, home, manifest)
    assert report.outcomes[0].status == "failed"
    assert len(table_rows(conn, "staging.tbl_src")) == 13
    assert table_rows(conn, "staging.tbl_src", "attendances")[0] == (100,)


def test_second_manifest_loading_the_same_source_is_refused(conn, db_url, tmp_path, home):
    """Another process is mid-load (it holds the source's lock): this one says so and stops."""
    register(conn, "src")
    manifest = provider_manifest(tmp_path, "src")
    with conn.transaction():
        conn.execute(f"SELECT pg_advisory_xact_lock({SERIALISE_LOCK})", ("src",))
        report, _ = run(db_url, home, manifest, settings={"lock_timeout_seconds": 0})
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert "Source src is being loaded by another DataWarp process" in outcome.error
    assert not table_exists(conn, "staging.tbl_src")
    again, _ = run(db_url, home, manifest)
    assert again.outcomes[0].status == "completed"


def test_a_quote_never_closed_fails_naming_its_line_and_loads_nothing(conn, db_url, tmp_path, home):
    lines = ["Org Code,Attendances,Note"] + [f"R{i:04d},{i},ok" for i in range(2000)]
    lines[1500] = 'R1499,1499,"never closed'
    data = tmp_path / "open_quote.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report, _ = _load_one(conn, db_url, tmp_path, home, data)
    _assert_failed_cleanly(conn, "src", report, "open_quote.csv", "line 1501", "never closed")


def test_an_unexpected_failure_keeps_its_traceback_for_verbose(
    conn, db_url, tmp_path, home, monkeypatch
):
    from datawarp.pipeline import steps

    def broken_copy(*args, **kwargs):
        raise RuntimeError("disk said no")

    monkeypatch.setattr(steps, "copy_table", broken_copy)
    register(conn, "src")
    conn.commit()
    data = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "src", "path": data.name}])
    env = {"DATAWARP_HOME": str(home)}

    quiet = run_cli("load-batch", str(manifest), database_url=db_url, env=env)
    assert quiet.exit_code == 1 and "RuntimeError: disk said no" in quiet.stdout
    assert "Traceback" not in quiet.stdout + quiet.stderr
    (event,) = events(conn, "src")
    detail = conn.execute(
        "SELECT error_detail FROM datawarp.tbl_load_events WHERE load_id = %s",
        (event["load_id"],),
    ).fetchone()[0]
    assert detail.startswith("Traceback") and "broken_copy" in detail

    shown = run_cli("--verbose", "loads", "failed", database_url=db_url, env=env)
    assert shown.exit_code == 0, shown.stderr
    assert (
        f"traceback of load {event['load_id']}:" in shown.stdout and "broken_copy" in shown.stdout
    )
    again = run_cli("--verbose", "load-batch", str(manifest), "--force", database_url=db_url,
                    env=env)  # fmt: skip
    assert again.exit_code == 1 and "broken_copy" in again.stderr


def test_a_file_wider_than_a_table_can_be_fails_with_the_count(conn, db_url, tmp_path, home):
    header = ["Org Code"] + [f"Measure {i}" for i in range(1600)]
    data = write_csv(tmp_path / "wide.csv", header, [["R1", *range(1600)], ["R2", *range(1600)]])
    report, _ = _load_one(conn, db_url, tmp_path, home, data)
    room = 1600 - len(PROVENANCE_COLUMNS)  # PostgreSQL's limit less DataWarp's own columns
    _assert_failed_cleanly(conn, "src", report, "wide.csv would need 1,601 columns", f"{room:,}")


def test_a_primary_key_the_file_lacks_fails_before_any_row_moves(conn, db_url, tmp_path, home):
    data = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    report, _ = _load_one(conn, db_url, tmp_path, home, data, primary_key=["org_id", "period"])
    _assert_failed_cleanly(conn, "src", report, "primary_key names org_id", "a.csv does not have")
