"""Deprecation, the candidates for it, and retention: on real loads, with the clock injected."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from datawarp.catalog import audit
from datawarp.core.clock import FixedClock
from datawarp.ops.archive_store import ArchiveStore
from datawarp.ops.lifecycle import candidates, sample_usage
from datawarp.ops.retention import apply_retention
from tests.cli_helpers import run_cli
from tests.ops.test_archive import load_source, settings_for
from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest

TODAY = datetime.now(UTC).date()


def _env(home: Path, tmp_path: Path) -> dict[str, str]:
    return {"DATAWARP_HOME": str(home),
            "DATAWARP_LIFECYCLE": json.dumps({"archive_path": str(tmp_path / "pq")})}  # fmt: skip


def _comment(conn, table: str) -> str | None:
    query = "SELECT obj_description(to_regclass(%s), 'pg_class')"
    return conn.execute(query, (table,)).fetchone()[0]


def test_deprecate_and_undeprecate(conn, db_url, tmp_path, home):
    load_source(conn, db_url, tmp_path, home)
    env = _env(home, tmp_path)
    day = TODAY + timedelta(days=10)

    result = run_cli("deprecate", "ae", "--reason", "Replaced by ae_v2", "--archive-date",
                     f"{day}", "--json", database_url=db_url, env=env)  # fmt: skip

    assert result.exit_code == 0, result.stderr
    row = conn.execute("SELECT status, deprecation_reason, deprecated_at, archive_after"
                       " FROM datawarp.tbl_data_sources WHERE source_code = 'ae'").fetchone()  # fmt: skip
    assert row[0:2] == ("deprecated", "Replaced by ae_v2") and row[2] and row[3] == day
    comment = _comment(conn, "staging.tbl_ae")
    assert "DEPRECATED" in comment and "Replaced by ae_v2" in comment and str(day) in comment
    assert [c.new_status for c in audit.status_history(conn, "ae")][-1] == "deprecated"
    assert conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0] == 26  # queryable
    listed = run_cli("sources", "list", database_url=db_url, env=env)
    assert "DEPRECATED" in listed.stdout
    shown = run_cli("sources", "show", "ae", database_url=db_url, env=env)
    assert shown.exit_code == 0 and "Warning: source ae is deprecated (Replaced by ae_v2)" in (
        shown.stderr
    )

    back = run_cli("undeprecate", "ae", database_url=db_url, env=env)

    assert back.exit_code == 0, back.stderr
    row = conn.execute("SELECT status, deprecation_reason, deprecated_at, archive_after"
                       " FROM datawarp.tbl_data_sources WHERE source_code = 'ae'").fetchone()  # fmt: skip
    assert row == ("active", None, None, None)
    assert _comment(conn, "staging.tbl_ae") is None
    assert run_cli("sources", "show", "ae", database_url=db_url, env=env).stderr == ""


def test_deprecation_refusals_are_one_line_and_write_nothing(conn, db_url, tmp_path, home):
    load_source(conn, db_url, tmp_path, home)
    env = _env(home, tmp_path)
    cases = [
        (["deprecate", "ae", "--reason", "Old", "--archive-date", f"{TODAY - timedelta(days=1)}"],
         "is in the past"),
        (["deprecate", "ae", "--reason", "  "], "say why"),
        (["deprecate", "nope", "--reason", "Old"], "'nope' is not registered"),
        (["undeprecate", "ae"], "ae is active; only an deprecated source can be undeprecated"),
    ]  # fmt: skip
    for args, message in cases:
        result = run_cli(*args, database_url=db_url, env=env)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1
    status = conn.execute("SELECT status, deprecated_at FROM datawarp.tbl_data_sources").fetchone()
    assert status == ("active", None) and _comment(conn, "staging.tbl_ae") is None


def _monthly_history(conn, raw_conn, db_url, tmp_path, home) -> None:
    """Four monthly editions, each first loaded ten days after its month began."""
    load_source(conn, db_url, tmp_path, home, "ae", ("2025-06", "2025-07", "2025-08", "2025-09"))
    raw_conn.execute("UPDATE datawarp.tbl_source_periods"
                     " SET first_loaded_at = period_start + interval '10 days'")  # fmt: skip


def test_a_stopped_publication_is_a_candidate(conn, raw_conn, db_url, tmp_path, home):
    _monthly_history(conn, raw_conn, db_url, tmp_path, home)
    settings = settings_for(db_url, home)
    # Next edition expected by 2025-10-01 + 10 days' lag + 7 days' grace; the third by +60 days.
    on_time = candidates(conn, settings, FixedClock(datetime(2025, 12, 1, tzinfo=UTC)))
    stopped = candidates(conn, settings, FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))

    assert on_time == []
    (candidate,) = stopped
    assert candidate.source_code == "ae" and candidate.owner == "owner@nhs.net"
    assert candidate.reasons == [
        "publication stopped: no period after 2025-09 (monthly); 3 editions missed,"
        " the last due by 2025-12-17"
    ]


def _settled_statistics(raw_conn) -> None:
    """Backends report reads within a second or so; wait until the loader's have arrived."""
    query = "SELECT seq_scan, idx_scan, seq_tup_read FROM pg_stat_user_tables WHERE relname = %s"
    seen = None
    while (now := raw_conn.execute(query, ("tbl_ae",)).fetchone()) != seen:
        seen = now
        time.sleep(1.2)


