"""A large xlsx sheet parsed by calamine in two halves at once, on two cores.

calamine parses a sheet on one thread, about 0.6 s for a 100,000-row sheet, while the load
waits for it. The reach scan (``xlsx_extent``) inflates the sheet's XML anyway; as it does,
``SheetSplitter`` writes that XML out as two workbooks in a scratch folder, each holding the
workbook's other parts unchanged and half of the sheet's rows, cut before a row that carries
its own number. calamine places every cell by its reference, and a row without a number
takes the one after its predecessor's, so each half's cells land where they lie in the whole
sheet; ``SplitSheet`` reads the halves one after the other as one sheet. Where the cut cannot
be made so (no ``<sheetData>`` in the sheet's first megabyte, no numbered row after the
middle, rows out of order), the sheet is parsed whole, as before. The halves take as much
room in the scratch folder as the sheet's XML until they are parsed, then are removed.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import python_calamine

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
_OPEN = b"<sheetData>"
_CLOSE = b"</sheetData>"
_NUMBERED_ROW = re.compile(rb'<row\s[^>]*?\br="[0-9]{1,7}"')


class SheetSplitter:
    """Takes a sheet's XML piece by piece (each cut before a tag) and writes it out as two
    workbooks: the rows before the first numbered row past the middle, and the rest."""

    def __init__(self, path: Path, part: str, size: int) -> None:
        self.folder = make_scratch()
        self._source, self._part, self._middle = path, part, size // 2
        self._halves: list[zipfile.ZipFile] = []
        self._members: list = []  # the open sheet member of each half
        self._prefix = b""
        self._seen = 0  # bytes of XML taken so far
        self._base = 0  # where in the XML the piece being written starts
        self._state = "start"  # start, first, second, suffix, done, failed

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

    def parse(self, sheet: str) -> SplitSheet | python_calamine.CalamineSheet | None:
        """Both halves parsed at once (calamine works without Python's lock), the scratch
        folder removed; None when the halves do not join (rows out of order)."""
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="datawarp-sheet-half") as helper:
                second = helper.submit(self._parse_half, 1, sheet)
                first = self._parse_half(0, sheet)
                return SplitSheet.joined(first, second.result())
        finally:
            self.remove()

    def _parse_half(self, index: int, sheet: str) -> python_calamine.CalamineSheet:
        book = python_calamine.CalamineWorkbook.from_path(str(self.folder / f"half{index}.xlsx"))
        try:
            return book.get_sheet_by_name(sheet)
        finally:
            book.close()


class SplitSheet:
    """Two parsed halves of a sheet, read as the one sheet (the parts of a calamine sheet the
    reader uses: ``start``, ``height``, ``width``, ``iter_rows``)."""

    def __init__(self, halves: list[python_calamine.CalamineSheet]) -> None:
        self._halves = halves
        self.start = (halves[0].start[0], min(half.start[1] for half in halves))
        ends = [half.end for half in halves]
        self.height = ends[-1][0] - self.start[0] + 1
        self.width = max(end[1] for end in ends) - self.start[1] + 1

    @classmethod
    def joined(
        cls, first: python_calamine.CalamineSheet, second: python_calamine.CalamineSheet
    ) -> SplitSheet | python_calamine.CalamineSheet | None:
        """The halves as one sheet; a half without cells is left out; None when the second
        half's rows do not all come after the first's."""
        if second.start is None:
            return first
        if first.start is None:
            return second
        if second.start[0] <= first.end[0]:
            return None
        return cls([first, second])

    def iter_rows(self) -> Iterator[list]:
        """Rows from the sheet's first, each starting at its first column, as calamine's own."""
        emitted = 0
        for half in self._halves:
            padding = [""] * (half.start[1] - self.start[1])
            for index, row in enumerate(half.iter_rows()):
                if index < emitted:
                    continue  # a blank row above this half's cells: the first half's row
                yield padding + row if padding and row else row
                emitted += 1
