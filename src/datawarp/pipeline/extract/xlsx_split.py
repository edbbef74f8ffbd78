"""A large xlsx sheet parsed by calamine in two parts at once, on two cores, and read on
from the first part while the second is still parsed.

calamine parses a sheet on one thread, about 0.6 s for a 100,000-row sheet, while the load
waits for it. The reach scan (``xlsx_extent``) inflates the sheet's XML anyway; as it does,
``SheetSplitter`` writes that XML out as two workbooks in a scratch folder, each holding the
workbook's other parts unchanged and part of the sheet's rows, cut before a row that carries
its own number, two fifths of the way in. calamine places every cell by its reference, and a
row without a number takes the one after its predecessor's, so each part's cells land where
they lie in the whole sheet; ``SplitSheet`` reads the parts one after the other as one sheet.

The first part is handed on as soon as it is parsed, so pass 1 reads it while the second is
parsed: the load waits for a smaller part (the 100,000-row bench sheet loaded in 1.423 s
against 1.521 s cut half way and read once both halves were parsed, eight interleaved runs
each). Whether the parts join is known only once
the second is parsed: a cell of the second part in a row of the first (rows out of order,
which calamine still reads) means the rows already read lack it. The sheet then takes the
whole sheet's parse and says so (``ReadSheetAgain``) when its rows reach the second part, or
when the reader confirms the sheet after pass 1 (``SplitSheet.confirm``): the table is read
again from the top. Where the cut cannot be made (no ``<sheetData>`` in the sheet's first
megabyte, no numbered row after the cut), the sheet is parsed whole, as before. The parts take
as much room in the scratch folder as the sheet's XML until both are parsed, then are removed.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import python_calamine

from datawarp.pipeline.extract.workbook import INTERRUPTS, ReadSheetAgain
from datawarp.pipeline.extract.xlsx_extent import sheet_parts
from datawarp.pipeline.extract.zip_limits import make_scratch

# Below this much XML a sheet parses in under a fifth of a second: two workbooks written and
# opened, and their shared strings parsed twice, would cost most of what the halves save
# (a genuine 20 MB sheet read in 0.24 s against 0.33 s whole).
SPLIT_XML_BYTES = 16 << 20
# A sheet parsed while ``load-batch`` starts has the other core to itself, and the load's own
# start then needs the core the second half would take: halves pay only where the whole
# parse would outlast that start (23 MB: 0.95 s against 0.93 s whole; 34 MB: 1.11 s against
# 1.18 s; 58 MB: 1.42 s against 1.58 s).
SPLIT_AHEAD_XML_BYTES = 32 << 20
# Where the cut is sought, as a share of the sheet's XML: the first part parses while the
# second does, then is read by pass 1 while the second is still parsed (a 100,000-row sheet
# loaded in 1.510 s cut at two fifths, 1.519 s at 30%, 1.581 s half way).
FIRST_PART = 0.4
_OPEN = b"<sheetData>"
_CLOSE = b"</sheetData>"
_NUMBERED_ROW = re.compile(rb'<row\s[^>]*?\br="[0-9]{1,7}"')


class SheetSplitter:
    """Takes a sheet's XML piece by piece (each cut before a tag) and writes it out as two
    workbooks: the rows before the first numbered row past ``FIRST_PART`` of the XML, and
    the rest."""

    def __init__(self, path: Path, part: str, size: int) -> None:
        self.folder = make_scratch()
        self._source, self._part, self._middle = path, part, int(size * FIRST_PART)
        self._halves: list[zipfile.ZipFile] = []
        self._members: list = []  # the open sheet member of each half
        self._prefix = b""
        self._seen = 0  # bytes of XML taken so far
        self._base = 0  # where in the XML the piece being written starts
        self._state = "start"  # start, first, second, suffix, done, failed
        self._lock = threading.Lock()
        self._parts_parsing = 2  # the scratch folder goes when both parts are parsed

    @classmethod
    def for_sheet(cls, path: Path, sheet: str, *, ahead: bool = False) -> SheetSplitter | None:
        """A splitter for a sheet large enough to gain from it (``SPLIT_XML_BYTES``, or
        ``SPLIT_AHEAD_XML_BYTES`` for a parse while the command starts), on a machine of two
        cores or more; None otherwise."""
        if (os.cpu_count() or 1) < 2:
            return None
        try:
            with zipfile.ZipFile(path) as archive:
                part = sheet_parts(archive).get(sheet)
                size = archive.getinfo(part).file_size if part else 0
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError):
            return None
        if part is None or size < (SPLIT_AHEAD_XML_BYTES if ahead else SPLIT_XML_BYTES):
            return None
        try:
            return cls(path, part, size)
        except OSError:  # no scratch folder to be had: the sheet is parsed whole
            return None

    @property
    def ready(self) -> bool:
        return self._state == "done"

    def feed(self, body: bytes) -> None:
        """One more piece of the sheet's XML, in order."""
        if self._state in ("failed", "done"):
            return
        self._base = self._seen
        try:
            self._feed(body)
        except Exception:  # noqa: BLE001 - any failure to write the halves: parsed whole
            self._fail()
        self._seen += len(body)

    def _feed(self, body: bytes) -> None:
        if self._state == "start":
            opening = body.find(_OPEN)
            if opening < 0:
                return self._fail()
            cut = opening + len(_OPEN)
            self._prefix = body[:cut]
            self._open_half()
            self._state, body = "first", body[cut:]
            self._base += cut
        if self._state == "suffix":
            return self._write_all(body)
        closing = body.find(_CLOSE)
        rows = body if closing < 0 else body[:closing]
        if self._state == "first":
            rows = self._maybe_cut(rows)
            if rows is None:
                return None
        self._members[-1].write(rows)
        if closing >= 0:
            if self._state != "second":
                return self._fail()  # no numbered row past the middle: the sheet is whole
            self._state = "suffix"
            self._write_all(body[closing:])
        return None

    def _maybe_cut(self, rows: bytes) -> bytes | None:
        """Writes what belongs to the first half; what is left for the second (or ``rows``
        unchanged while the middle is not reached); None when the cut is impossible."""
        search_from = max(0, self._middle - self._base)
        if search_from >= len(rows):
            return rows
        at = rows.find(b"<row", search_from)
        if at < 0:
            return rows
        if not _NUMBERED_ROW.match(rows, at):
            self._fail()
            return None
        self._members[-1].write(rows[:at])
        self._open_half()
        self._state = "second"
        return rows[at:]

    def _write_all(self, data: bytes) -> None:
        for member in self._members:
            member.write(data)

    def _open_half(self) -> None:
        half = zipfile.ZipFile(self.folder / f"half{len(self._halves)}.xlsx", "w")
        self._halves.append(half)
        with zipfile.ZipFile(self._source) as source:
            others = set(sheet_parts(source).values()) - {self._part}
            for info in source.infolist():
                # Other sheets are never asked for: their XML is left out.
                if info.filename != self._part and info.filename not in others:
                    half.writestr(info.filename, source.read(info))
        member = half.open(self._part, "w", force_zip64=True)
        member.write(self._prefix)
        self._members.append(member)

    def finish(self) -> bool:
        """Close both workbooks; whether the sheet was cut in two."""
        if self._state == "suffix":
            self._close()
            self._state = "done"
        else:
            self._fail()
        return self.ready

    def _fail(self) -> None:
        self._state = "failed"
        self.discard()

    def discard(self) -> None:
        """Close and remove both workbooks: the sheet is read otherwise."""
        self._close()
        self.remove()

    def _close(self) -> None:
        for opened in (*self._members, *self._halves):
            try:
                opened.close()
            except (OSError, ValueError):
                pass
        self._members, self._halves = [], []

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def parse(
        self, sheet: str, parse_whole: Callable[[], python_calamine.CalamineSheet]
    ) -> SplitSheet | python_calamine.CalamineSheet:
        """The sheet once its first part is parsed (calamine works without Python's lock),
        the second part still parsing on a helper thread; the scratch folder is removed once
        both are. ``parse_whole`` parses the sheet whole, for parts that do not join."""
        helper = ThreadPoolExecutor(1, thread_name_prefix="datawarp-sheet-half")
        second = helper.submit(self._parse_part, 1, sheet)
        helper.shutdown(wait=False)  # the thread ends with the parse
        first = self._parse_part(0, sheet)
        split = SplitSheet(first, second, parse_whole)
        return split if first.start is not None else split.settled()

    def _parse_part(self, index: int, sheet: str) -> python_calamine.CalamineSheet:
        try:
            return self._parse_half(index, sheet)
        finally:
            with self._lock:
                self._parts_parsing -= 1
                last = self._parts_parsing == 0
            if last:
                self.remove()

    def _parse_half(self, index: int, sheet: str) -> python_calamine.CalamineSheet:
        book = python_calamine.CalamineWorkbook.from_path(str(self.folder / f"half{index}.xlsx"))
        try:
            return book.get_sheet_by_name(sheet)
        finally:
            book.close()


