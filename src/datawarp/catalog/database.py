"""The database: resolving the server, connecting, and keeping the catalog migrated."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from datawarp.catalog.connect import DatabaseTarget, connect, resolve_target
from datawarp.catalog.loads import reap_interrupted
from datawarp.catalog.migrate import pending_migrations, upgrade
from datawarp.core.settings import Settings


@dataclass
class Database:
    """A resolved server plus the ability to open connections to it."""

    target: DatabaseTarget
    migrations_applied: list = field(default_factory=list)
    interrupted_loads: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.target.url

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        return connect(self.target.url, autocommit=autocommit)


def open_database(settings: Settings, *, auto_upgrade: bool = True) -> Database:
    """Resolve the server; on first use apply pending migrations; mark interrupted loads.

    Every command passes through here, which is what lets "the next DataWarp command" notice
    a load whose process was killed (see datawarp.catalog.loads).
    """
    database = Database(resolve_target(settings))
    if auto_upgrade:
        with database.connect(autocommit=True) as conn:
            if pending_migrations(conn):
                database.migrations_applied = upgrade(conn)
            database.interrupted_loads = reap_interrupted(conn)
    return database


def database_for_url(url: str, *, auto_upgrade: bool = True) -> Database:
    """Shortcut used by tests and scripts that already hold a URL."""
    return open_database(Settings(database_url=url), auto_upgrade=auto_upgrade)
