"""Reading and verifying the audit trail written by the database triggers (migration 0002)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    table_name: str
    record_key: str | None
    action: str
    changed_by_db_user: str
    changed_by_os_user: str | None  # a claim: the client sets it, the server cannot check it
    client_application: str | None
    changed_at: datetime
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    client_addr: str | None = None  # where the connection came from, as the server saw it

    def changed_fields(self) -> dict[str, tuple[Any, Any]]:
        """Field -> (old, new) for the fields this change touched (all fields for INSERT)."""
        old, new = self.old_values or {}, self.new_values or {}
        skip = {"updated_at", "created_at", "created_by"}  # set by the database itself
        return {
            key: (old.get(key), new.get(key))
            for key in sorted(set(old) | set(new))
            if key not in skip and old.get(key) != new.get(key)
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["changed_at"] = self.changed_at.isoformat()
        return data


@dataclass(frozen=True)
class StatusChange:
    changed_at: datetime
    old_status: str | None
    new_status: str
    changed_by: str


@dataclass(frozen=True)
class ChainVerification:
    rows_checked: int
    first_broken_id: int | None
    problem: str | None
    head_hash: str

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def read_audit_log(
    conn: psycopg.Connection, record_key: str | None = None, *, limit: int = 200
) -> list[AuditEntry]:
    """The newest ``limit`` entries, oldest first, optionally for one source code."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM (SELECT audit_id, table_name, record_key, action, changed_by_db_user,"
            " changed_by_os_user, client_application, changed_at, old_values, new_values,"
            " host(client_addr) AS client_addr"
            " FROM datawarp.tbl_audit_log"
            " WHERE %(key)s::text IS NULL OR record_key = %(key)s"
            " ORDER BY audit_id DESC LIMIT %(limit)s) newest ORDER BY audit_id",
            {"key": record_key, "limit": limit},
        ).fetchall()
    return [AuditEntry(**row) for row in rows]


def status_history(conn: psycopg.Connection, source_code: str) -> list[StatusChange]:
    rows = conn.execute(
        "SELECT changed_at, old_values->>'status', new_values->>'status',"
        " changed_by_db_user || coalesce(' (os: ' || changed_by_os_user || ')', '')"
        " FROM datawarp.tbl_audit_log"
        " WHERE table_name = 'datawarp.tbl_data_sources' AND record_key = %s"
        "   AND new_values IS NOT NULL"
        "   AND (old_values IS NULL OR old_values->>'status' <> new_values->>'status')"
        " ORDER BY audit_id",
        (source_code,),
    ).fetchall()
    return [StatusChange(*row) for row in rows]


def anchor(conn: psycopg.Connection) -> dict[str, Any]:
    """The chains' heads as a record to keep outside the database (``audit anchor``)."""
    return {**_audit_head(conn), **_load_head(conn)}


def _load_head(conn: psycopg.Connection) -> dict[str, Any]:
    row = conn.execute(
        "SELECT load_id, row_hash, (SELECT count(*) FROM datawarp.tbl_load_events"
        " WHERE chain_position IS NOT NULL) FROM datawarp.tbl_load_events"
        " WHERE chain_position IS NOT NULL ORDER BY chain_position DESC LIMIT 1"
    ).fetchone()
    load_id, row_hash, finished = row or (0, GENESIS_HASH, 0)
    return {"load_id": load_id, "load_row_hash": row_hash, "finished_loads": finished}


def _audit_head(conn: psycopg.Connection) -> dict[str, Any]:
    row = conn.execute(
        "SELECT audit_id, row_hash, changed_at, (SELECT count(*) FROM datawarp.tbl_audit_log),"
        " current_database(), now() FROM datawarp.tbl_audit_log"
        " ORDER BY audit_id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return {"audit_id": 0, "row_hash": GENESIS_HASH, "entries": 0, "changed_at": None,
                "database": conn.info.dbname, "taken_at": None}  # fmt: skip
    keys = ("audit_id", "row_hash", "changed_at", "entries", "database", "taken_at")
    return dict(zip(keys, row, strict=True))


