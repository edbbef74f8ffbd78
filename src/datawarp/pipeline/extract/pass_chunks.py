"""The chunks the two passes work on: cut into batches, kept between passes when they may be.

A workbook's sheet is held whole in memory by calamine, and pass 2 asking calamine for every
cell's Python object again is a third of a workbook's pass 2. So a workbook table of modest
size keeps pass 1's chunks (lists of the same cell objects, no copies) for pass 2. A CSV is
never kept: its memory must stay flat however long the file is.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

Chunk = tuple[list[int], list[list]]  # (row numbers, the table's columns of cells)

# Rows are read and worked on in small chunks: a chunk's cells then stay in the CPU caches,
# which makes the column work 2-3 times faster than on 10,000-row chunks.
READ_CHUNK = 512

# About 25 bytes a cell held (the pointer and the float or string: a 100,000 x 12 sheet's
# peak went from 133 to 163 MB), so at most about 50 MB beside calamine's own grid: tables
# of 100,000 rows by 20 columns are kept; larger ones are read from the sheet again.
KEEP_CELLS = 2_000_000
# A kept table this large takes pass 2 as Arrow batches (``arrow_rows``): it saves about 170 ns
# a cell now that most columns are made in Arrow (``arrow_cells``), and importing pyarrow costs
# a tenth of a second unless a read-ahead did it already. Measured on .xls loads (interleaved
# runs, against the Python pass 2): 780,000 cells 0.937 s against 0.981 s, 480,000 cells
# 0.780 s against 0.768 s; even at about 550,000.
ARROW_PASS_CELLS = 600_000


class KeptChunks:
    """Pass 1's chunks while they fit in ``limit`` cells; ``chunks`` is None once they do not."""

    def __init__(self, limit: int | None = None) -> None:
        self.chunks: list[Chunk] | None = []
        self._room = KEEP_CELLS if limit is None else limit
        self.cells = 0

    def keep(self, numbers: list[int], columns: list[list]) -> None:
        if self.chunks is None:
            return
        cells = len(numbers) * max(1, len(columns))
        self.cells += cells
        self._room -= cells
        if self._room < 0:
            self.chunks = None  # too large: pass 2 reads the sheet again
        else:
            self.chunks.append((numbers, columns))


def in_batches(chunks: Iterator[list[tuple]], size: int) -> Iterator[list[tuple]]:
    """Chunks of rows re-cut into batches of ``size`` (the last may be shorter).

    Each batch is made with the cycle collector paused, and the pause never spans a yield.
    """
    pending: list[tuple] = []
    exhausted = False
    while not exhausted:
        with paused_gc():
            while len(pending) < size:
                chunk = next(chunks, None)
                if chunk is None:
                    exhausted = True
                    break
                pending.extend(chunk)
            batch, pending = pending[:size], pending[size:]
        if batch:
            yield batch
    while pending:
        batch, pending = pending[:size], pending[size:]
        yield batch


@dataclass
class _Freezing:
    kept_cells: bool = False


# Set by the ``datawarp`` command's own process (``cli.collector``); a library's user keeps
# its collector's ways.
FREEZING = _Freezing()


def kept_cells_made() -> None:
    """Pass 1 has made, with the collector paused, the cells it keeps for pass 2 (over a
    million objects in a 100,000 x 12 sheet's lists). The collector's first run after would
    walk them all, finding no garbage: in the command's own process they are frozen instead
    (never walked, still freed as soon as the table lets them go): a 65,000-row .xls's load
    0.694 s -> 0.667 s, a 100,000-row xlsx's 1.198 s -> 1.170 s (means of eight interleaved
    runs)."""
    if FREEZING.kept_cells:
        gc.freeze()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cycle collector while rows are made: they hold no cycles, and collections
    triggered by millions of new tuples cost a third of the time. Never held across a yield.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
