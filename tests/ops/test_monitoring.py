"""The dashboards and `datawarp health`, on real loads, against the catalog's own numbers."""

from __future__ import annotations

import json

from datawarp.core.monitoring_settings import MonitoringSettings
from datawarp.ops.monitoring import all_dashboards
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest


def _loads(conn, db_url, tmp_path, home) -> None:
    """Two completed monthly loads and one failed file for source ae."""
    register(conn, "ae")
    conn.commit()
    for period in ("2025-08", "2025-09"):
        path = write_csv(tmp_path / f"{period}.csv", HEADER, provider_rows(period))
        run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": path.name}],
                                         period=period))  # fmt: skip
    (tmp_path / "bad.xlsx").write_bytes(b"not a workbook")
    run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": "bad.xlsx"}],
                                     period="2025-10"))  # fmt: skip


def test_dashboards_agree_with_the_catalog(conn, db_url, tmp_path, home):
    _loads(conn, db_url, tmp_path, home)
    completed, failed = conn.execute(
        "SELECT count(*) FILTER (WHERE load_status = 'completed'),"
        " count(*) FILTER (WHERE load_status IN ('failed', 'rolled_back'))"
        " FROM datawarp.tbl_load_events"
    ).fetchone()
    rows = conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0]

    boards = {b.name: b for b in all_dashboards(conn, MonitoringSettings())}

    load = boards["load"]
    assert (load.summary["completed"], load.summary["failed"]) == (completed, failed) == (2, 1)
    assert load.summary["success_rate"] == round(100 * 2 / 3, 1)
    (failure,) = load.panels["failed_loads"]
    assert failure["source_code"] == "ae" and failure["error_message"]
    (fresh,) = boards["freshness"].panels["sources"]
    assert fresh["cadence"] == "monthly" and fresh["last_period"] == "2025-09"
    assert fresh["next_period"] == "2025-10" and not fresh["stale"]
    (table,) = boards["storage"].panels["largest_tables"]
    assert table["table_name"] == "tbl_ae" and table["total_bytes"] > 0
    (growth,) = boards["storage"].panels["row_growth"]
    assert growth["rows_now"] == rows
    (schema,) = boards["schema"].panels["sources"]
    assert schema["tables_created"] == 1


def test_health_prints_every_dashboard_and_json_for_scripts(conn, db_url, tmp_path, home):
    _loads(conn, db_url, tmp_path, home)

    shown = run_cli("health", database_url=db_url)
    assert shown.exit_code == 0, shown.stderr
    for title in ("Load health", "Data freshness", "Storage and growth", "Schema evolution"):
        assert title in shown.stdout
    data = json.loads(run_cli("health", "load", "--days", "30", "--json",
                              database_url=db_url).stdout)  # fmt: skip
    (board,) = data["dashboards"]
    assert board["name"] == "load" and board["days"] == 30
    assert board["summary"]["loads"] == 3


def test_health_refuses_a_window_out_of_range(db_url):
    result = run_cli("health", "load", "--days", "0", database_url=db_url)
    assert result.exit_code == 2 and "Invalid --days 0" in result.stderr
