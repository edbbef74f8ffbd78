"""Opening the catalog writes nothing; commands that write make it ready first.

A read-only role can open and read the catalog; an outdated catalog is a one-line message
naming `datawarp db upgrade`; only a command that writes applies migrations and marks
interrupted loads as failed.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import conninfo, sql

from datawarp.catalog import registry
from datawarp.catalog.database import (
    CatalogOutdated,
    database_for_url,
    make_ready,
    require_current,
)
from datawarp.catalog.loads import EventStart, LoadRecorder
from datawarp.catalog.migrate import available_migrations
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import register


def _schema_exists(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regnamespace('datawarp') IS NOT NULL").fetchone()[0]


def _abandoned_load(db_url: str, source_code: str) -> int:
    """An in_progress event whose loading process is gone (its connection closed)."""
    with database_for_url(db_url).connect(autocommit=True) as recorder_conn:
        return LoadRecorder(recorder_conn).start(
            EventStart(
                source_code, "staging", f"tbl_{source_code}", "f.csv", None, None, None, "APPEND"
            )  # fmt: skip
        )


def _status(raw_conn, load_id: int) -> str:
    return raw_conn.execute(
        "SELECT load_status FROM datawarp.tbl_load_events WHERE load_id = %s", (load_id,)
    ).fetchone()[0]


@pytest.fixture
def reader_url(db_url, raw_conn):
    """A LOGIN role that may only read the catalog (USAGE and SELECT, nothing else)."""
    role = f"dw_reader_{uuid.uuid4().hex[:8]}"
    ident = sql.Identifier(role)
    raw_conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
    raw_conn.execute(sql.SQL("GRANT USAGE ON SCHEMA datawarp TO {}").format(ident))
    raw_conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA datawarp TO {}").format(ident))
    params = conninfo.conninfo_to_dict(db_url)
    params["user"] = role
    yield conninfo.make_conninfo(**params)
    raw_conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
    raw_conn.execute(sql.SQL("DROP ROLE {}").format(ident))


def test_opening_an_empty_database_writes_nothing(empty_db_url):
    database_for_url(empty_db_url)  # resolves the server only
    with database_for_url(empty_db_url).connect(autocommit=True) as conn:
        with pytest.raises(CatalogOutdated, match="run `datawarp db upgrade`") as excinfo:
            require_current(conn)
    assert "\n" not in str(excinfo.value)
    assert f"{len(available_migrations())} migration(s)" in str(excinfo.value)
    assert not _schema_exists(empty_db_url)


def test_a_read_command_on_an_outdated_catalog_names_the_upgrade(empty_db_url):
    result = run_cli("sources", "list", database_url=empty_db_url)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: The DataWarp catalog") and "datawarp db upgrade" in line
    assert not _schema_exists(empty_db_url)


def test_a_write_command_makes_the_catalog_ready(empty_db_url):
    result = run_cli(
        "register", "adhd_mi", "--publication", "ADHD", "--domain", "Mental Health",
        "--owner", "o@nhs.net", "--purpose", "p", database_url=empty_db_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    with psycopg.connect(empty_db_url) as conn:
        require_current(conn)
        assert registry.get_source(conn, "adhd_mi").status == "registered"


def test_a_read_only_role_reads_without_writing(conn, db_url, raw_conn, reader_url):
    register(conn, "ae")
    conn.commit()
    load_id = _abandoned_load(db_url, "ae")

    for command in (["sources", "list", "--json"], ["audit", "verify"], ["db", "status"]):
        result = run_cli(*command, database_url=reader_url)
        assert result.exit_code == 0, (command, result.stderr)
    assert '"source_code": "ae"' in run_cli("sources", "list", "--json",
                                            database_url=reader_url).stdout  # fmt: skip
    assert _status(raw_conn, load_id) == "in_progress"  # readers never reap


def test_make_ready_reaps_what_readers_leave(conn, db_url, raw_conn):
    register(conn, "ae")
    conn.commit()
    load_id = _abandoned_load(db_url, "ae")

    readiness = make_ready(database_for_url(db_url))

    assert readiness.interrupted_loads == [load_id]
    assert readiness.migrations_applied == []
    assert _status(raw_conn, load_id) == "failed"
