"""Which sheet holds the data: every sheet classified by name and content, one chosen.

A sheet is a *cover*, *contents*, *notes* or *chart* sheet when its name says so ('Cover',
'Title sheet', 'Contents', 'Notes and definitions', 'Data Quality', 'Chart Data'), or when
no table is found in it (then *notes*, or *empty*). Everything else with a table is *data*. When a sheet is named, the others are classified
by name only (*unread* when the name says nothing), so a big workbook is not read in full.

When no sheet is named, the first visible data sheet in workbook order is chosen: publishers
put the main table first ('NHS Trust by Sector' before 'Region by Sector'; 'Activity' before
'Performance'). When several visible sheets hold tables, the choice is flagged ``ambiguous``
and every candidate is summarised (``SheetCandidate``: data rows, columns, first headers).
``choose_sheet`` is the one place that decides, for ``datawarp inspect`` and for the loader:
inspect reads the first candidate and warns with the list (``several_sheets_warning``); the
loader refuses the file with the same list (``SeveralSheetsError``), so a manifest never
depends on this guess.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.table import WINDOW_ROWS, NoTableError, TableLayout, detect_layout
from datawarp.pipeline.extract.table_rows import TableReader
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
    data_rows: int | None = None  # counted only when several sheets hold tables

    @property
    def label(self) -> str:
        marks = [self.kind] + (["hidden"] if self.hidden else [])
        return f"'{self.name}' ({', '.join(marks)})"


SHOWN_HEADERS = 3  # first headers a candidate's summary shows
HEADER_CHARS = 40  # each shortened to about this many characters


@dataclass(frozen=True)
class SheetCandidate:
    """A sheet that could be the one to load, as both commands list it."""

    name: str
    rows: int  # data rows, as a load of this sheet would count them
    columns: int
    headers: tuple[str, ...]  # the first few columns' headers, as the file writes them
    detail: str  # "152 rows × 24 cols: Org Code, Org Name, Region, …"
    summary: str  # "'Provider' (152 rows × 24 cols: Org Code, Org Name, Region, …)"

    @classmethod
    def of(cls, survey: SheetSurvey) -> SheetCandidate:
        assert survey.layout is not None and survey.data_rows is not None
        columns, rows = survey.layout.columns, survey.data_rows
        headers = _first_headers(
            [c.original_header for c in columns if c.sheet_column is not None]  # block titles
        )  # say little
        shown = ", ".join([*headers, "…"] if len(columns) > len(headers) else headers)
        detail = (
            f"{rows:,} row{'s' if rows != 1 else ''} × {len(columns)}"
            f" col{'s' if len(columns) != 1 else ''}: {shown}"
        )
        summary = f"'{survey.name}' ({detail})"
        return cls(survey.name, rows, len(columns), headers, detail, summary)


def _first_headers(headers: list[str]) -> tuple[str, ...]:
    """The first headers, each shortened; a band shared with the header before is left out
    ('Attendances | Type 1', 'Type 2')."""
    shown: list[str] = []
    band = None
    for header in headers[:SHOWN_HEADERS]:
        *levels, leaf = [" ".join(part.split()) for part in header.split(" | ")]
        shown.append(_short(leaf if levels and levels == band else " | ".join([*levels, leaf])))
        band = levels
    return tuple(shown)


def _short(header: str) -> str:
    if len(header) <= HEADER_CHARS:
        return header
    cut = header[:HEADER_CHARS].rsplit(" ", 1)[0].rstrip(" |-,")
    return (cut or header[:HEADER_CHARS]) + "…"


@dataclass
class SheetChoice:
    chosen: SheetSurvey
    surveys: list[SheetSurvey]
    ambiguous: bool
    warnings: list[str]
    candidates: list[SheetCandidate] = field(default_factory=list)  # when ambiguous


class SeveralSheetsError(BadInputError):
    """Several sheets hold tables and none was named: the loader never guesses."""

    def __init__(self, message: str, candidates: list[SheetCandidate]):
        super().__init__(message)
        self.candidates = candidates


def candidates_listing(candidates: list[SheetCandidate]) -> str:
    return "; ".join(candidate.summary for candidate in candidates)


def manifest_sheet(name: str) -> str:
    """``sheet: NAME`` as a manifest line would need it (quoted where YAML would misread it)."""
    try:
        plain = yaml.safe_load(f"sheet: {name}") == {"sheet": name}
    except yaml.YAMLError:
        plain = False
    return f"sheet: {name}" if plain else "sheet: '" + name.replace("'", "''") + "'"


def several_sheets_message(display_name: str, candidates: list[SheetCandidate]) -> str:
    """Why a load refuses the file: the candidates, and how to choose one."""
    return (
        f"{display_name} has {len(candidates)} sheets holding tables:"
        f" {candidates_listing(candidates)}; add sheet: NAME to the file's manifest entry"
        f" (e.g. {manifest_sheet(candidates[0].name)})"
    )


def several_sheets_warning(display_name: str, candidates: list[SheetCandidate]) -> str:
    """What inspect says of the sheet it showed: the same candidates, and how to choose."""
    return (
        f"{display_name} has {len(candidates)} sheets holding tables:"
        f" {candidates_listing(candidates)}; shown: '{candidates[0].name}' (the first);"
        " a load needs sheet: NAME in the file's manifest entry; inspect another with"
        " --sheet NAME"
    )


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
            window, sheet_label=sheet_label(workbook, name), is_csv=workbook.kind == "csv"
        )
    except NoTableError as exc:
        survey.problem = exc.message
        if survey.kind == DATA:
            survey.kind = NOTES
        return survey
    if keep_rows:
        survey.rows = itertools.chain(window, rows)
    return survey


def sheet_label(workbook: Workbook, name: str) -> str:
    if workbook.kind == "csv":
        return workbook.display_name
    return f"{workbook.display_name}, sheet '{name}'"


def choose_sheet(
    workbook: Workbook, requested: str | None, *, refuse_several: bool = False
) -> SheetChoice:
    """Survey every sheet and pick the one to read (``requested``, or the best data sheet).

    When several visible sheets hold tables and none is named, each is summarised; with
    ``refuse_several`` (the loader) that is a ``SeveralSheetsError``, else (inspect) the
    first is read, with a warning listing them all.
    """
    if requested is not None:
        return _named_sheet(workbook, requested)
    surveys: list[SheetSurvey] = []
    for info in workbook.sheets:
        first_candidate = not any(_is_candidate(survey) for survey in surveys)
        survey = survey_sheet(workbook, info.name, info.index, info.hidden)
        if _is_candidate(survey) and not first_candidate:
            _count_rows(workbook, survey)  # a second candidate: the choice is ambiguous
        elif not (_is_candidate(survey) and first_candidate):
            survey.rows = None  # a cover or hidden sheet with a table is not read on
        surveys.append(survey)
    candidates = [survey for survey in surveys if _is_candidate(survey)]
    if not candidates:
        raise _nothing_to_load(workbook, surveys)
    chosen = candidates[0]
    if len(candidates) == 1:
        return SheetChoice(chosen, surveys, ambiguous=False, warnings=[])
    _count_rows(workbook, chosen)
    listed = [SheetCandidate.of(survey) for survey in candidates]
    if refuse_several:
        raise SeveralSheetsError(several_sheets_message(workbook.display_name, listed), listed)
    chosen.rows = workbook.iter_rows(chosen.name)  # counting read it: read again from the top
    warning = several_sheets_warning(workbook.display_name, listed)
    return SheetChoice(chosen, surveys, ambiguous=True, warnings=[warning], candidates=listed)


def _named_sheet(workbook: Workbook, requested: str) -> SheetChoice:
    # Only the named sheet is read: each sheet read costs a whole sheet in memory.
    wanted = workbook.resolve_sheet(requested).name
    surveys = [
        survey_sheet(workbook, info.name, info.index, info.hidden)
        if info.name == wanted
        else SheetSurvey(info.name, info.index, info.hidden, kind_from_name(info.name) or UNREAD)
        for info in workbook.sheets
    ]
    chosen = next(survey for survey in surveys if survey.name == wanted)
    if chosen.layout is None:
        raise NoTableError(chosen.problem or f"sheet '{wanted}' holds no table")
    return SheetChoice(chosen, surveys, ambiguous=False, warnings=[])


def _count_rows(workbook: Workbook, survey: SheetSurvey) -> None:
    """The data rows a load of this sheet would read, from the survey's kept row stream, which
    is used up (and let go: the sheet an Excel reader holds goes with it)."""
    assert survey.layout is not None and survey.rows is not None
    label, is_csv = sheet_label(workbook, survey.name), workbook.kind == "csv"
    reader = TableReader(survey.layout, display_name=label, is_csv=is_csv)
    survey.data_rows = sum(len(numbers) for numbers, _ in reader.chunks(survey.rows, 4096))
    survey.rows = None


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
