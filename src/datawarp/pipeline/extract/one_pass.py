"""A plain CSV's table read once: typed from its first block, checked against every row.

``open_provisional`` gives a ``ProvisionalTable``: the table as the first block of the file
types it, whose ``iter_arrow_batches`` converts the whole file that way while pass 1
profiles it (``arrow_one_pass``). Once the batches have run out, ``settled`` is the table as
``engine.open_fetched`` gives it (pass 1 over every row), and ``guess_held`` says whether the
batches sent are the ones that table's pass 2 gives. The loader uses this for a new table,
or one the first block's columns fit as they are, in a savepoint it rolls back when the guess
did not hold (``pipeline.one_read``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from datawarp.pipeline.extract.engine import ExtractedTable, profiled_table
from datawarp.pipeline.extract.env_limits import arrow_enabled
from datawarp.pipeline.extract.file_ahead import AHEAD
from datawarp.pipeline.extract.formats import member_is_text, open_workbook, sniff
from datawarp.pipeline.extract.row_levels import LevelDecision
from datawarp.pipeline.extract.sheets import SheetChoice, choose_sheet
from datawarp.pipeline.extract.table import TableLayout
from datawarp.pipeline.extract.workbook import Workbook

if TYPE_CHECKING:
    import pyarrow as pa

    from datawarp.pipeline.extract.arrow_csv import ArrowProfile
    from datawarp.pipeline.extract.arrow_one_pass import OnePass
    from datawarp.pipeline.extract.arrow_stream import ArrowSource
    from datawarp.pipeline.fetch import FetchedFile


@dataclass
class ProvisionalTable:
    """A plain CSV's table as its first block types it (``table``: its columns and plans are
    the guess; its counts are the block's), and the one read that loads it."""

    table: ExtractedTable
    one_pass: OnePass
    _opened: tuple[FetchedFile, Workbook, SheetChoice, TableLayout]

    def iter_arrow_batches(self, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Every row as typed batches, as ``table`` types and flags them
        (``OnePass.typed_batches``)."""
        from datawarp.pipeline.extract.arrow_one_pass import RowRules

        table = self.table
        rules = RowRules(table._marker_columns, table._levels,
                         sent=bool(table.total_rows or table.row_levels))  # fmt: skip
        return self.one_pass.typed_batches(table.column_names, table._plans, rules, batch_size)

    def for_file(self, fetched: FetchedFile) -> ProvisionalTable:
        """This table, opened ahead from the file's path, as the fetched file (its fingerprint
        among the rest)."""
        _, *rest = self._opened
        self._opened = (fetched, *rest)  # type: ignore[assignment]
        self.table.source = fetched
        return self

    def hand_back_encoding(self) -> None:
        """For the usual path, where this attempt gives up (``_hand_back_encoding``)."""
        _hand_back_encoding(self._opened[0], self.table.member, self.table.encoding)

    def settled(self) -> ExtractedTable:
        """The table as pass 1 over every row makes it; only once the batches have run out
        (or ``GuessMissed`` was raised)."""
        if not self.one_pass.finished:
            raise RuntimeError("the file has not been read to its end")
        profile = self.one_pass.profile
        table = profiled_table(*self._opened, profile, profile.stats)  # type: ignore[arg-type]
        table._arrow = profile  # pass 2, if the guess did not hold, reads the file again
        return table


def guess_held(provisional: ProvisionalTable, settled: ExtractedTable) -> bool:
    """Whether the batches made as the first block said are those ``settled`` makes: the same
    columns, types and conversions, the same totals rule and levels, and the very rows it
    flags as totals and counts at each level."""
    guess, one_pass = provisional.table, provisional.one_pass
    return (
        guess._plans == settled._plans
        and _shape(guess) == _shape(settled)
        and guess._marker_columns == settled._marker_columns
        and _rules(guess._levels) == _rules(settled._levels)
        and sorted(one_pass.flagged) == settled.total_rows
        and dict(one_pass.level_counts) == settled.row_levels
    )


def _rules(decision: LevelDecision | None) -> tuple | None:
    """What ``_level`` depends on besides the plan (made from the layout both share): the
    totals rule's columns, and whether levels mix."""
    return None if decision is None else (decision.allowed, decision.mixed)


def _shape(table: ExtractedTable) -> list[tuple[str, str]]:
    return [(column.name, column.pg_type) for column in table.columns]


