"""`datawarp inspect` shows every column name whole, beside its original header."""

from __future__ import annotations

import json

import pytest

from datawarp.pipeline.inspect import open_table
from tests.cli_helpers import run_cli

RTT = "rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx"


@pytest.mark.samples
@pytest.mark.parametrize("width", ["80", "200"])
def test_names_are_never_cut_whatever_the_terminal_width(nhs_samples, tmp_path, width):
    path = str(nhs_samples / RTT)
    home = tmp_path / "home"
    result = run_cli("inspect", path, env={"DATAWARP_HOME": str(home), "COLUMNS": width})
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout
    lines = [line.strip(" │") for line in result.stdout.splitlines()]
    words = {word for line in lines for word in line.replace("│", " ").split()}
    columns = open_table(path, cache_dir=home).columns
    assert {column.name for column in columns} <= words
    assert "Non-Admitted RTT pathways | No. > 52 weeks" in " ".join(result.stdout.split())


AE_2024 = "ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls"


@pytest.mark.samples
def test_inspect_and_load_batch_list_the_same_sheets(nhs_samples, tmp_path, conn, db_url):
    from tests.pipeline.helpers import register, write_manifest

    path = str(nhs_samples / AE_2024)
    env = {"DATAWARP_HOME": str(tmp_path / "home")}
    result = run_cli("inspect", path, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sheet"] == "Activity" and report["sheet_ambiguous"]
    summaries = [candidate["summary"] for candidate in report["sheet_candidates"]]
    assert [c["name"] for c in report["sheet_candidates"]] == ["Activity", "Performance", "Booking"]
    assert [c["rows"] for c in report["sheet_candidates"]] == [162, 159, 42]

    register(conn, "ae")
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": path, "period": "none"}])
    loaded = run_cli("load-batch", str(manifest), database_url=db_url, env=env)
    assert loaded.exit_code == 1
    (line,) = [line for line in loaded.stdout.splitlines() if "sheets holding tables" in line]
    assert "; ".join(summaries) in line and line.endswith("(e.g. sheet: Activity)")
    assert "; ".join(summaries) in report["warnings"][0]

    shown = run_cli("inspect", path, env={**env, "COLUMNS": "250"})
    text = " ".join(shown.stdout.split())
    for candidate in report["sheet_candidates"]:
        assert " ".join(candidate["detail"].split()) in text
    assert "(the first of 3 sheets holding tables: a load needs sheet: NAME" in text


@pytest.mark.samples
def test_inspect_sheet_names_one_and_must_exist(nhs_samples, tmp_path):
    path = str(nhs_samples / AE_2024)
    env = {"DATAWARP_HOME": str(tmp_path / "home")}
    result = run_cli("inspect", path, "--sheet", "Booking", "--json", env=env)
    report = json.loads(result.stdout)
    assert (report["sheet"], report["row_count"], report["sheet_candidates"]) == ("Booking", 42, [])
    assert not report["sheet_ambiguous"] and not report["warnings"]
    missing = run_cli("inspect", path, "--sheet", "Bookings", env=env)
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1
    assert missing.stderr.startswith("Error: Sheet 'Bookings' not found in")
    assert "'Activity', 'Performance', 'Booking'" in missing.stderr


@pytest.mark.samples
def test_inspect_fill_down_previews_the_manifest_key(nhs_samples, tmp_path):
    path = str(nhs_samples / RTT)
    env = {"DATAWARP_HOME": str(tmp_path / "home")}
    result = run_cli("inspect", path, "--fill-down", "year", "--json", env=env)
    report = json.loads(result.stdout)
    assert report["filled_down"] == {"year": 176}
    assert report["columns"][0]["null_count"] == 0
    shown = run_cli("inspect", path, "--fill-down", "year,month", env=env)
    assert "Filled down (empty cells that took the value above): year 176, month 0" in shown.stdout
    unknown = run_cli("inspect", path, "--fill-down", "Year", env=env)
    assert unknown.exit_code == 2 and unknown.stderr.count("\n") == 1
    assert "fill_down names Year" in unknown.stderr and "is called year" in unknown.stderr
