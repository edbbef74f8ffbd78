"""load-batch and inspect from the command line: exit codes, one-line errors, the report."""

from __future__ import annotations

from tests.cli_helpers import run_cli
from tests.pipeline.helpers import (
    provider_manifest,
    register,
)


def test_yaml_syntax_error_exits_2_naming_the_line(db_url, tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("sources:\n  - source_code: a\n    files: [ {path: x.csv\n")
    result = run_cli("load-batch", str(manifest), database_url=db_url)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {manifest}:4:")
    assert "YAML syntax error" in result.stderr and result.stderr.count("\n") == 1


def test_several_manifest_problems_one_line_each(db_url, tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("sources:\n  - source_code: A\n    path: x.csv\n    bogus: 1\n")
    result = run_cli("load-batch", str(manifest), database_url=db_url)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"Error: {manifest}:") for line in lines)


def test_load_prints_the_validation_report_and_verbose_details(conn, db_url, tmp_path):
    register(conn, "ae")
    manifest = provider_manifest(tmp_path, "ae", period="2025-09")
    result = run_cli("load-batch", str(manifest), "--verbose", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("COMPLETED ae [2025-09]:")
    assert "  ✓ Row count: 13 (first load of this kind of period)" in lines
    assert "  ✓ Schema: 5 columns (new table)" in lines
    assert "  ✓ Data quality: No NULL columns, 0 duplicate rows" in lines
    assert any(
        line.startswith("detail: ae 2025-09 sheet=a target=staging.tbl_ae") for line in lines
    )
    assert lines[-1] == "1 file(s): 1 completed; 13 rows loaded"


def test_inspect_html_saved_as_spreadsheet_is_one_line(tmp_path):
    page = tmp_path / "Monthly-AE.xls"
    page.write_text("<html><body>Moved</body></html>")
    result = run_cli("inspect", str(page), env={"DATAWARP_HOME": str(tmp_path / "home")})
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "HTML page" in result.stderr
    assert result.stderr.count("\n") == 1
