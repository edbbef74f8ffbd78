"""Numbered catalog migrations, applied in order under an advisory lock.

Migrations are the only place catalog DDL lives. Each ``NNNN_name.sql`` file in
``datawarp/catalog/migrations`` runs in its own transaction and is recorded in
``datawarp.schema_migrations`` with a checksum, so an edited migration is detected.
The bookkeeping table itself is the one object created here: every migration tool has to
bootstrap its own ledger.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

import psycopg

from datawarp.catalog.introspect import table_exists
from datawarp.core.errors import DatabaseError, PermissionDenied
from datawarp.core.naming import CATALOG_SCHEMA

# Any fixed 64-bit number works; it only has to be the same in every DataWarp process.
MIGRATION_LOCK_KEY = 7318201450000
MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

BOOTSTRAP_SQL = """
CREATE SCHEMA IF NOT EXISTS datawarp;
CREATE TABLE IF NOT EXISTS datawarp.schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text NOT NULL DEFAULT session_user
);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str = field(repr=False)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MigrationState:
    version: int
    name: str
    applied_at: datetime | None
    checksum_matches: bool

    @property
    def status(self) -> str:
        if self.applied_at is None:
            return "pending"
        return "applied" if self.checksum_matches else "applied (file changed since)"


def available_migrations() -> list[Migration]:
    folder = resources.files("datawarp.catalog") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


def _applied(conn: psycopg.Connection) -> dict[int, tuple[str, datetime]]:
    if not table_exists(conn, CATALOG_SCHEMA, "schema_migrations"):
        return {}
    rows = conn.execute("SELECT version, checksum, applied_at FROM datawarp.schema_migrations")
    return {version: (checksum, applied_at) for version, checksum, applied_at in rows}


def migration_status(conn: psycopg.Connection) -> list[MigrationState]:
    applied = _applied(conn)
    states = []
    for migration in available_migrations():
        checksum, applied_at = applied.get(migration.version, (None, None))
        states.append(
            MigrationState(
                migration.version,
                migration.name,
                applied_at,
                checksum in (None, migration.checksum),
            )
        )
    return states


def pending_migrations(conn: psycopg.Connection) -> list[Migration]:
    applied = _applied(conn)
    return [m for m in available_migrations() if m.version not in applied]


def upgrade(conn: psycopg.Connection) -> list[Migration]:
    """Apply every pending migration; returns those this call applied (empty when up to date).

    The session-level advisory lock makes concurrent upgrades queue: the second process
    waits, then finds nothing pending. ``conn`` must not be inside a transaction.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise DatabaseError("upgrade needs a connection outside any transaction")
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        if not table_exists(conn, CATALOG_SCHEMA, "schema_migrations"):
            with conn.transaction():  # a current catalog is upgraded without a single write
                conn.execute(BOOTSTRAP_SQL)
        applied_now = []
        for migration in pending_migrations(conn):
            _apply(conn, migration)
            applied_now.append(migration)
        return applied_now
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        conn.commit()


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    try:
        with conn.transaction():
            conn.execute(migration.sql.encode("utf-8"))
            conn.execute(
                "INSERT INTO datawarp.schema_migrations (version, name, checksum)"
                " VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.errors.InsufficientPrivilege:
        owner, login = conn.execute(
            "SELECT pg_get_userbyid(nspowner), session_user FROM pg_namespace WHERE nspname = %s",
            (CATALOG_SCHEMA,),
        ).fetchone()
        raise PermissionDenied(
            f"permission denied: db upgrade needs the catalog's owner ({owner}) or a superuser"
            f" (you are {login}); nothing was changed"
        ) from None
    except psycopg.Error as exc:
        raise DatabaseError(
            f"Migration {migration.version:04d}_{migration.name} failed: {exc}".splitlines()[0]
        ) from exc
