"""Schema drift policy: what a file's columns do to an existing table, decided before data moves.

Pure: it compares the table's columns with the file's and returns a plan; the catalog applies
it. Fewer than ``auto_add_limit`` new columns are added automatically. At or above it, the new
columns are held for a DBA's review: a pending request is recorded and their values are kept
aside so approval can backfill them. Types only ever widen (integer → numeric → text,
date → timestamp); narrower values simply fit the wider column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datawarp.core.pgtypes import PG_TYPES, IncomingColumn, widen

DEFAULT_AUTO_ADD_LIMIT = 5


@dataclass
class SchemaPlan:
    """What this load does to the table."""

    add: list[IncomingColumn] = field(default_factory=list)
    widen: list[tuple[str, str, str]] = field(default_factory=list)  # name, old, new
    held_back: dict[int, list[IncomingColumn]] = field(default_factory=dict)  # change_id -> cols
    new_request_columns: list[IncomingColumn] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def plan_changes(
    existing: dict[str, str],
    incoming: list[IncomingColumn],
    pending: dict[int, list[IncomingColumn]],
    auto_add_limit: int = DEFAULT_AUTO_ADD_LIMIT,
) -> SchemaPlan:
    """Compare the table's data columns (name → type) with the file's.

    ``pending`` holds the columns of requests still awaiting review: a file bringing them
    again keeps them held under that request rather than asking twice.
    """
    plan = SchemaPlan()
    new = [c for c in incoming if c.name not in existing]
    incoming_names = {c.name for c in incoming}
    plan.missing = [name for name in existing if name not in incoming_names]
    for column in incoming:
        old = existing.get(column.name)
        if old is not None and old in PG_TYPES and widen(old, column.pg_type) != old:
            plan.widen.append((column.name, old, widen(old, column.pg_type)))
    pending_by_name = {c.name: change_id for change_id, cols in pending.items() for c in cols}
    if len(new) < auto_add_limit and not any(c.name in pending_by_name for c in new):
        plan.add = new
        return plan
    for column in new:
        change_id = pending_by_name.get(column.name)
        if change_id is None:
            plan.new_request_columns.append(column)
        else:
            plan.held_back.setdefault(change_id, []).append(column)
    return plan
