"""A file's period when the manifest names none: the title block's, else the file name's.

The title block (``Period: July to September 2020``) is the publisher's own statement inside the
file, so it comes first; a file name is often shortened or renamed (``tempfile.xls``). When the
title block names several periods (a time series, ``August 2010 - present``) the file has no
one period, and its name (the edition, ``…-Jun22``) is not taken for one. When the manifest
does name a period, the same readings check it: a manifest line copied from last month's and
not updated is the commonest way to load a file under the wrong period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from datawarp.core.period_text import Reading, file_name_of, read_period_text
from datawarp.core.periods import Period, period_span
from datawarp.core.vocabulary import PeriodSource

_PERIOD_KEYS = {"period", "reporting period", "time period", "period covered", "data period"}
_WEEK_KEYS = {"week ending", "week end", "w/e"}


@dataclass(frozen=True)
class Clue:
    """One place that may name the period, and what it says."""

    where: str  # "the title block" / "the file name"
    text: str  # as written: "Period: July to September 2020", "Monthly-AE-September-2023"
    reading: Reading

    def said(self) -> str:
        """Why this place gave no period, for the message that none was found."""
        if self.reading.several:
            return f"{self.where} ({self.text}) names several periods"
        if self.reading.ambiguous:
            return f"{self.where} ({self.text}) is ambiguous: {self.reading.ambiguous}"
        return f"{self.where} ({self.text}) names none"


@dataclass(frozen=True)
class Inferred:
    period: Period | None
    source: PeriodSource | None
    evidence: str | None  # "the title block (Period: July to September 2020)"
    tried: list[str] = field(default_factory=list)  # what each place said, when none was found
    warnings: list[str] = field(default_factory=list)


def title_clue(metadata: Mapping[str, str]) -> Clue | None:
    """The title block's period line (``Period:``, ``Reporting period:``, ``Week ending:``)."""
    for key, value in metadata.items():
        name = " ".join(key.lower().split())
        if name in _PERIOD_KEYS or name in _WEEK_KEYS:
            text = f"week ending {value}" if name in _WEEK_KEYS else value
            return Clue(
                "the title block", f"{key}: {value}", read_period_text(text, whole_year=True)
            )
    return None


def name_clue(location: str) -> Clue:
    name = file_name_of(location)
    return Clue("the file name", name, read_period_text(name))


def _same_days(one: Period, other: Period) -> bool:
    return one.text == other.text or period_span(one) == period_span(other)


def _shown(period: Period) -> str:
    return f"week ending {period.text}" if period.kind == "week_ending" else period.text


def infer_period(metadata: Mapping[str, str], location: str) -> Inferred:
    """The period the file names, with where it was found; none with what each place said."""
    title, name = title_clue(metadata), name_clue(location)
    if title is not None and title.reading.period is not None:
        found = title.reading.period
        warnings = []
        other = name.reading.period
        if other is not None and not _same_days(found, other):
            warnings.append(
                f"{name.where} ({name.text}) suggests {_shown(other)}, {title.where}"
                f" ({title.text}) {_shown(found)}: loading as {_shown(found)}"
            )
        return Inferred(found, PeriodSource.TITLE, f"{title.where} ({title.text})", [], warnings)
    tried = [title.said() if title else "the title block has no Period: line"]
    if title is None or not title.reading.several:
        if name.reading.period is not None:
            evidence = f"{name.where} ({name.text})"
            return Inferred(name.reading.period, PeriodSource.FILE_NAME, evidence)
        tried.append(name.said())
    return Inferred(None, None, None, tried)


def disagreements(period: Period, metadata: Mapping[str, str], location: str) -> list[str]:
    """Where the file itself names another period than the manifest does."""
    problems = []
    for clue in (title_clue(metadata), name_clue(location)):
        found = clue.reading.period if clue else None
        if clue is not None and found is not None and not _same_days(found, period):
            problems.append(
                f"the manifest says {_shown(period)}, but {clue.where} ({clue.text}) says"
                f" {_shown(found)}: is this the right file for {_shown(period)}?"
            )
    return problems
