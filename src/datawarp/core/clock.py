"""The clock, injectable: policy that depends on "today" takes a ``Clock`` so tests can fix it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC (stored timestamps are UTC; people see local time)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock that always says the same instant (tests, replays)."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant


def today(clock: Clock) -> date:
    return clock.now().date()


SYSTEM_CLOCK = SystemClock()