class SplitSheet:
    """A sheet's two parsed parts read as the one sheet (the parts of a calamine sheet the
    reader uses: ``start``, ``height``, ``width``, ``iter_rows``), the second part parsing
    still while the first is read. Rows are given from column A (``start`` says column A), so
    no row of the first part waits for the second part's first column."""

    def __init__(
        self,
        first: python_calamine.CalamineSheet,
        second: Future[python_calamine.CalamineSheet],
        parse_whole: Callable[[], python_calamine.CalamineSheet],
    ) -> None:
        self._first, self._second, self._parse_whole = first, second, parse_whole
        self._second_cells: python_calamine.CalamineSheet | None = None  # once settled
        self._whole: python_calamine.CalamineSheet | None = None  # parts that do not join
        self._whole_failed: BaseException | None = None  # the whole parse's failure, if so
        self._settled = False
        self._given_from_parts = False  # rows given before the join was known

    def settled(self) -> SplitSheet | python_calamine.CalamineSheet:
        """The sheet as it reads once both parts are parsed: a part alone when the other
        holds no cell, the whole sheet's parse when the parts do not join."""
        self._settle()
        if self._read_whole:
            # A failed whole parse: reading the rows says why.
            return self if self._whole is None else self._whole
        if self._second_cells is None:
            return self._first
        return self._second_cells if self._first.start is None else self

    def confirm(self) -> None:
        """Raise ``ReadSheetAgain`` if rows given so far may lack cells: the second part holds
        rows of the first, or failed to parse (the whole parse then says why)."""
        self._settle()
        if self._read_whole and self._given_from_parts:
            self._given_from_parts = False  # what is read from now on is the whole sheet
            raise ReadSheetAgain

    @property
    def start(self) -> tuple[int, int] | None:
        """Where the rows start (read from the top whatever it says), never waiting."""
        first = (self._first if self._whole is None else self._whole).start
        return None if first is None else (first[0], 0)

    @property
    def height(self) -> int:
        parts = self._parts()  # first: it may take the whole parse, which ``start`` then reads
        start = self.start
        return 0 if start is None else parts[-1].end[0] - start[0] + 1

    @property
    def width(self) -> int:
        return max((part.end[1] + 1 for part in self._parts() if part.start is not None),
                   default=0)  # fmt: skip

    def iter_rows(self) -> Iterator[list]:
        """Rows from the sheet's first, each from column A, as calamine's own give them."""
        if self._read_whole:
            yield from self._whole_rows()
            return
        self._given_from_parts = True
        emitted = 0
        for row in _from_column_a(self._first):
            yield row
            emitted += 1
        self.confirm()
        if self._second_cells is not None:
            yield from itertools.islice(_from_column_a(self._second_cells), emitted, None)

    @property
    def _read_whole(self) -> bool:
        return self._whole is not None or self._whole_failed is not None

    def _whole_rows(self) -> Iterator[list]:
        if self._whole is None:
            assert self._whole_failed is not None
            raise self._whole_failed  # the reader reports it as the file's fault
        yield from _from_column_a(self._whole)

    def _parts(self) -> list[python_calamine.CalamineSheet]:
        """The parsed sheets the rows come from (the size of the sheet, for the cache)."""
        self._settle()
        if self._whole is not None:
            return [self._whole]
        return [self._first] if self._second_cells is None else [self._first, self._second_cells]

    def _settle(self) -> None:
        """Wait for the second part; take the whole sheet's parse if the parts do not join."""
        if self._settled:
            return
        try:
            second = self._second.result()
        except INTERRUPTS:
            raise
        except BaseException:  # noqa: BLE001 - pyo3 panics too: the whole parse says why
            second, joins = None, False
        else:
            first = self._first
            joins = second.start is None or first.start is None or second.start[0] > first.end[0]
        if not joins:
            try:
                self._whole = self._parse_whole()
            except INTERRUPTS:
                raise
            except BaseException as exc:  # noqa: BLE001 - raised where rows are read
                self._whole_failed = exc
        elif second is not None and second.start is not None:
            self._second_cells = second
        self._settled = True


def _from_column_a(sheet: python_calamine.CalamineSheet) -> Iterator[list]:
    """A sheet's rows from column A: calamine starts each at the sheet's first column."""
    left = [None] * (sheet.start[1] if sheet.start is not None else 0)
    for row in sheet.iter_rows():
        yield left + row if left and row else row
