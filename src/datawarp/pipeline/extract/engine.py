"""The extraction engine: a file (path or URL) in, a typed table streamed out in batches.

    table = open_fetched(fetch("https://…/Monthly-AE-September-2023.csv", cache_dir=...))
    table.columns            # names, original headers, PostgreSQL types, NULL counts
    for batch in table.iter_batches():
        ...                  # tuples: one value per column, then row_number, is_total, level

``open_fetched`` takes a fetched file (``pipeline.fetch``), chooses the sheet, detects the table and reads every data row
once to infer the column types (pass 1). ``iter_batches`` opens the file again and converts
the rows (pass 2). Neither pass keeps more than one batch of rows, so memory stays bounded
whatever the file's length; the price is reading the file twice (a load from a
plain CSV reads it once where it can: ``one_pass``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.columns import ColumnConverter, converted
from datawarp.pipeline.extract.env_limits import arrow_enabled
from datawarp.pipeline.extract.fill_down import FillDown, fill_positions
from datawarp.pipeline.extract.formats import open_workbook
from datawarp.pipeline.extract.header import column_letter
from datawarp.pipeline.extract.originals import ColumnPlan
from datawarp.pipeline.extract.pass_chunks import (
    ARROW_PASS_CELLS,
    READ_CHUNK,
    Chunk,
    KeptChunks,
    in_batches,
    paused_gc,
)
from datawarp.pipeline.extract.profile_pass import profile_pass
from datawarp.pipeline.extract.row_levels import LevelDecision
from datawarp.pipeline.extract.sheets import (
    SheetCandidate,
    SheetChoice,
    SheetSurvey,
    choose_sheet,
    sheet_label,
)
from datawarp.pipeline.extract.table import TableLayout, with_block_title
from datawarp.pipeline.extract.table_columns import (  # noqa: F401 - ExtractedColumn re-exported
    ColumnFacts,
    ExtractedColumn,
    column_warnings,
    extracted_column,
    with_originals,
)
from datawarp.pipeline.extract.table_rows import TableReader
from datawarp.pipeline.extract.workbook import ReadSheetAgain, Workbook

if TYPE_CHECKING:
    from datawarp.pipeline.extract import arrow_csv
    from datawarp.pipeline.fetch import FetchedFile

DEFAULT_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class ExtractedLayout:
    """Where the table sits in the sheet (1-based row numbers, as Excel or a text editor shows)."""

    header_rows: list[int]
    first_data_row: int | None
    last_data_row: int | None
    notes_row: int | None  # first line of the notes under the table, if any
    blocks: int  # side-by-side blocks stacked into the table (1 for an ordinary table)


@dataclass
class ExtractedTable:
    """A detected, profiled table; ``iter_batches`` streams its typed rows."""

    source: FetchedFile
    format: str
    member: str | None
    sheet: str
    sheet_ambiguous: bool
    sheets: list[SheetSurvey]
    sheet_candidates: list[SheetCandidate]  # when several sheets hold tables (none named)
    layout: ExtractedLayout
    columns: list[ExtractedColumn]
    row_count: int
    total_rows: list[int]
    row_levels: dict[str, int]  # rows per _level, coarsest first; {} when one level only
    metadata: dict[str, str]
    warnings: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    filled_down: dict[str, int] = field(default_factory=dict)  # fill_down: cells filled
    given_block_title: str | None = None  # the block_title given to a file with no banner
    _table_layout: TableLayout | None = field(default=None, repr=False)
    _marker_columns: tuple[int, ...] = field(default=(), repr=False)
    _levels: LevelDecision | None = field(default=None, repr=False)  # row_levels.py
    _plans: list[ColumnPlan] = field(default_factory=list, repr=False)  # how each column is made
    _fill: tuple[int, ...] = field(default=(), repr=False)  # fill_down's table columns
    _arrow: arrow_csv.ArrowProfile | None = field(default=None, repr=False)  # CSV fast path
    _kept: list[Chunk] | None = field(default=None, repr=False)  # pass 1's cells (pass_chunks)
    _kept_cells: int = field(default=0, repr=False)
    # What pass 1 found on kept cells, for pass 2: the totals rows, each column's cell types.
    _labelled: frozenset[int] | None = field(default=None, repr=False)
    _cell_kinds: list[frozenset[type] | None] = field(default_factory=list, repr=False)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    # -- Arrow fast path hook (extract/arrow_csv.py) --------------------------------------------

    @property
    def supports_arrow(self) -> bool:
        """Whether ``iter_arrow_batches`` is available: a plain CSV profiled by pyarrow, or a
        workbook table whose cells pass 1 kept, when large enough (``ARROW_PASS_CELLS``)."""
        kept_large = self._kept is not None and self._kept_cells >= ARROW_PASS_CELLS
        return self._arrow is not None or (kept_large and arrow_enabled())

    def iter_arrow_batches(self, batch_size: int = DEFAULT_BATCH_SIZE):
        """Pass 2 as typed ``pyarrow.RecordBatch``es of at most ``batch_size`` rows: the columns
        (int16/int32/int64, numeric as decimal text, date32, timestamp, bool, string), then
        ``_row_number``, ``_is_total`` and ``_level``. None when pass 2 gives only rows."""
        if self._arrow is None:
            return self._kept_arrow_batches(batch_size) if self.supports_arrow else None
        return self._arrow.typed_batches(
            self.column_names, self._plans, batch_size, self.source.name
        )

    def _kept_arrow_batches(self, batch_size: int):
        """The rows ``iter_batches`` makes from pass 1's cells, a column at a time; a column
        ``arrow_cells`` can make is left as cells here and made a batch at a time there."""
        from datawarp.pipeline.extract import arrow_cells, arrow_rows  # pyarrow: when used

        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        assert self._kept is not None
        reader = self._pass_2_reader(self.source.name, is_csv=False)
        schema = arrow_rows.typed_schema(self.column_names, [p.pg_type for p in self._plans])
        conversions = self._conversions(reader)
        later = {p: conversions[p] for p, plan in enumerate(self._plans)
                 if arrow_cells.made_in_arrow(plan)}  # fmt: skip
        chunks = self._typed_chunks(self._kept, reader, conversions, frozenset(later))
        kinds = {p: self._cell_kinds[self._plans[p].source] for p in later if self._cell_kinds}
        return arrow_rows.typed_batches(chunks, schema, batch_size, later, kinds)

    def iter_batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[tuple]]:
        """Typed rows, ``batch_size`` at a time: the column values, then row_number, is_total
        and level (``row_levels``: None unless the file mixes levels).

        Values are ready for COPY (int, Decimal, date, datetime, bool, str or None). The file
        is read again from the start (a workbook table small enough reuses pass 1's cells:
        ``pass_chunks``), so the batches can be iterated more than once.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self._kept is not None:  # only ever a workbook's (pass_chunks)
            reader = self._pass_2_reader(self.source.name, is_csv=False)
            yield from self._batches(self._kept, reader, batch_size)
            return
        with open_workbook(
            self.source.path, display_name=self.source.name, member=self.member
        ) as workbook:
            reader = self._pass_2_reader(workbook.display_name, is_csv=workbook.kind == "csv")
            chunks = reader.chunks(workbook.iter_rows(self.sheet), READ_CHUNK)
            yield from self._batches(chunks, reader, batch_size)
        if reader.row_count != self.row_count:
            raise BadInputError(
                f"{self.source.name} changed while it was being read "
                f"({self.row_count} rows, then {reader.row_count}); load it again"
            )

    def _pass_2_reader(self, display_name: str, is_csv: bool) -> TableReader:
        assert self._table_layout is not None
        return TableReader(
            self._table_layout,
            display_name=display_name,
            is_csv=is_csv,
            label_columns=self._marker_columns,
            levels=self._levels,
        )

    def _batches(
        self, chunks: Iterable[Chunk], reader: TableReader, batch_size: int
    ) -> Iterator[list[tuple]]:
        rows = (
            list(zip(*converted, numbers, flags, levels, strict=True))
            for converted, numbers, flags, levels in self._typed_chunks(chunks, reader)
        )
        yield from in_batches(rows, batch_size)

    def _conversions(self, reader: TableReader) -> list[Callable[[list, list[int]], list]]:
        """Each column's conversion of a chunk's cells (``converted``), given their rows."""
        return [
            functools.partial(
                converted, ColumnConverter(plan.pg_type, by_distinct=reader.is_csv, plan=plan),
                file_name=self.source.name, column_name=column.name,
            )
            for plan, column in zip(self._plans, self.columns, strict=True)
        ]  # fmt: skip

    def _typed_chunks(
        self,
        chunks: Iterable[Chunk],
        reader: TableReader,
        conversions: list[Callable[[list, list[int]], list]] | None = None,
        raw: frozenset[int] = frozenset(),
    ) -> Iterator[tuple]:
        """Pass 2 of each chunk, as rows (``_batches``) and Arrow batches (``arrow_rows``) both
        take it: the converted columns (those at ``raw`` positions left as cells), then the row
        numbers, ``_is_total`` and ``_level``."""
        assert self._table_layout is not None
        conversions = conversions or self._conversions(reader)
        fill = FillDown(self._fill, len(self._table_layout.blocks))
        labelled = self._labelled if chunks is self._kept else None
        for numbers, columns in chunks:
            with paused_gc():  # never across the yield
                totals = (
                    reader.mark_totals(numbers, columns)
                    if labelled is None
                    else [number in labelled for number in numbers]  # pass 1 looked already
                )
                levels, flags = reader.mark_levels(columns, totals)  # before filling: the file's
                fill.apply(numbers, columns, flags)
                cells = [columns[plan.source] for plan in self._plans]
                typed = [column if position in raw else conversions[position](column, numbers)
                         for position, column in enumerate(cells)]  # fmt: skip
            yield typed, numbers, flags, levels


