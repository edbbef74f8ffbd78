"""A loader killed at any write of its transaction leaves no rows, no table it created, no
notification it meant to send, and an event the next command marks failed.

Each kill point is reached deterministically: the test holds an EXCLUSIVE lock on one of the
catalog tables the load writes after its COPY (reads still pass), waits until the loader's
session is queued on it, and sends SIGKILL.
"""

from __future__ import annotations

import signal

import pytest

from datawarp.catalog.database import database_for_url, make_ready
from datawarp.demo.samplegen import write_large_csv
from tests.pipeline.helpers import events, register, table_exists, write_manifest
from tests.pipeline.loaders import count, start_loader, wait_for

# The catalog tables a load writes inside its own transaction, each a point to die at.
KILL_POINTS = [
    "datawarp.tbl_column_metadata",
    "datawarp.tbl_validation_results",
    "datawarp.tbl_source_metrics",
    "datawarp.tbl_source_periods",
]


ROWS = 20_000


def _killed_at(conn, raw_conn, db_url, tmp_path, table: str) -> None:
    """Start a load of ROWS rows, kill it while it waits to write ``table``, and wait until
    the server has ended its sessions."""
    register(conn, "big")
    conn.commit()
    data = write_large_csv(tmp_path / "big.csv", ROWS)
    manifest = write_manifest(
        tmp_path, [{"source_code": "big", "path": data.name}], period="2025-09"
    )
    with conn.transaction():
        conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # noqa: S608 - fixed names
        loader = start_loader(db_url, manifest)
        wait_for(
            lambda: count(raw_conn, "SELECT count(*) FROM pg_locks"
                           " WHERE relation = %s::regclass AND NOT granted", table) > 0,
            f"the loader to queue on {table}",
            [loader],
        )  # fmt: skip
        loader.send_signal(signal.SIGKILL)
        loader.wait()
    wait_for(
        lambda: count(
            raw_conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND application_name = 'datawarp' AND pid <> %s",
            conn.info.dbname, conn.info.backend_pid,
        ) == 0,
        "the server to end the killed loader's sessions",
    )  # fmt: skip


@pytest.mark.parametrize("table", KILL_POINTS)
def test_a_loader_killed_while_writing_leaves_nothing(conn, raw_conn, db_url, tmp_path, table):
    _killed_at(conn, raw_conn, db_url, tmp_path, table)
    (event,) = events(raw_conn, "big")
    announced = raw_conn.execute(
        "SELECT count(*) FROM datawarp.tbl_notifications WHERE load_id = %s", (event["load_id"],)
    ).fetchone()[0]
    assert announced == 0  # the outbox rows were in the transaction that died
    assert make_ready(database_for_url(db_url)).interrupted_loads == [event["load_id"]]
    (event,) = events(raw_conn, "big")
    assert event["load_status"] == "failed" and event["interrupted"] is True
    assert not table_exists(raw_conn, "staging.tbl_big")  # created by the load: rolled back
    metadata = raw_conn.execute(
        "SELECT count(*) FROM datawarp.tbl_column_metadata WHERE source_code = 'big'"
    ).fetchone()[0]
    assert metadata == 0
    status = raw_conn.execute(
        "SELECT status FROM datawarp.tbl_data_sources WHERE source_code = 'big'"
    ).fetchone()[0]
    assert status == "registered"  # activation rolled back with the rows


def test_a_loader_killed_after_its_commit_keeps_the_load(conn, raw_conn, db_url, tmp_path):
    """The batch's alerts are written after the load commits: dying there loses nothing."""
    _killed_at(conn, raw_conn, db_url, tmp_path, "datawarp.tbl_notifications")
    assert make_ready(database_for_url(db_url)).interrupted_loads == []
    (event,) = events(raw_conn, "big")
    assert (event["load_status"], event["rows_loaded"]) == ("completed", ROWS)
    count = raw_conn.execute("SELECT count(*) FROM staging.tbl_big").fetchone()[0]
    assert count == ROWS
