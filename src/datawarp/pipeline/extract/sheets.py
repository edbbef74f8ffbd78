"""Which sheet holds the data: every sheet classified by name and content, one chosen.

A sheet is a *cover*, *contents*, *notes* or *chart* sheet when its name says so ('Cover',
'Title sheet', 'Contents', 'Notes and definitions', 'Data Quality', 'Chart Data'), or when
no table is found in it (then *notes*, or *empty*). Everything else with a table is *data*. When a sheet is named, the others are classified
by name only (*unread* when the name says nothing), so a big workbook is not read in full.

When no sheet is named, the first visible data sheet in workbook order is chosen: publishers
put the main table first ('NHS Trust by Sector' before 'Region by Sector'; 'Activity' before
'Performance'). When several visible sheets hold tables, the choice is flagged ``ambiguous``
and a warning lists the others; the loader asks for ``sheet:`` then, so a manifest never
depends on this guess.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.table import WINDOW_ROWS, NoTableError, TableLayout, detect_layout
from datawarp.pipeline.extract.workbook import Row, Workbook

DATA, COVER, CONTENTS, NOTES, CHART, EMPTY = "data", "cover", "contents", "notes", "chart", "empty"
UNREAD = "unread"  # not looked at, because another sheet was named

_QUALIFIER = r"(\s*(and|&|-|:)\s.*)?"
_KINDS_BY_NAME = (
    (COVER, re.compile(r"(cover|title|front)( sheet| page)?" + _QUALIFIER, re.IGNORECASE)),
    (CONTENTS, re.compile(r"(table of )?contents|index|toc|menu", re.IGNORECASE)),
    (
        NOTES,
        re.compile(
            r"(notes?|definitions?|about|read ?me|guidance|glossary|methodology|background"
            r"|information|metadata|introduction|data quality|dq|key|revisions?|caveats)"
            + _QUALIFIER,
            re.IGNORECASE,
        ),
    ),
    (CHART, re.compile(r"(charts?|graphs?|figures?)(\s.*)?|.*\s(charts?|graphs?)", re.IGNORECASE)),
)


@dataclass
class SheetSurvey:
    """What a look at the first rows of one sheet found."""

    name: str
    index: int
    hidden: bool
    kind: str
    layout: TableLayout | None = None
    problem: str | None = None  # why no table was found
    rows: Iterator[Row] | None = field(default=None, repr=False)  # the rest, kept for reading

    @property
    def label(self) -> str:
        marks = [self.kind] + (["hidden"] if self.hidden else [])
        return f"'{self.name}' ({', '.join(marks)})"


@dataclass
class SheetChoice:
    chosen: SheetSurvey
    surveys: list[SheetSurvey]
    ambiguous: bool
    warnings: list[str]


def kind_from_name(name: str) -> str | None:
    for kind, pattern in _KINDS_BY_NAME:
        if pattern.fullmatch(name.strip()):
            return kind
    return None


def survey_sheet(
    workbook: Workbook, name: str, index: int, hidden: bool, *, keep_rows: bool = True
) -> SheetSurvey:
    """Classify one sheet from its name and its first ``WINDOW_ROWS`` rows.

    With ``keep_rows`` a sheet holding a table keeps its row stream for reading on; without,
    the stream (and the whole sheet an Excel reader holds in memory) is let go at once.
    """
    rows = workbook.iter_rows(name)
    window = list(itertools.islice(rows, WINDOW_ROWS))
    # A CSV's one sheet is named after the file ('Key Facts …'), which says nothing of its kind.
    by_name = None if workbook.kind == "csv" else kind_from_name(name)
    survey = SheetSurvey(name, index, hidden, by_name or DATA)
    if not any(any(cell is not None for cell in cells) for _, cells in window):
        survey.kind, survey.problem = by_name or EMPTY, f"sheet '{name}' is empty"
        return survey
    try:
        survey.layout = detect_layout(
            window, sheet_label=_sheet_label(workbook, name), is_csv=workbook.kind == "csv"
        )
    except NoTableError as exc:
        survey.problem = exc.message
        if survey.kind == DATA:
            survey.kind = NOTES
        return survey
    if keep_rows:
        survey.rows = itertools.chain(window, rows)
    return survey


def _sheet_label(workbook: Workbook, name: str) -> str:
    if workbook.kind == "csv":
        return workbook.display_name
    return f"{workbook.display_name}, sheet '{name}'"


def choose_sheet(workbook: Workbook, requested: str | None) -> SheetChoice:
    """Survey every sheet and pick the one to read (``requested``, or the best data sheet)."""
    if requested is not None:
        # Only the named sheet is read: each sheet read costs a whole sheet in memory.
        wanted = workbook.resolve_sheet(requested).name
        surveys = [
            survey_sheet(workbook, info.name, info.index, info.hidden)
            if info.name == wanted
            else SheetSurvey(
                info.name, info.index, info.hidden, kind_from_name(info.name) or UNREAD
            )
            for info in workbook.sheets
        ]
        chosen = next(survey for survey in surveys if survey.name == wanted)
        if chosen.layout is None:
            raise NoTableError(chosen.problem or f"sheet '{wanted}' holds no table")
        return SheetChoice(chosen, surveys, ambiguous=False, warnings=[])
    surveys: list[SheetSurvey] = []
    for info in workbook.sheets:
        first_candidate = not any(_is_candidate(survey) for survey in surveys)
        survey = survey_sheet(
            workbook, info.name, info.index, info.hidden, keep_rows=first_candidate
        )
        if not _is_candidate(survey):
            survey.rows = None  # a cover or hidden sheet with a table is not read on
        surveys.append(survey)
    candidates = [survey for survey in surveys if _is_candidate(survey)]
    if not candidates:
        raise _nothing_to_load(workbook, surveys)
    chosen = candidates[0]
    warnings = []
    if len(candidates) > 1:
        others = ", ".join(f"'{survey.name}'" for survey in candidates[1:])
        warnings.append(
            f"several sheets hold tables; read '{chosen.name}' (the first); "
            f"the others are {others}: name one with --sheet (sheet: in a manifest)"
        )
    return SheetChoice(chosen, surveys, ambiguous=len(candidates) > 1, warnings=warnings)


def _is_candidate(survey: SheetSurvey) -> bool:
    return survey.kind == DATA and not survey.hidden and survey.layout is not None


def _nothing_to_load(workbook: Workbook, surveys: list[SheetSurvey]) -> BadInputError:
    hidden_tables = [s for s in surveys if s.hidden and s.layout is not None and s.kind == DATA]
    listing = "; ".join(survey.label for survey in surveys) or "(no sheets)"
    if workbook.kind == "csv" and surveys and surveys[0].problem:
        return NoTableError(surveys[0].problem)
    message = f"{workbook.display_name} holds no loadable table; sheets: {listing}"
    if hidden_tables:
        message += (
            f". Hidden sheet '{hidden_tables[0].name}' has one: name it with --sheet to load it"
        )
    return NoTableError(message)
