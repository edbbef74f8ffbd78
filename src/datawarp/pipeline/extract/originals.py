"""Companion columns: where the text of censored values goes (``censored``'s rule).

A numeric column ``x`` holding censored values (``52+``, ``<5``) gets a text column
``x_original`` right after it in the table: the value as written (stripped) where ``x`` is
NULL because the value was censored, NULL in every other row. It exists only when the file
has censored values in ``x``; a later file that brings them for the first time adds it like
any new column (schema review), and one without them leaves it NULL.

``ColumnPlan`` says, for each column of the extracted table, which column of the file it is
read from and how its cells convert; both readers (``engine``, ``arrow_csv``) follow it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from datawarp.core.naming import MAX_IDENTIFIER_BYTES
from datawarp.pipeline.extract.column_names import fitted
from datawarp.pipeline.extract.values import (
    CENSORED,
    MISSING_MARKERS,
    TEXT,
    classify,
    converter_for,
    render_text,
)

ORIGINALS_SUFFIX = "_original"


@dataclass(frozen=True)
class ColumnPlan:
    """How one column of the table is made: from file column ``source``, as ``pg_type``."""

    pg_type: str
    source: int
    originals: bool = False  # the censored values' text (a companion column)
    markers_null: bool = False  # a text column holding numbers: markers are NULL there too


def originals_name(name: str, taken: set[str]) -> str:
    """``<name>_original``, within PostgreSQL's 63 bytes, numbered if the file has it already."""
    base = fitted(name, MAX_IDENTIFIER_BYTES - len(ORIGINALS_SUFFIX)) + ORIGINALS_SUFFIX
    candidate, number = base, 2
    while candidate in taken:
        suffix = f"_{number}"
        candidate = base[: MAX_IDENTIFIER_BYTES - len(suffix)] + suffix
        number += 1
    return candidate


def original_text(value: object) -> str | None:
    """A censored cell's text as written (stripped); NULL for every other cell."""
    kind, parsed = classify(value)
    return parsed if kind == CENSORED else None  # type: ignore[return-value]


def text_without_markers(value: object) -> str | None:
    """``render_text``, with suppression markers as NULL (a text column holding numbers)."""
    text = render_text(value)
    if text is not None and text.lower() in MISSING_MARKERS:
        return None
    return text


def plan_for(pg_type: str, source: int = 0, *, markers_null: bool = False) -> ColumnPlan:
    """The plan of a file column: markers NULL matters only where text would keep them."""
    return ColumnPlan(pg_type, source, markers_null=markers_null and pg_type == TEXT)


def cell_converter(plan: ColumnPlan) -> Callable[[object], object]:
    """The function that turns one cell into this column's value (``values.convert`` for a
    plain column of its type)."""
    if plan.originals:
        return original_text
    if plan.markers_null:
        return text_without_markers
    return converter_for(plan.pg_type)
