"""The database: which server, connections to it, and the one explicit "make ready" step.

Opening a database resolves the server (starting the embedded one if that is the choice)
and writes nothing to the catalog, so a read-only role can open it. Commands that write call
``make_ready`` first: it applies pending migrations and marks interrupted loads as failed.
Commands that only read call ``require_current``: a catalog older than the code is a
one-line error naming ``datawarp db upgrade``, never a silent upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from datawarp.catalog.connect import DatabaseTarget, connect, resolve_target
from datawarp.catalog.loads import reap_interrupted
from datawarp.catalog.migrate import Migration, pending_migrations, upgrade
from datawarp.core.errors import DatabaseError
from datawarp.core.settings import Settings


@dataclass
class Database:
    """A resolved server plus the ability to open connections to it."""

    target: DatabaseTarget

    @property
    def url(self) -> str:
        return self.target.url

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        return connect(self.target.url, autocommit=autocommit)


@dataclass(frozen=True)
class Readiness:
    """What ``make_ready`` did: migrations it applied, interrupted loads it marked failed."""

    migrations_applied: list[Migration] = field(default_factory=list)
    interrupted_loads: list[int] = field(default_factory=list)


class CatalogOutdated(DatabaseError):
    """The catalog lacks migrations this DataWarp needs; only ``datawarp db upgrade`` writes them."""


def open_database(settings: Settings) -> Database:
    """Resolve the server; nothing is written to the catalog."""
    return Database(resolve_target(settings))


def make_ready(database: Database) -> Readiness:
    """Bring the catalog up to date and reap loads whose process died.

    Every command that writes passes through here, which is what lets the next such command
    notice a load whose process was killed (see ``catalog.loads``).
    """
    with database.connect(autocommit=True) as conn:
        applied = upgrade(conn) if pending_migrations(conn) else []
        return Readiness(applied, reap_interrupted(conn))


def require_current(conn: psycopg.Connection) -> None:
    """Refuse to read a catalog that is older than this DataWarp (one line, names the fix)."""
    missing = pending_migrations(conn)
    if not missing:
        return
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
    raise CatalogOutdated(
        f"The DataWarp catalog in database {conn.info.dbname!r} lacks {len(missing)}"
        f" migration(s) ({names}): run `datawarp db upgrade`"
    )


def database_for_url(url: str) -> Database:
    """Shortcut for tests and scripts that already hold a URL (nothing is written)."""
    return open_database(Settings(database_url=url))
