"""Growth of cumulative time series: each edition repeats every earlier period and adds one.

AmbSYS, the A&E and RTT time series grow with every edition, so the row-change limit would
warn on each load of a healthy source. A load is judged cumulative when

- its dates say so: a date column whose range in this load starts no later and ends later than
  in the previous load (as that load's ``date_range`` check recorded it). The rows are then
  expected to grow in step with the range: 105 rows for Aug 2010 to Apr 2019 make about 162
  for Aug 2010 to Jan 2024, and the row-change limit applies to the difference from that;
- or the manifest says so (``cumulative: true``): with no date range to go by, a rise is
  expected whatever its size; a fall is still judged by the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from datawarp.catalog.gate_queries import DateStats
from datawarp.core.gate_settings import GateSettings
from datawarp.core.vocabulary import CheckStatus


@dataclass(frozen=True)
class Growth:
    """Why a load may hold more rows than the previous one."""

    declared: bool  # the manifest's cumulative: true
    column: str | None = None  # the date column whose range covers the previous load's
    previous: tuple[date, date] | None = None
    current: tuple[date, date] | None = None

    @property
    def ratio(self) -> float | None:
        """How much longer this load's range is than the previous load's."""
        if self.previous is None or self.current is None:
            return None
        return (self.current[1] - self.current[0]).days / (self.previous[1] - self.previous[0]).days


def cumulative_growth(
    declared: bool,
    dates: Mapping[str, DateStats],
    previous: Mapping[str, tuple[str | None, str | None]],
) -> Growth | None:
    """None when growth is not expected: not declared, and no date column of this load
    covers the previous load's range and goes beyond it."""
    for name, found in dates.items():
        now = _range(found["min"], found["max"])
        before = _range(*previous.get(name, (None, None)))
        if now and before and before[0] < before[1] and now[0] <= before[0] < before[1] < now[1]:
            return Growth(declared, name, before, now)
    return Growth(declared=True) if declared else None


def _range(low: str | None, high: str | None) -> tuple[date, date] | None:
    """A range as the catalog prints it (a timestamp's time is left out)."""
    try:
        return (
            (date.fromisoformat(low[:10]), date.fromisoformat(high[:10])) if low and high else None
        )
    except ValueError:
        return None


def cumulative_change(
    rows: int, before: int, growth: Growth | None, settings: GateSettings
) -> tuple[CheckStatus, str, dict[str, Any]] | None:
    """(status, note, details) of a cumulative load's row change; None to judge it as usual."""
    if growth is None or before == 0:
        return None
    change = (rows - before) / before * 100
    versus = f"{change:+.0f}% vs previous: {before:,}"
    ratio = growth.ratio
    if ratio is None:
        if rows < before:  # the manifest expects growth; a fall is judged as usual
            return None
        return (
            CheckStatus.PASS,
            f"{versus}; cumulative, as the manifest declares",
            {"declared": True},
        )
    assert growth.previous is not None and growth.current is not None
    expected = before * ratio
    details = {"declared": growth.declared, "column": growth.column,
               "previous_range": [d.isoformat() for d in growth.previous],
               "range": [d.isoformat() for d in growth.current],
               "expected_rows": round(expected)}  # fmt: skip
    ranges = (f"cumulative: {growth.column} now {growth.current[0]} to {growth.current[1]},"
              f" previously to {growth.previous[1]}")  # fmt: skip
    limit = settings.row_change_percent
    if abs(rows - expected) / expected * 100 >= limit:
        status = CheckStatus(settings.severity_of("row_change"))
        note = f"{versus}; {ranges}, so about {expected:,.0f} expected; limit ±{limit:g}%"
        return status, note, details
    return CheckStatus.PASS, f"{versus}; {ranges}", details
