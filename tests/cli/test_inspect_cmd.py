"""`datawarp inspect` shows every column name whole, beside its original header."""

from __future__ import annotations

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