# ---------------------------------------------------------------------------------------------
# Opening a table


def open_fetched(
    source: FetchedFile,
    *,
    sheet: str | None = None,
    member: str | None = None,
    refuse_several_sheets: bool = False,
    fill_down: Sequence[str] = (),
    block_title: str | None = None,
) -> ExtractedTable:
    """Find the table in a fetched file and profile it (pass 1).

    The loader fetches first (to fingerprint the file for idempotency) and must then read
    exactly those bytes; ``pipeline.inspect.open_table`` does both for a path or URL. With
    ``refuse_several_sheets`` (the loader) a workbook with several data sheets and no
    ``sheet`` is a ``SeveralSheetsError``; ``fill_down`` names columns whose empty cells take
    the value above them (``fill_down``), which the Python path does: no Arrow fast path then.
    ``block_title`` titles the rows of a one-block table with no banner (a constant
    ``block_title`` column, as a banner makes; the Python path emits it).
    """
    found = functools.partial(
        _table_of, source, sheet=sheet, member=member, fill_down=fill_down,
        refuse_several_sheets=refuse_several_sheets, block_title=block_title,
    )  # fmt: skip
    try:
        return found()
    except ReadSheetAgain:  # a large sheet's rows read early lacked cells: read it whole
        return found()


def _table_of(
    source: FetchedFile,
    *,
    sheet: str | None,
    member: str | None,
    refuse_several_sheets: bool,
    fill_down: Sequence[str],
    block_title: str | None,
) -> ExtractedTable:
    with open_workbook(source.path, display_name=source.name, member=member) as workbook:
        choice = choose_sheet(workbook, sheet, refuse_several=refuse_several_sheets)
        found = choice.chosen.layout
        assert found is not None and choice.chosen.rows is not None
        given = "(block title: the file names none)"
        layout = with_block_title(found, block_title, given) if block_title else found
        fill = fill_positions(layout, fill_down, sheet_label(workbook, choice.chosen.name))
        fast = None if fill else _arrow_profile(source, workbook, layout)  # arrow_csv.py
        if fast is not None:
            choice.chosen.rows = None
            table = profiled_table(source, workbook, choice, layout, fast, fast.stats)  # type: ignore[arg-type]
            table._arrow = fast
            return table
        # Pass 1's cells are kept for pass 2 only from a workbook (held in memory anyway) and
        # only without filling down, which changes cells in place.
        kept = KeptChunks() if workbook.kind != "csv" and not fill else None
        reader, profiles, filled = profile_pass(workbook, choice, layout, fill, kept)
        workbook.confirm_rows(choice.chosen.name)  # before anything is made of those rows
        choice.chosen.rows = None
        table = profiled_table(source, workbook, choice, layout, reader, profiles)
        table._fill = fill
        table._kept = kept.chunks if kept is not None else None
        table._kept_cells = kept.cells if kept is not None else 0
        if table._kept is not None:
            table._cell_kinds = [_kinds(stats.cell_kinds) for stats in profiles]
            if len(layout.blocks) == 1:  # a row number is one row
                table._labelled = reader.labelled_rows()
        table.filled_down = {layout.columns[p].name: n for p, n in filled.filled.items()}
        table.given_block_title = block_title if layout is not found else None
        return table


