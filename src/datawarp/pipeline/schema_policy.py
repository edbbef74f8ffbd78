"""Schema drift policy: what a file's columns do to an existing table, decided before data moves.

Pure: it compares the table's columns with the file's and returns a plan; the catalog applies
it. Fewer than ``auto_add_limit`` new columns are added automatically. At or above it, the new
columns are held for a DBA's review: a pending request is recorded and their values are kept
aside so approval can backfill them. Types only ever widen (integer → numeric → text,
date → timestamp); narrower values simply fit the wider column. One exception loses nothing:
a text column that holds no value at all (a month not yet published when the table was made)
takes the type of the first file that brings values for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datawarp.core.pgtypes import PG_TYPES, TEXT, IncomingColumn, widen

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
    empty: frozenset[str] | set[str] = frozenset(),
) -> SchemaPlan:
    """Compare the table's data columns (name → type) with the file's.

    ``pending`` holds the columns of requests still awaiting review: a file bringing them
    again keeps them held under that request rather than asking twice. ``empty`` names the
    table's text columns that hold no value (``retypable`` lists the ones worth asking about).
    """
    plan = SchemaPlan()
    new = [c for c in incoming if c.name not in existing]
    incoming_names = {c.name for c in incoming}
    plan.missing = [name for name in existing if name not in incoming_names]
    for column in incoming:
        old = existing.get(column.name)
        if old == TEXT and column.name in empty and column.pg_type != TEXT:
            plan.widen.append((column.name, old, column.pg_type))
        elif old is not None and old in PG_TYPES and widen(old, column.pg_type) != old:
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


def retypable(existing: dict[str, str], incoming: list[IncomingColumn]) -> list[str]:
    """The table's text columns this file types otherwise: retyped if they hold no value."""
    return [c.name for c in incoming if existing.get(c.name) == TEXT and c.pg_type != TEXT]