def test_a_table_nobody_reads_is_a_candidate(conn, raw_conn, db_url, tmp_path, home):
    load_source(conn, db_url, tmp_path, home)
    settings = settings_for(db_url, home)
    _settled_statistics(raw_conn)
    now = datetime.now(UTC)
    for days_ago in (100, 50, 0):
        assert sample_usage(conn, FixedClock(now - timedelta(days=days_ago))) >= 1
    conn.commit()

    (candidate,) = candidates(conn, settings, FixedClock(now))
    assert candidate.reasons == ["unused: no reads of its table in 90 days"]
    shown = run_cli("lifecycle", "candidates", "--json", database_url=db_url,
                    env=_env(home, tmp_path))  # fmt: skip
    assert shown.exit_code == 0 and json.loads(shown.stdout) == [
        {"source_code": "ae", "owner": "owner@nhs.net", "reasons": candidate.reasons}
    ]

    raw_conn.execute("SELECT count(*) FROM staging.tbl_ae")
    raw_conn.execute("SELECT pg_stat_force_next_flush()")
    raw_conn.execute("SELECT 1")  # the flush happens at the end of the next statement
    sample_usage(conn, FixedClock(now + timedelta(days=1)))
    assert candidates(conn, settings, FixedClock(now + timedelta(days=1))) == []


def test_retention_across_three_periods(conn, db_url, tmp_path, home):
    register(conn, "ae", retention_days=60)
    conn.commit()
    for period in ("2025-01", "2025-02", "2025-03"):
        path = write_csv(tmp_path / f"{period}.csv", HEADER, provider_rows(period))
        run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": path.name}],
                                         period=period))  # fmt: skip
    settings = settings_for(db_url, home)
    store = ArchiveStore.at(str(tmp_path / "pq"))
    clock = FixedClock(datetime(2025, 5, 15, tzinfo=UTC))  # keeps what ended on or after 03-16

    (dry,) = apply_retention(conn, store, settings, dry_run=True, clock=clock)
    assert [(p["period"], p["row_count"]) for p in dry.periods] == [
        ("2025-01", 13),
        ("2025-02", 13),
    ]
    assert all(p["bytes"] > 0 for p in dry.periods) and not dry.moved
    assert conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0] == 39
    assert not (tmp_path / "pq").exists()

    (report,) = apply_retention(conn, store, settings, source="ae", clock=clock)

    assert report.moved and report.cutoff == date(2025, 3, 16)
    left = conn.execute("SELECT DISTINCT _period FROM staging.tbl_ae").fetchall()
    assert left == [("2025-03",)]
    archived = conn.execute("SELECT kind, period, row_count, path FROM datawarp.tbl_archives"
                            " ORDER BY period").fetchall()  # fmt: skip
    assert [row[:3] for row in archived] == [("retention", "2025-01", 13),
                                             ("retention", "2025-02", 13)]  # fmt: skip
    for _, period, rows, path in archived:
        table = pq.read_table(path)
        assert table.num_rows == rows and set(table.column("_period").to_pylist()) == {period}
        history = json.loads(table.schema.metadata[b"datawarp.load_history"])
        assert [h["period"] for h in history] == [period]

    (again,) = apply_retention(conn, store, settings, source="ae", clock=clock)
    assert not again.periods and "no period ended before 2025-03-16" in again.note


def test_retention_of_rows_without_a_period_and_of_a_source_with_none(conn, db_url, tmp_path, home):
    register(conn, "ae", retention_days=30)
    conn.commit()
    path = write_csv(tmp_path / "a.csv", HEADER[1:], [r[1:] for r in provider_rows("x")])
    run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": path.name}]))
    settings = settings_for(db_url, home)
    store = ArchiveStore.at(str(tmp_path / "pq"))

    result = run_cli("retention", "apply", "--source", "ae", database_url=db_url,
                     env=_env(home, tmp_path))  # fmt: skip
    assert result.exit_code == 0 and "no period ended before" in result.stdout
    assert conn.execute("SELECT count(*) FROM datawarp.tbl_archives").fetchone()[0] == 0

    later = FixedClock(datetime.now(UTC) + timedelta(days=31))
    (report,) = apply_retention(conn, store, settings, source="ae", clock=later)

    assert report.moved and [p["period"] for p in report.periods] == [None]
    assert conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0] == 0
    kind, period, rows = conn.execute(
        "SELECT kind, period, row_count FROM datawarp.tbl_archives"
    ).fetchone()
    assert (kind, period, rows) == ("retention", None, 13)
    unknown = run_cli("retention", "apply", "--source", "nope", database_url=db_url,
                      env=_env(home, tmp_path))  # fmt: skip
    assert unknown.exit_code == 2 and "'nope' is not registered" in unknown.stderr