def check_anchor(conn: psycopg.Connection, kept: dict[str, Any]) -> str | None:
    """What differs from an anchor kept earlier, or None. The chain is verified first: a row's
    hash covers the one before it, so the anchored row's hash vouches for all before it."""
    try:
        audit_id, row_hash, entries = int(kept["audit_id"]), str(kept["row_hash"]), kept["entries"]
    except (KeyError, TypeError, ValueError):
        return "the anchor file lacks audit_id, row_hash or entries"
    if audit_id == 0:
        return None
    found = conn.execute(
        "SELECT row_hash, (SELECT count(*) FROM datawarp.tbl_audit_log WHERE audit_id <= %s)"
        " FROM datawarp.tbl_audit_log WHERE audit_id = %s",
        (audit_id, audit_id),
    ).fetchone()
    if found is None:
        return f"entry {audit_id}, the anchor, is gone (the newest entries were removed)"
    if found[0] != row_hash:
        return f"entry {audit_id} no longer has the anchor's hash (history up to it was rewritten)"
    if found[1] != entries:
        return f"{found[1]} entries up to {audit_id}, the anchor recorded {entries}"
    return _check_load_anchor(conn, kept)


def _check_load_anchor(conn: psycopg.Connection, kept: dict[str, Any]) -> str | None:
    if not kept.get("load_id"):
        return None
    found = conn.execute(
        "SELECT e.row_hash, (SELECT count(*) FROM datawarp.tbl_load_events c"
        "  WHERE c.chain_position <= e.chain_position)"
        " FROM datawarp.tbl_load_events e WHERE e.load_id = %s AND e.chain_position IS NOT NULL",
        (kept["load_id"],),
    ).fetchone()
    if found is None:
        return f"load {kept['load_id']}, the anchor's newest finished load, is gone"
    if found[0] != kept.get("load_row_hash"):
        return f"load {kept['load_id']} no longer has the anchor's hash (load history rewritten)"
    if found[1] != kept.get("finished_loads"):
        return (
            f"{found[1]} finished loads up to {kept['load_id']}, the anchor recorded"
            f" {kept.get('finished_loads')}"
        )
    return None


def verify_chain(conn: psycopg.Connection) -> ChainVerification:
    """Recompute every row's hash and link; report the first row that does not match.

    A row edited in place fails its own hash; a row deleted or inserted out of band breaks the
    link from the row after it. The head hash is printed so it can be recorded elsewhere: that
    is what detects truncation of the newest rows.
    """
    query = """
        SELECT audit_id, prev_hash, row_hash,
               lag(row_hash) OVER (ORDER BY audit_id) AS previous_row_hash,
               datawarp.audit_row_hash(prev_hash, audit_id, table_name, record_key, action,
                   changed_by_db_user, changed_by_os_user, client_application, client_addr,
                   transaction_id, changed_at, old_values, new_values) AS recomputed
          FROM datawarp.tbl_audit_log ORDER BY audit_id
    """
    checked, head = 0, GENESIS_HASH
    with conn.transaction(), conn.cursor(name="audit_verify") as cur:
        cur.itersize = 5000
        for audit_id, prev_hash, row_hash, previous_row_hash, recomputed in cur.execute(query):
            checked += 1
            expected_prev = previous_row_hash or GENESIS_HASH
            if prev_hash != expected_prev:
                return ChainVerification(
                    checked,
                    audit_id,
                    f"entry {audit_id} does not link to the entry before it"
                    " (an entry was removed, inserted or reordered)",
                    head,
                )
            if recomputed != row_hash:
                return ChainVerification(
                    checked,
                    audit_id,
                    f"entry {audit_id} does not match its hash (its contents were altered)",
                    head,
                )
            head = row_hash
    return ChainVerification(checked, None, None, head)


def verify_load_chain(conn: psycopg.Connection) -> ChainVerification:
    """The finished load events' chain (migration 0016), checked like the audit log's: an edited
    event fails its hash, a deleted one breaks the link after it, and an event finished with
    the triggers switched off has no place in the chain at all."""
    outside = conn.execute(
        "SELECT min(load_id), count(*) FROM datawarp.tbl_load_events"
        " WHERE load_status <> 'in_progress' AND chain_position IS NULL"
    ).fetchone()
    if outside[1]:
        return ChainVerification(0, outside[0], f"load {outside[0]} finished outside the load"
                                 " history's chain (its triggers were switched off)", GENESIS_HASH)  # fmt: skip
    query = """
        SELECT load_id, prev_hash, row_hash, lag(row_hash) OVER (ORDER BY chain_position),
               datawarp.load_event_hash(prev_hash, e)
          FROM datawarp.tbl_load_events e WHERE chain_position IS NOT NULL ORDER BY chain_position
    """
    checked, head = 0, GENESIS_HASH
    with conn.transaction(), conn.cursor(name="load_chain_verify") as cur:
        cur.itersize = 5000
        for load_id, prev_hash, row_hash, previous_row_hash, recomputed in cur.execute(query):
            checked += 1
            if prev_hash != (previous_row_hash or GENESIS_HASH):
                return ChainVerification(checked, load_id, f"load {load_id} does not link to the"
                                         " load finished before it (a load was removed)", head)  # fmt: skip
            if recomputed != row_hash:
                return ChainVerification(checked, load_id, f"load {load_id} does not match its"
                                         " hash (its record was altered)", head)  # fmt: skip
            head = row_hash
    return ChainVerification(checked, None, None, head)


