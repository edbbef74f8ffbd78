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
| week         | ``2025-W07`` | ``2025W07``                                             |
| day          | ``2025-09-14`` (a date that is not the 1st: weekly sitreps) | ``14/09/2025`` |

``YYYY-MM`` is always a month: ``2011-12`` is December 2011.
Because ``2011-12`` is also the canonical text of that financial year, the kind is stored
beside the text wherever it matters (load events), never re-derived from the text. Write the financial year
2011-12 as ``2011/12`` or ``FY2011-12`` (``2025-26`` is unambiguous because 26 is no month).
Quarters are calendar quarters as written; NHS financial-year quarters are written as a
fiscal year plus quarter (``2025-26 Q2`` → ``2025-26-Q2``, kind ``fiscal_quarter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

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

PERIOD_HELP = "use e.g. 2025-09 (month), 2025-Q2 (quarter), 2025-26 (financial year) or 2025"


@dataclass(frozen=True)
class Period:
    text: str
    kind: str

    def __str__(self) -> str:
        return self.text


def _month(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} out of range")
    return Period(f"{year:04d}-{month:02d}", "month")


def _fiscal(start: int, end: int) -> str:
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
    (re.compile(r"^(\d{4})-(0?[1-9]|1[0-2])$"), lambda m: _month(int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{1,2})/(\d{4})$"), lambda m: _month(int(m[2]), int(m[1]))),
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
        lambda m: _month(_two_digit_year(m[2]), _month_number(m[1])),
    ),
    (re.compile(r"^(\d{4})\s*-?\s*q([1-4])$"), lambda m: Period(f"{m[1]}-Q{m[2]}", "quarter")),
    (re.compile(r"^q([1-4])\s+(\d{4})$"), lambda m: Period(f"{m[2]}-Q{m[1]}", "quarter")),
    (
        re.compile(r"^(?:fy\s*)?(\d{4})\s*[-/]\s*(\d{2}|\d{4})$"),
        lambda m: Period(_fiscal(int(m[1]), int(m[2])), "fiscal_year"),
    ),
    (
        re.compile(r"^(?:fy\s*)?(\d{4})\s*[-/]\s*(\d{2})\s*-?\s*q([1-4])$"),
        lambda m: Period(f"{_fiscal(int(m[1]), int(m[2]))}-Q{m[3]}", "fiscal_quarter"),
    ),
    (re.compile(r"^(\d{4})$"), lambda m: Period(m[1], "year")),
    (
        re.compile(r"^(\d{4})-?w(\d{1,2})$"),
        lambda m: _week(int(m[1]), int(m[2])),
    ),
]


def _day(year: int, month: int, day: int) -> Period:
    value = date(year, month, day)
    if value.day == 1:
        return _month(year, month)
    return Period(value.isoformat(), "day")


def _week(year: int, week: int) -> Period:
    if not 1 <= week <= 53:
        raise ValueError(f"week {week} out of range")
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
