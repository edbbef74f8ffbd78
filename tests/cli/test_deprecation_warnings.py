"""Every command that names a deprecated source says so, on stderr (stdout stays for JSON)."""

from __future__ import annotations

import pytest

from datawarp.core.settings import Settings
from datawarp.ops.lifecycle import deprecate
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest


@pytest.fixture
def deprecated_source(conn, db_url, tmp_path, home):
    register(conn, "ae")
    conn.commit()
    path = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": path.name}]))
    deprecate(conn, "ae", "replaced by ae_v2", Settings(database_url=db_url, home=home))
    conn.commit()
    return "ae"


@pytest.mark.parametrize(
    "command",
    [
        ["sources", "show", "ae"],
        ["update", "ae", "--purpose", "Still loaded for now"],
        ["validate", "ae"],
        ["describe", "ae", "org_code", "ODS code of the provider"],
    ],
    ids=lambda command: command[0],
)
def test_a_deprecated_source_is_named_as_such(deprecated_source, db_url, command):
    result = run_cli(*command, database_url=db_url)
    assert result.exit_code in (0, 1), result.stderr  # validate exits 1 on a failed gate
    assert "Warning: source ae is deprecated (replaced by ae_v2)" in result.stderr
