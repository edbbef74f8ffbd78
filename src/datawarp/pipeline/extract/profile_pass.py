"""Pass 1 on the Python path: every cell of every data row through its column's type
inference, filling down as pass 2 will (``engine.open_fetched``)."""

from __future__ import annotations

from collections.abc import Iterable

from datawarp.pipeline.extract.columns import ColumnStats
from datawarp.pipeline.extract.fill_down import FillDown
from datawarp.pipeline.extract.pass_chunks import (
    READ_CHUNK,
    KeptChunks,
    kept_cells_made,
    paused_gc,
)
from datawarp.pipeline.extract.scales import names_a_percentage
from datawarp.pipeline.extract.sheets import SheetChoice
from datawarp.pipeline.extract.table import TableColumn, TableLayout
from datawarp.pipeline.extract.table_rows import TableReader
from datawarp.pipeline.extract.workbook import Workbook


def profile_pass(
    workbook: Workbook,
    choice: SheetChoice,
    layout: TableLayout,
    fill: tuple[int, ...],
    kept: KeptChunks | None = None,
) -> tuple[TableReader, list[ColumnStats], FillDown]:
    """Pass 1 on the Python path, filling down as pass 2 will.

    Filling needs each row's ``_is_total``, which pass 1 settles only at its end: which columns
    the totals rule reads (a column where 'England' fills most rows is a category) and which
    rows are placed national (``row_levels``). When the totals rows the pass filled around are
    not those, the pass runs again with what it settled.
    """
    is_csv = workbook.kind == "csv"
    reader = TableReader(layout, display_name=workbook.display_name, is_csv=is_csv)
    filling = FillDown(fill, len(layout.blocks))
    with paused_gc():
        profiles = _profile(reader, choice.chosen.rows, layout.columns, is_csv, filling, kept)
        if kept is not None and kept.chunks is not None:
            kept_cells_made()
    if fill and set(filling.totals_seen) != set(reader.total_rows()):
        reader = TableReader(layout, display_name=workbook.display_name, is_csv=is_csv,
                             label_columns=reader.marker_columns(),
                             levels=reader.level_decision())  # fmt: skip
        filling = FillDown(fill, len(layout.blocks))
        rows = workbook.iter_rows(choice.chosen.name)
        with paused_gc():
            profiles = _profile(reader, rows, layout.columns, is_csv, filling)
    return reader, profiles, filling


def _profile(
    reader: TableReader,
    rows: Iterable,
    table_columns: list[TableColumn],
    by_distinct: bool,
    fill: FillDown,
    kept: KeptChunks | None = None,
) -> list[ColumnStats]:
    """Pass 1: every cell of every data row through its column's type inference."""
    stats = [
        ColumnStats(by_distinct=by_distinct, percent_header=names_a_percentage(c.original_header))
        for c in table_columns
    ]
    for numbers, columns in reader.chunks(rows, READ_CHUNK):
        totals = reader.mark_totals(numbers, columns)
        if fill.positions:  # pass 1 knows the rows placed national only on a second run
            fill.apply(numbers, columns, reader.mark_levels(columns, totals)[1])
        for column_stats, column in zip(stats, columns, strict=True):
            column_stats.observe(column, numbers)
        if kept is not None:
            kept.keep(numbers, columns)
    return stats
