"""Reading a period out of words written for people: a title block's ``Period:`` line, a file name.

``periods.parse_period`` reads what a user typed on purpose into a manifest. This module reads
what a publisher wrote ("July to September 2020", "Weekly-AE-Sitrep-Provider-we-07-Nov-2010")
and answers one of: one period; several periods (a range, a list, a time series, "up to" a
month), which no single period describes; a text with two readings, reported and never chosen
(a date on the 1st is a month or a week; ``2011-12`` a month or a financial year); nothing.

A range of months is one period only when it is exactly one: three months starting in April,
July, October or January are a financial-year quarter (how NHS England counts quarters), April
to March a financial year, January to December a year. Eight-digit stamps (``20241130``) are
left alone: in NHS file names they are usually the day the extract was taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote

from datawarp.core.periods import MONTHS, Period, fiscal_text, iso_week, month_period, week_ending

_MONTH = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|sept|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)"
)
_YEAR = r"((?:19|20)\d{2}|\d{2})(?!\d)"
_DATES = [  # (pattern, (year, month, day) groups); month as a name or a number
    (re.compile(rf"\b(\d{{1,2}}) ?{_MONTH} ?{_YEAR}"), (3, 2, 1)),
    (re.compile(r"\b(\d{4})[ /](\d{1,2})[ /](\d{1,2})(?!\d)"), (1, 2, 3)),
    (re.compile(r"\b(\d{1,2})[ /](\d{1,2})[ /](\d{4})(?!\d)"), (3, 2, 1)),
]
_WEEK_ENDING = re.compile(r"\b(?:week ending|wk ending|w/e|w e|we)\b ?")
_ISO_WEEK = [
    (re.compile(r"\b(\d{4}) ?(?:w|wk|week) ?(\d{1,2})\b"), (1, 2)),
    (re.compile(r"\b(?:w|wk|week) ?(\d{1,2}) (\d{4})\b"), (2, 1)),
]
_MONTH_RANGE = re.compile(rf"\b{_MONTH}(?: ?{_YEAR})? (to |until |and )?{_MONTH} ?{_YEAR}")
_FISCAL_QUARTER = [
    (re.compile(r"\b(?:q|quarter) ?([1-4]) (?:fy ?)?(\d{4})[ /](\d{2}|\d{4})(?!\d)"), (2, 3, 1)),
    (re.compile(r"\b(?:fy ?)?(\d{4})[ /](\d{2}|\d{4}) (?:q|quarter) ?([1-4])\b"), (1, 2, 3)),
]
_QUARTER = [
    (re.compile(r"\b(?:q|quarter) ?([1-4]) (\d{4})\b"), (2, 1)),
    (re.compile(r"\b(\d{4}) ?(?:q|quarter) ?([1-4])\b"), (1, 2)),
]
_YEAR_PAIR = re.compile(r"\b(fy ?)?(\d{4})( |/)(\d{4}|\d{2})(?!\d)")
_MONTH_YEAR = re.compile(rf"\b{_MONTH} ?{_YEAR}")
_NUMERIC_MONTH = re.compile(r"\b(\d{1,2})/(\d{4})(?!\d)")
_OPEN_ENDED = re.compile(r"\b(present|to date|latest|onwards)\b")
_SERIES = re.compile(r"\btime ?series\b")
_LEADS_TO_RANGE = re.compile(r"\b(to|until|up to|from)\s*$")
_EXTENSIONS = re.compile(r"\.(csv|xlsx|xlsm|xls|ods|zip|txt)$", re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """What a text says about its period."""

    period: Period | None = None
    several: bool = False  # a range, a list or a series: no one period
    ambiguous: str | None = None  # why the one period found has two readings


@dataclass
class _Scan:
    text: str
    found: list[tuple[int, Period]]
    ambiguous: list[str]
    several: bool = False

    def take(self, match: re.Match, period: Period | None, end: int | None = None) -> None:
        stop = match.end() if end is None else end
        if period is not None:
            self.found.append((match.start(), period))
        self.text = self.text[: match.start()] + " " * (stop - match.start()) + self.text[stop:]


def _words(text: str) -> str:
    text = unquote(text).lower()
    text = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", text)
    text = re.sub(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", " ", text)
    text = re.sub(r"[\s_\-–—,+()\[\].:;]+", " ", text)
    return f" {text.strip()} "


def file_name_of(location: str) -> str:
    """The file's name without its extensions (``x.csv.zip`` → ``x``), from a path or URL."""
    name = location.split("?", 1)[0].rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    while _EXTENSIONS.search(name):
        name = _EXTENSIONS.sub("", name)
    return name


def read_period_text(text: str, *, whole_year: bool = False) -> Reading:
    """The period ``text`` names; ``whole_year``: a text that is only a year names that year
    (a title's ``Period: 2016``; in a file name a lone year is too often something else)."""
    scan = _Scan(_words(text), [], [])
    if whole_year and re.fullmatch(r" (\d{4}) ", scan.text):
        return Reading(Period(scan.text.strip(), "year"))
    for step in (_week_endings, _iso_weeks, _month_ranges, _dates, _quarters, _year_pairs):
        step(scan)
    for match in list(_MONTH_YEAR.finditer(scan.text)):
        scan.take(match, month_period(_year(match[2]), MONTHS[match[1]]))
    for match in list(_NUMERIC_MONTH.finditer(scan.text)):
        scan.take(match, _safe(lambda m=match: month_period(int(m[2]), int(m[1]))))
    return _verdict(scan)


