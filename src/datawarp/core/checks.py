"""What the validation gates work on and what they produce, shared by catalog and pipeline.

Plain data only: the catalog reads and stores these, the pipeline's gate policy fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.gate_settings import GateSettings
from datawarp.core.vocabulary import ValidationType

ROW_COUNT = ValidationType.ROW_COUNT
SCHEMA = ValidationType.SCHEMA
QUALITY = ValidationType.QUALITY
METADATA = ValidationType.METADATA

# The loader writes these spellings; only they get min/max and outlier counts.
DATE_TYPES = ("date", "timestamp")


def local_today(clock: Clock = SYSTEM_CLOCK) -> date:
    """The date where the load runs: a UK file dated today must not look a day in the future
    just because UTC has not reached midnight yet."""
    return clock.now().astimezone().date()


@dataclass(frozen=True)
class ColumnStat:
    """One extracted column as the gates see it (from the file, not from the table)."""

    name: str
    pg_type: str
    fully_suppressed: bool = False
    suppressed_count: int = 0

    @property
    def is_date(self) -> bool:
        return self.pg_type in DATE_TYPES


@dataclass
class GateContext:
    """Everything the gates need to know about one load."""

    source_code: str
    schema: str
    table: str
    load_id: int
    period: str | None
    period_kind: str | None
    columns: list[ColumnStat]
    primary_key: list[str] = field(default_factory=list)
    settings: GateSettings = field(default_factory=GateSettings)
    today: date = field(default_factory=local_today)
    # each edition repeats the earlier periods (the manifest's ``cumulative: true``): growth
    # is expected; without it the gates still recognise one by its dates
    cumulative: bool = False


@dataclass(frozen=True)
class CheckResult:
    validation_type: str
    check_name: str
    status: str  # CheckStatus: pass / warn / fail
    message: str
    details: dict[str, Any] = field(default_factory=dict)
