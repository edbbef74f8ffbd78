"""The columns of an extracted table, from what pass 1 learnt of each column of the file.

Each file column gives one ``ExtractedColumn``; a numeric column holding censored values is
followed by its companion ``<name>_original`` (``originals``). ``ColumnPlan``s say how both
readers fill them. The warnings about single columns are written here as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from datawarp.pipeline.extract.originals import ColumnPlan, originals_name, plan_for
from datawarp.pipeline.extract.scales import column_unit, mixed_scale_warning
from datawarp.pipeline.extract.values import TEXT

if TYPE_CHECKING:
    from datawarp.pipeline.extract.examples import Examples
    from datawarp.pipeline.extract.profile import ColumnProfile
    from datawarp.pipeline.extract.scales import ScaleFacts
    from datawarp.pipeline.extract.table import TableColumn


@dataclass(frozen=True)
class ExtractedColumn:
    """One column of the table as it will load."""

    name: str
    original_header: str
    pg_type: str
    suppressed_count: int
    null_count: int
    is_fully_suppressed: bool
    source_column: str | None  # sheet column letter (first block); None for a block title
    censored_count: int = 0  # censored values (52+, <5) loaded as NULL, their text kept aside
    censored_values: tuple[str, ...] = ()  # the first few of them, as written
    kept_text_by: tuple[str, ...] = ()  # a text column holding numbers: the first other values
    unit: str | None = None  # fraction or percent (scales.py); None when unknown
    originals_of: str | None = None  # a companion: the column whose censored values it holds


class ColumnFacts(Protocol):
    """What pass 1 knows of one column (``columns.ColumnStats``, ``arrow_stats``)."""

    profile: ColumnProfile
    scale: ScaleFacts

    @property
    def examples(self) -> Examples: ...
    @property
    def pg_type(self) -> str: ...
    @property
    def suppressed_count(self) -> int: ...
    @property
    def censored_count(self) -> int: ...
    @property
    def null_count(self) -> int: ...
    @property
    def is_fully_suppressed(self) -> bool: ...


def extracted_column(spec: TableColumn, facts: ColumnFacts, letter: str | None) -> ExtractedColumn:
    pg_type, profile, examples = facts.pg_type, facts.profile, facts.examples
    kept_text_by: tuple[str, ...] = ()
    if pg_type == TEXT and profile.holds_numbers:
        kept_text_by = tuple(examples.words or examples.censored)
    censored = facts.censored_count
    return ExtractedColumn(
        name=spec.name,
        original_header=spec.original_header,
        pg_type=pg_type,
        suppressed_count=facts.suppressed_count,
        null_count=facts.null_count,
        is_fully_suppressed=facts.is_fully_suppressed,
        source_column=letter,
        censored_count=censored,
        censored_values=tuple(examples.censored) if censored else (),
        kept_text_by=kept_text_by,
        unit=column_unit(
            pg_type,
            signed=profile.has_percent_sign,
            mixed=profile.mixes_percent_and_plain,
            numbers=profile.holds_numbers,
            scale=facts.scale,
        ),  # fmt: skip
    )


def with_originals(
    columns: Sequence[ExtractedColumn], row_count: int
) -> tuple[list[ExtractedColumn], list[ColumnPlan]]:
    """The columns with each companion after its numeric column, and how each is made."""
    taken = {column.name for column in columns}
    result: list[ExtractedColumn] = []
    plans: list[ColumnPlan] = []
    for source, column in enumerate(columns):
        result.append(column)
        plans.append(plan_for(column.pg_type, source, markers_null=column.suppressed_count > 0))
        if not column.censored_count:
            continue
        name = originals_name(column.name, taken)
        taken.add(name)
        result.append(
            ExtractedColumn(
                name=name,
                original_header=f"{column.original_header} (censored values as written)",
                pg_type=TEXT,
                suppressed_count=0,
                null_count=row_count - column.censored_count,
                is_fully_suppressed=False,
                source_column=column.source_column,
                originals_of=column.name,
            )
        )
        plans.append(ColumnPlan(TEXT, source, originals=True))
    return result, plans


def column_warnings(columns: Sequence[ExtractedColumn], facts: Sequence[ColumnFacts]) -> list[str]:
    """Fully suppressed columns, and numbers on two scales (one per file column)."""
    warnings = [
        f"column {column.name} holds only suppression markers; it loads as NULL"
        for column in columns
        if column.is_fully_suppressed
    ]
    warnings += [
        mixed_scale_warning(column.name, stats.scale)
        for column, stats in zip(columns, facts, strict=True)
        if column.pg_type != TEXT and stats.profile.mixes_percent_and_plain
    ]
    return warnings
