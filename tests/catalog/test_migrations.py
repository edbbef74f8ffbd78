"""Catalog migrations: upgrade from empty, idempotent re-runs, concurrent upgrades."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest

from datawarp.catalog import migrate
from datawarp.catalog.connect import connect

SEED_COLUMNS = {
    "tbl_data_sources": {
        "source_code", "publication", "domain", "owner", "purpose", "retention_days",
        "load_mode", "validation_required", "status", "created_at", "created_by",
        "last_validated_at", "deprecation_reason", "archived_at", "updated_at",
    },
    "tbl_load_events": {
        "load_id", "source_code", "rows_loaded", "columns_added", "load_status", "started_at",
        "completed_at", "error_message",
    },
    "tbl_validation_results": {
        "load_id", "source_code", "validation_type", "status", "message", "details",
        "validated_at",
    },
    "tbl_source_metrics": {
        "source_code", "row_count", "column_count", "table_size_bytes", "load_duration_seconds",
    },
}  # fmt: skip


def _columns(conn: psycopg.Connection, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'datawarp' AND table_name = %s",
        (table,),
    ).fetchall()
    return {name for (name,) in rows}


def test_upgrade_from_empty_creates_the_catalog_and_data_schemas(empty_db_url):
    with connect(empty_db_url, autocommit=True) as conn:
        applied = migrate.upgrade(conn)
        assert [m.version for m in applied] == [m.version for m in migrate.available_migrations()]
        for table, expected in SEED_COLUMNS.items():
            assert expected <= _columns(conn, table), table
        schemas = {name for (name,) in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
        assert {"datawarp", "staging", "staging_test", "archive"} <= schemas
        default = conn.execute(
            "SELECT column_default FROM information_schema.columns WHERE table_schema ="
            " 'datawarp' AND table_name = 'tbl_data_sources' AND column_name = 'retention_days'"
        ).fetchone()[0]
        assert default == "365"


def test_rerunning_upgrade_is_a_no_op(empty_db_url):
    with connect(empty_db_url, autocommit=True) as conn:
        migrate.upgrade(conn)
        before = conn.execute(
            "SELECT version, applied_at FROM datawarp.schema_migrations"
        ).fetchall()
        assert migrate.upgrade(conn) == []
        after = conn.execute(
            "SELECT version, applied_at FROM datawarp.schema_migrations"
        ).fetchall()
        assert before == after
        assert all(state.status == "applied" for state in migrate.migration_status(conn))


def test_status_lists_pending_before_upgrade(empty_db_url):
    with connect(empty_db_url, autocommit=True) as conn:
        states = migrate.migration_status(conn)
        assert states and all(state.status == "pending" for state in states)


def test_edited_migration_is_reported(empty_db_url):
    with connect(empty_db_url, autocommit=True) as conn:
        migrate.upgrade(conn)
        conn.execute("UPDATE datawarp.schema_migrations SET checksum = 'x' WHERE version = 1")
        first = migrate.migration_status(conn)[0]
        assert first.status == "applied (file changed since)"


def _waiting_advisory_locks(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()[0]


def test_two_processes_upgrading_at_once_apply_each_migration_once(empty_db_url):
    """Hold the migration lock, start two upgraders, release: both succeed, nothing twice."""
    command = [sys.executable, "-m", "datawarp", "--database-url", empty_db_url, "db", "upgrade"]
    env = {**os.environ, "COLUMNS": "200"}
    with connect(empty_db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.MIGRATION_LOCK_KEY,))
        workers = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while _waiting_advisory_locks(holder) < 2:  # both are queued behind our lock
            assert time.monotonic() < deadline, "upgraders never reached the lock"
            assert all(w.poll() is None for w in workers), "an upgrader exited early"
        holder.execute("SELECT pg_advisory_unlock(%s)", (migrate.MIGRATION_LOCK_KEY,))
        outputs = [w.communicate(timeout=120) for w in workers]
        assert [w.returncode for w in workers] == [0, 0], outputs
        rows = holder.execute(
            "SELECT version, count(*) FROM datawarp.schema_migrations GROUP BY version"
        ).fetchall()
    assert sorted(rows) == [(m.version, 1) for m in migrate.available_migrations()]
    texts = [out.decode() for out, _ in outputs]
    assert sum("applied 0001_catalog" in text for text in texts) == 1
    assert sum("nothing to apply" in text for text in texts) == 1


@pytest.mark.parametrize("table", sorted(SEED_COLUMNS))
def test_catalog_tables_have_primary_keys(db_url, table):
    with connect(db_url) as conn:
        has_pk = conn.execute(
            "SELECT 1 FROM pg_index WHERE indrelid = %s::regclass AND indisprimary",
            (f"datawarp.{table}",),
        ).fetchone()
    assert has_pk
