"""Loads of one source are serialised, of different sources run side by side; a killed loader
leaves no rows and a failed event."""

from __future__ import annotations

import signal
import subprocess

from datawarp.catalog.database import database_for_url, make_ready
from datawarp.catalog.loads import SERIALISE_LOCK
from datawarp.demo.samplegen import write_large_csv
from tests.pipeline.helpers import (
    HEADER,
    events,
    provider_manifest,
    provider_rows,
    register,
    table_rows,
    write_csv,
    write_manifest,
)
from tests.pipeline.loaders import DEADLINE_SECONDS, count, start_loader, wait_for


def test_concurrent_loads_of_one_source_run_one_after_the_other(conn, db_url, tmp_path):
    register(conn, "ae", load_mode="REPLACE")
    conn.commit()
    manifest = provider_manifest(tmp_path, "ae", period="2025-09")
    with conn.transaction():
        conn.execute(f"SELECT pg_advisory_xact_lock({SERIALISE_LOCK})", ("ae",))
        loaders = [start_loader(db_url, manifest) for _ in range(2)]
        wait_for(
            lambda: count(
                conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ) == 2,
            "both loaders to queue on the source lock",
            loaders,
        )  # fmt: skip
    outputs = [loader.communicate(timeout=DEADLINE_SECONDS) for loader in loaders]
    assert [loader.returncode for loader in loaders] == [0, 0], outputs
    statuses = sorted(out.decode().split()[0] for out, _ in outputs)
    assert statuses == ["COMPLETED", "SKIPPED"]  # the second saw the first's load after waiting
    assert len(table_rows(conn, "staging.tbl_ae")) == 13
    assert [e["load_status"] for e in events(conn, "ae")] == ["completed"]


def test_killed_loader_leaves_no_rows_and_its_event_ends_failed(conn, raw_conn, db_url, tmp_path):
    # statistics views are snapshotted per transaction: poll on an autocommit connection
    register(conn, "big")
    conn.commit()
    data = write_large_csv(tmp_path / "big.csv", 400_000)
    manifest = write_manifest(
        tmp_path, [{"source_code": "big", "path": data.name}], period="2025-09"
    )
    loader = start_loader(db_url, manifest)
    dbname = conn.info.dbname
    # pg_stat_activity keeps a session's last statement while it is idle in its transaction,
    # so this sees the load from its first COPY batch until it commits.
    wait_for(
        lambda: count(
            raw_conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND state IN ('active', 'idle in transaction')"
            " AND query LIKE 'COPY \"staging\".\"tbl_big\"%%'", dbname,
        ) > 0,
        "the COPY to be under way",
        [loader],
    )  # fmt: skip
    loader.send_signal(signal.SIGKILL)
    loader.wait()
    (event,) = events(raw_conn, "big")
    assert event["load_status"] == "in_progress"
    wait_for(
        lambda: count(
            raw_conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND application_name = 'datawarp' AND pid <> %s", dbname, conn.info.backend_pid,
        ) == 0,
        "the server to end the killed loader's sessions",
    )  # fmt: skip
    readiness = make_ready(database_for_url(db_url))  # what every next writing command does
    assert readiness.interrupted_loads == [event["load_id"]]
    (event,) = events(raw_conn, "big")
    assert event["load_status"] == "failed" and event["interrupted"] is True
    assert "interrupted" in event["error_message"]
    # the CREATE TABLE was rolled back with the rows: nothing of the load remains
    assert raw_conn.execute("SELECT to_regclass('staging.tbl_big')").fetchone()[0] is None


def _periods_manifest(folder, code: str, period: str):
    folder.mkdir(parents=True, exist_ok=True)
    data = write_csv(folder / f"{period}.csv", HEADER, provider_rows(period))
    return write_manifest(folder, [{"source_code": code, "path": data.name}], period=period)


def _finish(loaders: list[subprocess.Popen]) -> list[str]:
    outputs = [loader.communicate(timeout=DEADLINE_SECONDS) for loader in loaders]
    assert [loader.returncode for loader in loaders] == [0] * len(loaders), outputs
    return [out.decode().split()[0] for out, _ in outputs]


def test_six_loads_of_one_source_each_land_once(conn, db_url, tmp_path):
    """Six periods of one APPEND source at once: six loads, each period's rows exactly once."""
    register(conn, "ae")
    conn.commit()
    periods = [f"2025-{month:02d}" for month in range(1, 7)]
    loaders = [start_loader(db_url, _periods_manifest(tmp_path / p, "ae", p)) for p in periods]
    assert _finish(loaders) == ["COMPLETED"] * 6
    counts = conn.execute(
        "SELECT _period, count(*), count(DISTINCT _load_id) FROM staging.tbl_ae GROUP BY 1"
        " ORDER BY 1"
    ).fetchall()
    assert counts == [(p, 13, 1) for p in periods]
    assert [e["load_status"] for e in events(conn, "ae")] == ["completed"] * 6


def test_six_sources_load_at_once_without_conflict(conn, db_url, tmp_path):
    codes = [f"src{index}" for index in range(6)]
    for code in codes:
        register(conn, code)
    conn.commit()
    loaders = [start_loader(db_url, _periods_manifest(tmp_path / c, c, "2025-09")) for c in codes]
    assert _finish(loaders) == ["COMPLETED"] * 6
    for code in codes:
        assert len(table_rows(conn, f"staging.tbl_{code}")) == 13
        assert [e["load_status"] for e in events(conn, code)] == ["completed"]