def _verdict(scan: _Scan) -> Reading:
    periods = {period for _, period in scan.found}
    named = bool(periods or scan.ambiguous)
    opened = any(_LEADS_TO_RANGE.search(scan.text[:start]) for start, _ in scan.found)
    series = _SERIES.search(scan.text) or _OPEN_ENDED.search(scan.text)
    if scan.several or len(periods) > 1 or (named and (opened or series)):
        return Reading(several=True)
    if scan.ambiguous:
        return Reading(ambiguous=scan.ambiguous[0])
    return Reading(periods.pop()) if periods else Reading()


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _safe(build) -> Period | None:
    try:
        return build()
    except ValueError:
        return None


def _date(match: re.Match, groups: tuple[int, int, int]) -> date | None:
    year, month, day = (match[g] for g in groups)
    number = MONTHS[month] if month in MONTHS else int(month)
    try:
        return date(_year(year), number, int(day))
    except ValueError:
        return None


def _week_endings(scan: _Scan) -> None:
    for marker in list(_WEEK_ENDING.finditer(scan.text)):
        rest = scan.text[marker.end() :]
        for pattern, groups in _DATES:
            match = pattern.match(rest)
            day = _date(match, groups) if match else None
            if day is not None:
                scan.take(marker, week_ending(day), marker.end() + match.end())
                break


def _iso_weeks(scan: _Scan) -> None:
    for pattern, (year, week) in _ISO_WEEK:
        for match in list(pattern.finditer(scan.text)):
            found = _safe(lambda m=match, y=year, w=week: iso_week(int(m[y]), int(m[w])))
            if found is not None:
                scan.take(match, found)


def _month_ranges(scan: _Scan) -> None:
    for match in list(_MONTH_RANGE.finditer(scan.text)):
        first, last = MONTHS[match[1]], MONTHS[match[4]]
        end_year = _year(match[5])
        start_year = _year(match[2]) if match[2] else end_year - (first > last)
        one = None if match[3] == "and " else _range_period(start_year, first, end_year, last)
        scan.several = scan.several or one is None  # a list, or a range that is no one period
        scan.take(match, one)


def _range_period(start_year: int, first: int, end_year: int, last: int) -> Period | None:
    months = (end_year * 12 + last) - (start_year * 12 + first) + 1
    if months == 1:
        return month_period(start_year, first)
    fiscal_start = start_year if first >= 4 else start_year - 1
    if months == 3 and first in (1, 4, 7, 10):
        quarter = (first - 4) % 12 // 3 + 1
        return Period(f"{fiscal_text(fiscal_start, fiscal_start + 1)}-Q{quarter}", "fiscal_quarter")
    if months == 12 and first == 4:
        return Period(fiscal_text(start_year, start_year + 1), "fiscal_year")
    if months == 12 and first == 1:
        return Period(f"{start_year:04d}", "year")
    return None


def _dates(scan: _Scan) -> None:
    for pattern, groups in _DATES:
        for match in list(pattern.finditer(scan.text)):
            day = _date(match, groups)
            if day is None:
                continue
            if day.day == 1:
                scan.ambiguous.append(
                    f"{day.isoformat()} could be the month {day:%Y-%m} or a day or week"
                )
                scan.take(match, None)
            else:
                scan.take(match, Period(day.isoformat(), "day"))


def _quarters(scan: _Scan) -> None:
    for pattern, (start, end, quarter) in _FISCAL_QUARTER:
        for match in list(pattern.finditer(scan.text)):
            found = _safe(
                lambda m=match, s=start, e=end, q=quarter: Period(
                    f"{fiscal_text(int(m[s]), int(m[e]))}-Q{m[q]}", "fiscal_quarter"
                )
            )
            if found is not None:
                scan.take(match, found)
    for pattern, (year, quarter) in _QUARTER:
        for match in list(pattern.finditer(scan.text)):
            scan.take(match, Period(f"{match[year]}-Q{match[quarter]}", "quarter"))


def _year_pairs(scan: _Scan) -> None:
    """``2016/17`` and ``FY2016-17`` are financial years; ``2023-10`` a month; ``2011-12``
    either, so neither."""
    for match in list(_YEAR_PAIR.finditer(scan.text)):
        first, second = int(match[2]), int(match[4])
        fiscal = _safe(lambda a=first, b=second: Period(fiscal_text(a, b), "fiscal_year"))
        month = _safe(lambda a=first, b=second: month_period(a, b)) if len(match[4]) == 2 else None
        if fiscal is not None and (match[1] or match[3] == "/" or month is None):
            scan.take(match, fiscal)
        elif fiscal is not None:
            scan.ambiguous.append(
                f"{first}-{match[4]} could be the month {month} or the financial year {fiscal}"
            )
            scan.take(match, None)
        elif month is not None:
            scan.take(match, month)
