"""Orphans and ghosts: staging tables no source owns, and sources whose table is gone.

- An orphan is a table in ``staging`` that is not ``tbl_<code>`` of a registered, active or
  deprecated source. When and by whom it was created comes from the DDL log of migration 0009
  (the latest CREATE under that name, else the first DDL seen on it, e.g. a rename); without
  the log (a catalog migrated by a role that is not a superuser) both are unknown. Its size,
  its rows (the planner's estimate, counted when the table was never analysed) and clues from
  the catalog: loads into a table of that name, a source that once owned it.
- A ghost is an active or deprecated source whose staging table is gone, with the logged drop.
- The DBA hears of an orphan once: ``find_orphans`` remembers each table (name and oid) in
  ``tbl_orphans_seen`` and writes one notification to the outbox, in the same transaction, the
  first time it sees it. A table dropped and created again is new.
- ``adopt`` registers a source for the table and renames it ``tbl_<code>`` in one transaction.
  The source becomes active at once, since its table already holds data; no column metadata is
  recorded, the next load reviews the table as it reviews any other.
- ``archive_orphan`` archives the table as a source's archive is archived (verified Parquet,
  moved to ``archive.<table>_archived_YYYYMMDD``, the name cut to fit 63 bytes), recorded with
  kind ``orphan``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from datawarp.catalog import archives, outbox, registry
from datawarp.catalog.introspect import table_exists
from datawarp.core.clock import SYSTEM_CLOCK, Clock, today
from datawarp.core.errors import BadInputError, ConflictError, NotFoundError
from datawarp.core.naming import (
    ARCHIVE_SCHEMA,
    MAX_IDENTIFIER_BYTES,
    STAGING_SCHEMA,
    TableRef,
    check_source_code,
)
from datawarp.core.notifications import DBA, Notification
from datawarp.core.vocabulary import ArchiveKind, SourceStatus
from datawarp.ops import parquet_export as px
from datawarp.ops.archive_store import ArchiveStore, removed_on_failure

if TYPE_CHECKING:
    import psycopg

    from datawarp.core.settings import Settings

_SUFFIX = "_archived_YYYYMMDD"


@dataclass(frozen=True)
class Orphan:
    schema_name: str
    table_name: str
    created_at: datetime | None
    created_by: str | None
    application_name: str | None
    total_bytes: int
    row_count: int
    clues: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Ghost:
    source_code: str
    status: str
    owner: str
    table_name: str
    dropped_at: datetime | None
    dropped_by: str | None


@dataclass(frozen=True)
class OrphanReport:
    orphans: list[Orphan]
    ghosts: list[Ghost]
    ddl_log_installed: bool
    newly_seen: list[str]


def clues(row: dict[str, Any]) -> list[str]:
    """What the catalog remembers of the table's name, as sentences."""
    found = [
        f"{load['loads']} load(s) of source {load['source_code']} into a table of this name"
        f" in {load['target_schema']}, the last on {str(load['last_load'])[:10]}"
        for load in row["loads"]
    ]
    found += [
        f"once the table of source {owner['source_code']} (now {owner['status']})"
        for owner in row["owners"]
    ]
    return found


def _orphan(row: dict[str, Any]) -> Orphan:
    return Orphan(row["schema_name"], row["table_name"], row["created_at"], row["created_by"],
                  row["application_name"], row["total_bytes"], row["row_count"], clues(row))  # fmt: skip


def _notice(orphan: Orphan, ddl_log: bool) -> Notification:
    name = f"{orphan.schema_name}.{orphan.table_name}"
    if orphan.created_at is not None:
        origin = f"created {orphan.created_at:%Y-%m-%d %H:%M} UTC by {orphan.created_by}"
    else:
        origin = "creation not logged" if ddl_log else "creation unknown (no DDL log)"
    body = (
        f"{name} ({origin}; {orphan.row_count} rows, {orphan.total_bytes} bytes) belongs to no"
        f" registered source. Register it with: datawarp orphans adopt {name} --as CODE ...,"
        f" or archive it with: datawarp orphans archive {name}."
    )
    if orphan.clues:
        body += " Clues: " + "; ".join(orphan.clues) + "."
    return Notification("orphan", DBA, None, f"Orphan table {name}", body)


def find_orphans(conn: psycopg.Connection, *, notify: bool = True) -> OrphanReport:
    """Orphans and ghosts; with ``notify``, the DBA is told of orphans seen for the first time."""
    newly_seen = []
    with conn.transaction():
        rows, ghosts, ddl_log = archives.orphans_and_ghosts(conn)
        for row in rows if notify else []:
            if archives.remember_orphan(conn, row):
                outbox.enqueue(conn, _notice(_orphan(row), ddl_log))
                newly_seen.append(f"{row['schema_name']}.{row['table_name']}")
    return OrphanReport([_orphan(r) for r in rows], [Ghost(**g) for g in ghosts], ddl_log,
                        newly_seen)  # fmt: skip


def _orphan_row(conn: psycopg.Connection, table: str) -> dict[str, Any]:
    schema, _, name = table.rpartition(".")
    schema = schema or STAGING_SCHEMA
    if schema != STAGING_SCHEMA:
        raise BadInputError(f"Invalid table {table!r}: orphans are tables in {STAGING_SCHEMA}")
    for row in archives.orphans_and_ghosts(conn)[0]:
        if row["table_name"] == name:
            return row
    if table_exists(conn, schema, name):
        raise ConflictError(f"Table {schema}.{name} is not an orphan: a registered source owns it")
    raise NotFoundError(f"Table {schema}.{name} does not exist")


def adopt(conn: psycopg.Connection, table: str, code: str, **fields: Any) -> registry.SourceRecord:
    """Register ``code`` for an orphan (``fields``: owner, purpose, publication, domain...)."""
    check_source_code(code)
    with archives.database_errors(f"Adopting {table}"), conn.transaction():
        row = _orphan_row(conn, table)
        registry.register_source(conn, source_code=code, **fields)
        archives.move_table(conn, TableRef(row["schema_name"], row["table_name"]),
                            TableRef.for_source(code))  # fmt: skip
        return registry.set_status(conn, code, SourceStatus.ACTIVE)


def archive_name(table: str, day: Any) -> str:
    """``<table>_archived_YYYYMMDD``, the table's name cut (whole characters) to fit 63 bytes."""
    room = MAX_IDENTIFIER_BYTES - len(_SUFFIX)
    base = table.encode()[:room].decode(errors="ignore")
    return f"{base}_archived_{day:%Y%m%d}"


def archive_orphan(
    conn: psycopg.Connection,
    table: str,
    store: ArchiveStore,
    settings: Settings,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """The orphan to verified Parquet and the archive schema; its tbl_archives row."""
    with (
        archives.database_errors(f"Archiving {table}"),
        removed_on_failure(store) as written,
        conn.transaction(),
    ):
        row = _orphan_row(conn, table)
        ref = TableRef(row["schema_name"], row["table_name"])
        target = TableRef(ARCHIVE_SCHEMA, archive_name(ref.table, today(clock)))
        orphan = _orphan(row)
        metadata = {"datawarp.table": str(ref), "datawarp.orphan": vars(orphan)}
        return px.archive_table_to(conn, ref, target, store, settings, kind=ArchiveKind.ORPHAN,
                                   code=None, metadata=metadata, written=written)  # fmt: skip
