"""The ``date_range`` check: a file's dates judged against the period loaded and their own span.

A time series holds fifteen years of months and a provider file one month, so the age of a date
alone says nothing. Each date column is judged by:

- the **period loaded**: a date more than ``after_period_allowed_days`` (366) after the last day
  of the load's period is out of place; a load without a period is judged against today
  (``future_dates_allowed_days``, 0);
- **its own span**: the scan records which years before that anchor hold dates (ages in whole
  years of 365.25 days, 62 meaning 62 or more). Going back from the latest, the first step
  from one age holding dates to the next that is at least ``past_years`` (10) and longer than
  the span of the later dates separates dates that lie apart: a 1900 placeholder in a
  2010-2024 series, 2013 in a 2023 provider file. Fifteen years of unbroken months, or a
  census every five years, never qualify.

Everything here is pure: day arithmetic only (``timedelta``), so 29 February needs no care,
and the anchor comes from the context's ``today`` (the injectable clock) or its period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from datawarp.catalog.gate_queries import AGE_CAP_DAYS, DAYS_PER_4_YEARS, DateStats, LoadedStats
from datawarp.core.checks import QUALITY, CheckResult
from datawarp.core.gate_settings import GateSettings
from datawarp.core.periods import Period, period_span
from datawarp.core.vocabulary import CheckStatus

OLDEST_AGE = AGE_CAP_DAYS * 4 // DAYS_PER_4_YEARS  # 62: "62 years or more"


@dataclass(frozen=True)
class DateBounds:
    anchor: date  # the last day of the period loaded; today for a load without one
    future_after: date  # later dates are out of place
    anchored_on: str  # "period" or "today"


def date_bounds(
    today: date, settings: GateSettings, period: str | None = None, kind: str | None = None
) -> DateBounds:
    end = period_end(period, kind)
    if end is None:
        late = today + timedelta(days=settings.future_dates_allowed_days)
        return DateBounds(anchor=today, future_after=late, anchored_on="today")
    late = end + timedelta(days=settings.after_period_allowed_days)
    return DateBounds(anchor=end, future_after=late, anchored_on="period")


def period_end(period: str | None, kind: str | None) -> date | None:
    """The last day of a stored period; None without one (or of a kind with no calendar)."""
    if not period or not kind:
        return None
    try:
        return period_span(Period(period, kind))[1]
    except (KeyError, ValueError):
        return None


def age_of(day: date, anchor: date) -> int:
    """Whole years of 365.25 days from ``day`` back to ``anchor``, as the scan counts them."""
    return min(AGE_CAP_DAYS, max(0, (anchor - day).days)) * 4 // DAYS_PER_4_YEARS


def ages_in(years: int) -> list[int]:
    """The ages a column's bit set holds, latest first."""
    return [age for age in range(OLDEST_AGE + 1) if years >> age & 1]


def ages_text(ages: list[int]) -> str:
    """``[0, 1, 2, 13, 62]`` → ``"0-2, 13, 62+"``: stored with the check, for the curious."""
    runs: list[list[int]] = []
    for age in ages:
        if runs and age == runs[-1][1] + 1:
            runs[-1][1] = age
        else:
            runs.append([age, age])

    def shown(age: int) -> str:
        return f"{age}+" if age == OLDEST_AGE else str(age)

    return ", ".join(shown(a) if a == b else f"{shown(a)}-{shown(b)}" for a, b in runs)


def apart(ages: list[int], gap_years: int) -> tuple[int, int] | None:
    """(latest age of the bulk, earliest age of the dates apart), or None when the column's
    years hang together. Going back from the latest, the first step between two ages that is
    at least ``gap_years`` and longer than the span of the later dates splits them."""
    for later, earlier in zip(ages, ages[1:], strict=False):
        step = earlier - later
        if step >= gap_years and step > later - ages[0] + 1:
            return later, earlier
    return None


def first_day_of_age(anchor: date, age: int) -> date:
    """The earliest day whose age is at most ``age``."""
    return anchor - timedelta(days=(DAYS_PER_4_YEARS * (age + 1) + 3) // 4 - 1)


def last_day_of_age(anchor: date, age: int) -> date:
    """The latest day whose age is at least ``age``."""
    return anchor - timedelta(days=(DAYS_PER_4_YEARS * age + 3) // 4)


def date_range_check(
    stats: LoadedStats, bounds: DateBounds, settings: GateSettings
) -> CheckResult | None:
    """None when the file has no date column: there is nothing to report."""
    if not stats.dates:
        return None
    columns, problems = {}, []
    for name, found in stats.dates.items():
        stored, text = _judged(found, bounds, settings)
        columns[name] = stored
        if text:
            problems.append(f"{name}: {text}")
    details = {"columns": columns, "anchor": bounds.anchor.isoformat(),
               "anchored_on": bounds.anchored_on, "future_after": bounds.future_after.isoformat(),
               "gap_years": settings.past_years}  # fmt: skip
    if problems:
        status = CheckStatus(settings.severity_of("date_range"))
        return CheckResult(QUALITY, "date_range", status, "; ".join(problems), details)
    lows = [d["min"] for d in stats.dates.values() if d["min"]]
    highs = [d["max"] for d in stats.dates.values() if d["max"]]
    span = f" ({min(lows)[:10]} to {max(highs)[:10]})" if lows and highs else ""
    return CheckResult(QUALITY, "date_range", CheckStatus.PASS, f"dates within range{span}",
                       details)  # fmt: skip


def _judged(found: DateStats, bounds: DateBounds, settings: GateSettings) -> tuple[dict, str]:
    """What is stored for one column, and what is out of place in it ("" when nothing)."""
    ages = ages_in(found["years"])
    stored = {"min": found["min"], "max": found["max"], "future": found["future"],
              "ages": ages_text(ages)}  # fmt: skip
    parts = []
    if found["future"]:
        parts.append(f"{found['future']:,} {_late_words(bounds, settings)} (latest {found['max']})")
    split = apart(ages, settings.past_years)
    if split is not None:
        until = last_day_of_age(bounds.anchor, split[1]).isoformat()
        since = first_day_of_age(bounds.anchor, split[0]).isoformat()
        stored["apart"] = {"until": until, "since": since}
        parts.append(f"dates on or before {until} (earliest {found['min']}) are far before the"
                     f" rest (on or after {since})")  # fmt: skip
    return stored, "; ".join(parts)


def _late_words(bounds: DateBounds, settings: GateSettings) -> str:
    if bounds.anchored_on == "period":
        days = settings.after_period_allowed_days
        return f"more than {days} days after the period loaded" if days else "after the period"
    days = settings.future_dates_allowed_days
    return f"more than {days} days in the future" if days else "in the future"