def open_provisional(
    source: FetchedFile, *, sheet: str | None = None, member: str | None = None
) -> ProvisionalTable | None:
    """The table of a plain CSV typed from its first block, or None where the file needs
    ``engine.open_fetched`` (not a CSV or a ZIP's CSV member, not a plain layout,
    DATAWARP_NO_ARROW). Only the first bytes of a workbook (or of a ZIP's workbook member)
    are read to tell it: the usual path opens it once (a workbook read ahead is handed over
    once, a member copied out once)."""
    if not arrow_enabled() or not _text(source, member):
        return None
    with open_workbook(source.path, display_name=source.name, member=member) as workbook:
        opened = _first_block(source, workbook, sheet)
        if opened is None:
            _hand_back_encoding(source, workbook.member, workbook.encoding)
            return None
    choice, layout, head, one_pass = opened
    parts = (source, workbook, choice, layout)
    table = profiled_table(*parts, head, head.stats)  # type: ignore[arg-type]
    return ProvisionalTable(table, one_pass, parts)


def _hand_back_encoding(source: FetchedFile, member: str | None, encoding: str | None) -> None:
    """The usual path opens a CSV file again: the encoding found here (a scan of the whole
    file) is handed to it rather than worked out again. A ZIP member's is never read ahead."""
    if member is None:
        AHEAD.give_back("encoding", source.path, encoding)


def _text(source: FetchedFile, member: str | None) -> bool:
    """A CSV, or a ZIP whose member to load is one."""
    kind = sniff(source.path, source.name)
    if kind == "zip":
        return member_is_text(source.path, source.name, member)
    return kind == "csv" and member is None  # a member of a file that is no ZIP: an error


def _first_block(source: FetchedFile, workbook: Workbook, sheet: str | None) -> tuple | None:
    """The sheet, its layout, the first block's (and last lines') profile and the one read
    to come; None where the fast path cannot read the file."""
    from datawarp.pipeline.extract import arrow_csv  # pyarrow: CSVs only
    from datawarp.pipeline.extract.arrow_one_pass import OnePass

    if workbook.kind != "csv":
        return None
    choice = choose_sheet(workbook, sheet, refuse_several=True)
    layout = choice.chosen.layout
    assert layout is not None
    if arrow_csv.plain_layout_problem(layout) is not None:
        return None
    arrow_source = arrow_csv.workbook_source(source.path, workbook, layout)
    try:
        head = _ends_profiled(arrow_source, layout)
        one_pass = OnePass(arrow_source, layout)
    except arrow_csv.ArrowFallback:  # notes at the end: the Python path, from the start
        return None
    choice.chosen.rows = None
    return choice, layout, head, one_pass


def _ends_profiled(source: ArrowSource, layout: TableLayout) -> ArrowProfile:
    """Pass 1 over the file's first block and its last records: a totals row, a wider number
    or a notes line at the end of a file would otherwise prove the guess wrong only after a
    whole COPY. The last records' row numbers are not known (those the guess counts are its
    own)."""
    from datawarp.pipeline.extract import arrow_csv

    head = arrow_csv.empty_profile(source, layout)
    with arrow_csv.profile_pool() as pool:
        for records in (source.first_records(), source.last_records()):
            if records is not None:
                arrow_csv.profile_batch(head, records, pool)
    if not head.row_count:
        raise arrow_csv.ArrowFallback("no data rows")
    return head


@dataclass(frozen=True)
class OpenedAhead:
    """``open_provisional`` as done ahead (``open_provisional_ahead``): its table, or None
    where the file is not a plain CSV."""

    table: ProvisionalTable | None
    sheet: str | None


def open_provisional_ahead(path: Path, sheet: str | None) -> bool:
    """Open a local CSV's provisional table on a background thread (``file_ahead``) while the
    command starts on this one; whether it was started. Its modules are imported here first:
    two threads importing at once can wait on each other."""
    from datawarp.pipeline.extract import arrow_one_pass  # noqa: F401 - see above
    from datawarp.pipeline.fetch import FetchedFile

    # Fingerprinted apart (``fetch``): ``take_provisional`` gives the table the fetched file.
    ahead = FetchedFile(path=path.resolve(), sha256="", size=0, location=str(path))
    return AHEAD.start(
        "provisional", path, lambda _: OpenedAhead(open_provisional(ahead, sheet=sheet), sheet)
    )


def take_provisional(
    fetched: FetchedFile, *, sheet: str | None = None, member: str | None = None
) -> OpenedAhead | None:
    """What ``open_provisional`` gave ahead for this file and sheet (its table as the fetched
    file), if it was started and the file is unchanged since; else None."""
    ahead = AHEAD.take("provisional", fetched.path)
    if not isinstance(ahead, OpenedAhead) or member is not None or ahead.sheet != sheet:
        return None
    if ahead.table is not None:
        if ahead.table.table.source.name != fetched.name:
            return None
        ahead.table.for_file(fetched)
    return ahead