def _kinds(kinds: set[type] | None) -> frozenset[type] | None:
    return None if kinds is None else frozenset(kinds)


def _arrow_profile(
    source: FetchedFile, workbook: Workbook, layout: TableLayout
) -> arrow_csv.ArrowProfile | None:
    """Arrow fast path hook: pass 1 by pyarrow for a plain CSV table; None means the Python
    path (not a CSV, DATAWARP_NO_ARROW set, or something the fast path cannot reproduce)."""
    if workbook.kind != "csv":
        return None
    # Imported here: a workbook's load never needs pyarrow, which costs a command a quarter
    # of a second to import (and half a second more where pandas is installed, which
    # pyarrow imports on its first array).
    from datawarp.pipeline.extract import arrow_csv

    if not arrow_enabled():
        return None
    if arrow_csv.plain_layout_problem(layout) is not None:
        return None
    try:
        return arrow_csv.profile(arrow_csv.workbook_source(source.path, workbook, layout), layout)
    except arrow_csv.ArrowFallback:
        return None


def profiled_table(
    source: FetchedFile,
    workbook: Workbook,
    choice: SheetChoice,
    layout: TableLayout,
    reader: TableReader,
    profiles: Sequence[ColumnFacts],
) -> ExtractedTable:
    file_columns = [
        extracted_column(
            column,
            profile,
            None if column.sheet_column is None else column_letter(column.sheet_column),
        )
        for column, profile in zip(layout.columns, profiles, strict=True)
    ]
    columns, plans = with_originals(file_columns, reader.row_count)
    warnings = [*choice.warnings, *layout.warnings, *reader.end_warnings()]
    warnings += workbook.read_warnings()
    warnings += column_warnings(file_columns, profiles)
    return ExtractedTable(
        source=source,
        format=workbook.kind,
        member=workbook.member,
        sheet=choice.chosen.name,
        sheet_ambiguous=choice.ambiguous,
        sheets=choice.surveys,
        sheet_candidates=choice.candidates,
        layout=ExtractedLayout(
            header_rows=list(layout.header_rows),
            first_data_row=layout.first_data_row if reader.row_count else None,
            last_data_row=reader.last_data_row,
            notes_row=reader.end_row,
            blocks=len(layout.blocks),
        ),
        columns=columns,
        row_count=reader.row_count,
        total_rows=reader.total_rows(),
        row_levels=reader.level_counts(),
        metadata=dict(layout.metadata),
        warnings=warnings,
        encoding=workbook.encoding,
        delimiter=workbook.delimiter,
        _table_layout=layout,
        _marker_columns=reader.marker_columns(),
        _levels=reader.level_decision(),
        _plans=plans,
    )