_AUDITED = """
    SELECT n.nspname, c.relname, split_part(encode(t.tgargs, 'escape'), '\\000', 1)
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE p.proname = 'record_audit' AND NOT t.tgisinternal ORDER BY 1, 2
"""
_UNAUDITED = """
    WITH latest AS (
        SELECT DISTINCT ON (record_key) record_key, action, new_values
          FROM datawarp.tbl_audit_log WHERE table_name = %(table)s
         ORDER BY record_key, audit_id DESC),
    current_rows AS (SELECT t.{key}::text AS record_key, to_jsonb(t) AS image FROM {table} t)
    SELECT coalesce(r.record_key, l.record_key),
           CASE WHEN l.record_key IS NULL THEN 'has no audit entry'
                WHEN r.record_key IS NULL THEN 'was removed without an audit entry'
                ELSE 'differs from its last audit entry' END
      FROM current_rows r FULL JOIN latest l ON l.record_key = r.record_key
     WHERE l.record_key IS NULL
        OR (r.record_key IS NULL AND l.action <> 'DELETE')
        -- Columns added by later migrations are not in older images: compare what they hold.
        OR (r.record_key IS NOT NULL AND (l.action = 'DELETE' OR NOT r.image @> l.new_values))
     ORDER BY 1 LIMIT 5
"""


def unaudited_changes(conn: psycopg.Connection) -> list[str]:
    """Rows of the audited tables that no audit entry accounts for: changed, added or removed
    while the audit triggers were off (``session_replication_role = replica``). Each row is
    compared with the latest image the audit log holds of it."""
    found = []
    for schema, table, key in conn.execute(_AUDITED).fetchall():
        query = sql.SQL(_UNAUDITED).format(
            table=sql.Identifier(schema, table), key=sql.Identifier(key)
        )
        rows = conn.execute(query, {"table": f"{schema}.{table}"}).fetchall()
        found += [f"{schema}.{table} {record_key!r} {problem}" for record_key, problem in rows]
    return found


def verify_all(
    conn: psycopg.Connection, kept: dict[str, Any] | None = None
) -> tuple[ChainVerification, ChainVerification]:
    """Everything ``audit verify`` checks, the first problem found reported: the audit chain,
    the load history's chain, the anchor kept outside (if given), then rows changed with the
    audit triggers off. Returns that result and the load chain's (for its count)."""
    chain, loads = verify_chain(conn), verify_load_chain(conn)
    if not chain.ok or not loads.ok:
        return (chain if not chain.ok else loads), loads
    problem, broken = None, None
    if kept is not None:
        problem = check_anchor(conn, kept)
        problem, broken = (f"against the anchor: {problem}" if problem else None), 0
        if problem and str(kept.get("audit_id", "")).isdigit():
            broken = int(kept["audit_id"])
    if problem is None:
        unaudited = unaudited_changes(conn)
        if unaudited:
            problem, broken = f"{unaudited[0]} (changed while the audit triggers were off)", 0
    if problem is None:
        return chain, loads
    return ChainVerification(chain.rows_checked, broken, problem, chain.head_hash), loads


def identity_gaps(conn: psycopg.Connection) -> dict[str, int]:
    """Ids never seen in the audit log and the load history: a rolled-back transaction leaves
    such gaps, and so does a row deleted out of band, so they are reported, not judged."""
    row = conn.execute(
        "SELECT (SELECT coalesce(max(audit_id) - min(audit_id) + 1 - count(*), 0)"
        "          FROM datawarp.tbl_audit_log),"
        "       (SELECT coalesce(max(load_id) - min(load_id) + 1 - count(*), 0)"
        "          FROM datawarp.tbl_load_events)"
    ).fetchone()
    return {"audit_ids_unused": row[0], "load_ids_unused": row[1]}
