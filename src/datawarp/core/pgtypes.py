"""The PostgreSQL column types DataWarp manages, how they widen, and a column as it arrives.

Extraction infers one of these types per column; the catalog writes them into DDL. Both take
them from here, so a type outside the set can never be interpolated into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

SMALLINT, INTEGER, BIGINT, NUMERIC = "smallint", "integer", "bigint", "numeric"
DATE, TIMESTAMP, BOOLEAN, TEXT = "date", "timestamp", "boolean", "text"
PG_TYPES = (SMALLINT, INTEGER, BIGINT, NUMERIC, DATE, TIMESTAMP, BOOLEAN, TEXT)

# Field metadata key of typed Arrow batches: the PostgreSQL type a column loads as.
PG_TYPE_KEY = b"datawarp.pg_type"

_NUMBER_ORDER = (SMALLINT, INTEGER, BIGINT, NUMERIC)
_DATE_ORDER = (DATE, TIMESTAMP)


def widen(a: str, b: str) -> str:
    """The narrowest type holding values of both: smallint<integer<bigint<numeric<text, date<timestamp."""
    for pg_type in (a, b):
        if pg_type not in PG_TYPES:
            raise ValueError(f"unknown PostgreSQL type {pg_type!r}")
    if a == b:
        return a
    for order in (_NUMBER_ORDER, _DATE_ORDER):
        if a in order and b in order:
            return order[max(order.index(a), order.index(b))]
    return TEXT


def type_sql(pg_type: str) -> str:
    """A type for DDL: only the fixed set is accepted, anything else is refused."""
    if pg_type not in PG_TYPES:
        raise ValueError(f"unsupported column type {pg_type!r}")
    return pg_type


@dataclass(frozen=True)
class IncomingColumn:
    """A data column as a file brings it: clean name, inferred type, the header it came from."""

    name: str
    pg_type: str
    original_header: str | None = None
