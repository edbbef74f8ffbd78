"""Reporting periods: what NHS publications call a month, a quarter, a financial year.

Every period is normalised to one canonical text form so loads of the same period line up
(REPLACE deletes by it, idempotency compares it) and so that validation can compare a load
with the previous load *of the same kind* of period:

| kind         | canonical    | also accepted                                           |
|--------------|--------------|---------------------------------------------------------|
| month        | ``2025-09``  | ``2025-09-01``, ``Sep 2025``, ``September 2025``, ``Sep-25``, ``09/2025`` |
| quarter      | ``2025-Q2``  | ``Q2 2025``, ``2025 Q2``                                |
| fiscal_year  | ``2025-26``  | ``2025/26``, ``2025/2026``, ``FY2025-26``, ``2025-2026`` |
| year         | ``2025``     |                                                         |
| week         | ``2025-W07`` | ``2025W07``, ``W07 2025`` (ISO weeks, Monday to Sunday)  |
| week_ending  | ``2023-10-01`` | ``week ending 2023-10-01``, ``w/e 01/10/2023``, ``WE 1 Oct 2023`` |
| day          | ``2025-09-14`` (a date that is not the 1st) | ``14/09/2025``          |

``YYYY-MM`` is always a month: ``2011-12`` is December 2011. A bare date on the 1st is a month
too (``2023-10-01`` is October 2023), so a weekly publication says ``week ending 2023-10-01``
or names its ISO week (``2023-W39``): the week ending Sunday 1 October 2023 is not the month.
Because ``2011-12`` is also the canonical text of that financial year, the kind is stored
beside the text wherever it matters (load events), never re-derived from the text. Write the financial year
2011-12 as ``2011/12`` or ``FY2011-12`` (``2025-26`` is unambiguous because 26 is no month).
Quarters are calendar quarters as written; NHS financial-year quarters are written as a
fiscal year plus quarter (``2025-26 Q2`` → ``2025-26-Q2``, kind ``fiscal_quarter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from datawarp.core.errors import BadInputError

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip

PERIOD_HELP = (
    "use e.g. 2025-09 (month), 2025-Q2 (quarter), 2025-26 (financial year), 2025,"
    " 2025-W07 (ISO week) or week ending 2025-02-16"
)
# "week ending 2023-10-01", "w/e 01/10/2023", "WE 1 Oct 2023": how NHS weekly files say it.
WEEK_ENDING = re.compile(
    r"^(?:week[\s-]+ending|wk[\s-]+ending|w/e|w\.e\.?|we)(?![a-z])[\s:.-]*(.+)$"
)


@dataclass(frozen=True)
class Period:
    text: str
    kind: str

    def __str__(self) -> str:
        return self.text


def month_period(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} out of range")
    return Period(f"{year:04d}-{month:02d}", "month")


def fiscal_text(start: int, end: int) -> str:
    if (start + 1) % 100 != end % 100:
        raise ValueError(f"financial year {start}-{end} must span consecutive years")
    return f"{start:04d}-{(start + 1) % 100:02d}"


def _month_number(name: str) -> int:
    if name not in MONTHS:
        raise ValueError(f"unknown month name {name!r}")
    return MONTHS[name]


def _two_digit_year(value: str) -> int:
    year = int(value)
    return year + 2000 if year < 100 else year


_PATTERNS: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^(\d{4})-(0?[1-9]|1[0-2])$"), lambda m: month_period(int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{1,2})/(\d{4})$"), lambda m: month_period(int(m[2]), int(m[1]))),
    (
        re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
        lambda m: _day(int(m[1]), int(m[2]), int(m[3])),
    ),
    (
        re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"),
        lambda m: _day(int(m[3]), int(m[2]), int(m[1])),
    ),
    (
        re.compile(r"^([a-z]+)[\s\-]+(\d{2}|\d{4})$"),
        lambda m: month_period(_two_digit_year(m[2]), _month_number(m[1])),
    ),
    (re.compile(r"^(\d{4})\s*-?\s*q([1-4])$"), lambda m: Period(f"{m[1]}-Q{m[2]}", "quarter")),
    (re.compile(r"^q([1-4])\s+(\d{4})$"), lambda m: Period(f"{m[2]}-Q{m[1]}", "quarter")),
    (
        re.compile(r"^(?:fy\s*)?(\d{4})\s*[-/]\s*(\d{2}|\d{4})$"),
        lambda m: Period(fiscal_text(int(m[1]), int(m[2])), "fiscal_year"),
    ),
    (
        re.compile(r"^(?:fy\s*)?(\d{4})\s*[-/]\s*(\d{2})\s*-?\s*q([1-4])$"),
        lambda m: Period(f"{fiscal_text(int(m[1]), int(m[2]))}-Q{m[3]}", "fiscal_quarter"),
    ),
    (re.compile(r"^(\d{4})$"), lambda m: Period(m[1], "year")),
    (re.compile(r"^(\d{4})-?w(\d{1,2})$"), lambda m: iso_week(int(m[1]), int(m[2]))),
    (re.compile(r"^w(\d{1,2})\s+(\d{4})$"), lambda m: iso_week(int(m[2]), int(m[1]))),
    (WEEK_ENDING, lambda m: week_ending(date_in_text(m[1]))),
]

_DATES = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), lambda m: (m[1], m[2], m[3])),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), lambda m: (m[3], m[2], m[1])),
    (
        re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-]*([a-z]+)[\s\-,]*(\d{4}|\d{2})$"),
        lambda m: (_two_digit_year(m[3]), _month_number(m[2]), m[1]),
    ),
]
_WEEKDAY = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+")


def date_in_text(text: str) -> date:
    """A date as NHS files write one: ``2023-10-01``, ``01/10/2023`` (day first), ``1 Oct 2023``,
    ``Sunday 1st October 2023``; raises ValueError otherwise."""
    text = _WEEKDAY.sub("", text.strip().lower())
    for pattern, parts in _DATES:
        match = pattern.match(text)
        if match:
            year, month, day = (int(part) for part in parts(match))
            return date(year, month, day)
    raise ValueError(f"no date in {text!r}")


def week_ending(day: date) -> Period:
    """The week that ends on ``day``, named by that date (whatever weekday the publisher ends
    its weeks on)."""
    return Period(day.isoformat(), "week_ending")


def _day(year: int, month: int, day: int) -> Period:
    value = date(year, month, day)
    if value.day == 1:
        return month_period(year, month)
    return Period(value.isoformat(), "day")


def iso_week(year: int, week: int) -> Period:
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week}") from None
    return Period(f"{year:04d}-W{week:02d}", "week")


def parse_period(value: object) -> Period:
    """Normalise a period as written in a manifest; raises BadInputError when unparseable."""
    if isinstance(value, date):
        return _day(value.year, value.month, value.day)
    text = str(value).strip().lower()
    for pattern, build in _PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return build(match)
            except ValueError as exc:
                raise BadInputError(f"Unparseable period {value!r}: {exc}; {PERIOD_HELP}") from None
    raise BadInputError(f"Unparseable period {value!r}: {PERIOD_HELP}")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_span(period: Period) -> tuple[date, date]:
    """The first and last day a period covers, as the catalog's ``period_start`` and
    ``period_end`` compute them: two readings of the same days are the same period."""
    text, kind = period.text, period.kind
    if kind in ("day", "week_ending"):
        last = date.fromisoformat(text)
        return (last - timedelta(days=6) if kind == "week_ending" else last), last
    if kind == "week":
        first = date.fromisocalendar(int(text[:4]), int(text[6:]), 1)
        return first, first + timedelta(days=6)
    year = int(text[:4])
    first, months = {
        "month": lambda: (date(year, int(text[5:7]), 1), 1),
        "quarter": lambda: (date(year, int(text[-1]) * 3 - 2, 1), 3),
        "year": lambda: (date(year, 1, 1), 12),
        "fiscal_year": lambda: (date(year, 4, 1), 12),
        "fiscal_quarter": lambda: (_add_months(date(year, 4, 1), (int(text[-1]) - 1) * 3), 3),
    }[kind]()
    return first, _add_months(first, months) - timedelta(days=1)
