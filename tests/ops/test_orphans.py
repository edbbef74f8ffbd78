"""Orphans made by hand in psql, ghosts, the one-time DBA notification, adopt and archive."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq

from datawarp.ops.archive_store import ArchiveStore
from datawarp.ops.orphans import adopt, archive_name, archive_orphan, find_orphans
from tests.cli_helpers import run_cli
from tests.ops.test_archive import load_source, settings_for
from tests.pipeline.helpers import HEADER, provider_rows, run, write_csv, write_manifest

HAND_MADE = "CREATE TABLE staging.scratch_copy AS SELECT g AS id, 'row ' || g AS label" \
            " FROM generate_series(1, 50) g"  # fmt: skip


def _notifications(conn) -> list[tuple]:
    conn.commit()  # find_orphans runs in its own transaction, not inside one the test left open
    return conn.execute("SELECT kind, recipient, subject, body FROM datawarp.tbl_notifications"
                        " ORDER BY notification_id").fetchall()  # fmt: skip


def test_a_table_made_in_psql_is_found_with_its_creator_and_told_once(conn, raw_conn):
    who = raw_conn.execute("SELECT session_user").fetchone()[0]
    before = datetime.now(UTC)
    raw_conn.execute(HAND_MADE)

    report = find_orphans(conn)

    assert report.ddl_log_installed
    (orphan,) = report.orphans
    assert (orphan.schema_name, orphan.table_name) == ("staging", "scratch_copy")
    assert before - timedelta(seconds=5) <= orphan.created_at <= datetime.now(UTC)
    assert (orphan.created_by, orphan.application_name) == (who, "psql")
    assert orphan.row_count == 50 and orphan.total_bytes > 0
    assert report.newly_seen == ["staging.scratch_copy"]
    ((kind, recipient, subject, body),) = _notifications(conn)
    assert (kind, recipient, subject) == ("orphan", "dba", "Orphan table staging.scratch_copy")
    assert f"by {who}" in body and "datawarp orphans adopt staging.scratch_copy" in body

    again = find_orphans(conn)
    assert again.newly_seen == [] and len(_notifications(conn)) == 1
    conn.commit()
    raw_conn.execute("DROP TABLE staging.scratch_copy")
    raw_conn.execute(HAND_MADE)  # a new table under the old name is news again
    assert find_orphans(conn).newly_seen == ["staging.scratch_copy"]


def test_clues_ghosts_and_a_missing_ddl_log(conn, raw_conn, db_url, tmp_path, home):
    path = write_csv(tmp_path / "draft.csv", HEADER, provider_rows("2025-09"))
    run(db_url, home, write_manifest(tmp_path, [{"source_code": "draft", "path": path.name}],
                                     period="2025-09"), test=True)  # fmt: skip
    load_source(conn, db_url, tmp_path, home, "ae")
    raw_conn.execute("DROP TABLE staging.tbl_ae")
    raw_conn.execute("ALTER EVENT TRIGGER datawarp_ddl_log DISABLE")  # as without a superuser
    raw_conn.execute("CREATE TABLE staging.tbl_draft AS SELECT * FROM staging_test.tbl_draft")

    result = run_cli("orphans", "--json", database_url=db_url)

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert not report["ddl_log_installed"]
    (orphan,) = report["orphans"]
    assert orphan["table_name"] == "tbl_draft" and orphan["row_count"] == 13
    assert orphan["created_at"] is None and orphan["created_by"] is None
    assert orphan["clues"][0].startswith("1 load(s) of source draft into a table of this name"
                                         " in staging_test")  # fmt: skip
    (ghost,) = report["ghosts"]
    assert ghost["source_code"] == "ae" and ghost["table_name"] == "staging.tbl_ae"
    assert ghost["dropped_at"] and ghost["dropped_by"]
    shown = run_cli("orphans", database_url=db_url)
    assert "tbl_draft" in shown.stdout and "no DDL log" in shown.stdout


def test_adopt_registers_and_renames_in_one_transaction(conn, raw_conn, db_url):
    raw_conn.execute(HAND_MADE)

    record = adopt(conn, "staging.scratch_copy", "scratch", owner="dba@nhs.net",
                   purpose="Kept extract", publication="Scratch", domain="Ops")  # fmt: skip
    conn.commit()

    assert record.status == "active"
    assert conn.execute("SELECT count(*) FROM staging.tbl_scratch").fetchone()[0] == 50
    assert conn.execute("SELECT to_regclass('staging.scratch_copy')").fetchone()[0] is None
    assert find_orphans(conn).orphans == []


def test_adopt_refusals_are_one_line_and_write_nothing(conn, raw_conn, db_url, tmp_path, home):
    raw_conn.execute(HAND_MADE)
    load_source(conn, db_url, tmp_path, home, "ae")
    args = ["--owner", "dba@nhs.net", "--purpose", "Kept", "--publication", "P", "--domain", "D"]
    cases = [
        (["staging.scratch_copy", "--as", "Bad-Code"], "Invalid source code 'Bad-Code'"),
        (["staging.scratch_copy", "--as", "ae"], "'ae' is already registered"),
        (["staging.tbl_ae", "--as", "ae2"], "is not an orphan"),
        (["staging.nothing", "--as", "nothing"], "does not exist"),
        (["public.scratch_copy", "--as", "x"], "orphans are tables in staging"),
    ]
    for target, message in cases:
        result = run_cli("orphans", "adopt", *target, *args, database_url=db_url)
        assert result.exit_code == 2 and message in result.stderr, (target, result.stderr)
        assert result.stderr.count("\n") == 1
    sources = conn.execute("SELECT source_code FROM datawarp.tbl_data_sources").fetchall()
    assert sources == [("ae",)]
    assert conn.execute("SELECT count(*) FROM staging.scratch_copy").fetchone()[0] == 50


def test_archive_an_orphan(conn, raw_conn, db_url, tmp_path, home):
    raw_conn.execute(HAND_MADE)
    store = ArchiveStore.at(str(tmp_path / "pq"))

    record = archive_orphan(conn, "scratch_copy", store, settings_for(db_url, home))

    day = datetime.now(UTC).date()
    assert record["kind"] == "orphan" and record["source_code"] is None
    assert record["archive_table"] == f"archive.scratch_copy_archived_{day:%Y%m%d}"
    assert record["path"].endswith(f"/orphans/scratch_copy_archived_{day:%Y%m%d}.parquet")
    assert pq.read_table(record["path"]).sort_by("id").column("label").to_pylist()[:2] == [
        "row 1", "row 2",
    ]  # fmt: skip
    assert conn.execute(f"SELECT count(*) FROM {record['archive_table']}").fetchone()[0] == 50  # noqa: S608
    assert find_orphans(conn).orphans == []


def test_an_empty_orphan_is_archived_and_verified_through_the_database(conn, raw_conn, db_url,
                                                                      tmp_path, home):  # fmt: skip
    """Its file has no row group: read back both ways, it is an empty table of the same types."""
    raw_conn.execute("CREATE TABLE staging.scratch_empty (id integer, rate numeric(5,3))")
    store = ArchiveStore.at(str(tmp_path / "pq"))

    record = archive_orphan(conn, "scratch_empty", store,
                            settings_for(db_url, home, verify="database"))  # fmt: skip

    assert record["row_count"] == 0
    parquet = pq.ParquetFile(record["path"])
    assert parquet.metadata.num_row_groups == 0 and parquet.metadata.num_rows == 0
    assert [str(t) for t in parquet.schema_arrow.types] == ["int32", "decimal128(5, 3)"]
    assert conn.execute(f"SELECT count(*) FROM {record['archive_table']}").fetchone()[0] == 0  # noqa: S608


def test_archive_names_fit_postgresql():
    long = "é" * 40  # 80 bytes
    name = archive_name(long, datetime(2025, 1, 2))
    assert len(name.encode()) <= 63 and name.endswith("_archived_20250102")


def test_orphans_archive_from_the_cli(raw_conn, db_url, tmp_path, home):
    raw_conn.execute(HAND_MADE)
    env = {"DATAWARP_HOME": str(home),
           "DATAWARP_LIFECYCLE": json.dumps({"archive_path": str(tmp_path / "pq")})}  # fmt: skip

    result = run_cli("orphans", "archive", "staging.scratch_copy", "--json", database_url=db_url,
                     env=env)  # fmt: skip

    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["kind"] == "orphan" and record["row_count"] == 50
    assert pq.ParquetFile(record["path"]).metadata.num_rows == 50
    again = run_cli("orphans", "archive", "staging.scratch_copy", database_url=db_url, env=env)
    assert again.exit_code == 2 and "does not exist" in again.stderr
