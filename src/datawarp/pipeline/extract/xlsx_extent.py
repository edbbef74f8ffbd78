"""How far an xlsx sheet really reaches, measured from its XML before calamine reads it.

calamine holds a sheet as a dense grid from its first to its last cell, so one stray value at
XFD1048576 asks for 17 billion cells and the process is killed mid-allocation. The sheet's
XML part is streamed once (regular-expression scans, no parse, about a third of a second for
1.2 million cells) for its rows and the width of its cell references. A grid within
``DATAWARP_MAX_SHEET_CELLS`` (20 million by default) goes to calamine, which is fast; only a
larger grid has its cells counted, in a second scan: one holding no more cells than the limit
is streamed a row at a time (``xlsx_sparse``), so memory follows the cells, not the declared
reach; a sheet holding more cells than the limit is refused in one line.

The look at every cell for one the bounds may not cover is most of a scan. A sheet whose XML
reaches ``ARROW_SHEET_XML_BYTES`` has it done by pyarrow's RE2 kernel without Python's lock
(a load of such a sheet imports pyarrow anyway, for its Arrow passes), the search for
references of two letters too, while another thread inflates the pieces ahead and looks in
each for a prefixed sheetData; a smaller one by Python's ``re``. The caller's thread is what
a large sheet's scan waits for: these moves took its CPU from 0.19 s to 0.15 s on a 100,000-row
sheet (58 MB of XML), and the scan from 0.22 s to 0.18 s. The two patterns of each check say
the same of every piece (the tests check it on generated cells).
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.ahead import in_thread
from datawarp.pipeline.extract.env_limits import env_limit

if TYPE_CHECKING:
    import pyarrow as pa

MAX_CELLS_ENV = "DATAWARP_MAX_SHEET_CELLS"
DEFAULT_MAX_CELLS = 20_000_000  # calamine takes 30 to 90 bytes a grid cell
_ROW = re.compile(rb'<row\s[^>]*?\br="([0-9]{1,7})"')
# Only a cell reference has letters after r=" (a row's r="12" has digits); a literal start (one
# space, as every writer separates attributes) keeps the scan at memory speed.
_WIDE = re.compile(rb' r="([A-Z]{3})([0-9]{1,7})"')
_TWO_OR_MORE_LETTERS = re.compile(rb' r="[A-Z]{2}')
_CHUNK = 1 << 20
_PIECES_AHEAD = 4
# A sheet this large parses for a third of a second or more, and its table is likely large
# enough to take the Arrow pass 2 (``ARROW_PASS_CELLS``): its load imports pyarrow (``load-batch``
# while calamine parses it, ``read_ahead``), and its reach scan uses pyarrow's RE2.
ARROW_SHEET_XML_BYTES = 24 << 20
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class SheetExtent:
    """A sheet's reach: its rows, a bound on its columns, and how many cells it holds."""

    cells: int = 0  # counted only by a scan asked to (count_cells)
    last_row: int = 0
    columns: int = 0  # the widest column, or 26 / 702 when no reference is wider
    farthest: str = ""
    irregular: bool = False  # cells the bounds may not cover: the sheet is streamed
    counted: bool = True  # whether ``cells`` was counted

    @property
    def grid(self) -> int:
        """A bound on calamine's grid (from row 1: a stray cell above the rows counts too)."""
        if self.counted and not self.cells:
            return 0
        return self.last_row * self.columns


def column_number(letters: bytes) -> int:
    """A column's number from its letters: A is 1, XFD 16,384."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def column_letters(number: int) -> str:
    """A column's letters from its number (1 is A)."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def check_sheet(
    path: Path, sheet: str, display_name: str, sink: Callable[[bytes], None] | None = None
) -> bool:
    """Whether the sheet must be streamed (its grid is too large for calamine, its cells are
    not); a sheet holding more cells than the limit is refused in one line. ``sink`` is
    given the sheet's XML as the scan inflates it, piece by piece, each cut before a tag."""
    # Counting the cells is a quarter of a scan, and only a sheet over the limit needs them.
    extent = sheet_extent(path, sheet, count_cells=False, sink=sink)
    limit = env_limit(MAX_CELLS_ENV, DEFAULT_MAX_CELLS)
    if extent is None or (extent.grid <= limit and not extent.irregular):
        return False
    extent = sheet_extent(path, sheet) or extent
    if extent.cells <= limit:
        return True
    raise BadInputError(
        f"{display_name}: sheet '{sheet}' holds {extent.cells:,} cells (to {extent.farthest}),"
        f" over the limit of {limit:,} ({MAX_CELLS_ENV})"
    )


def sheet_extent(
    path: Path,
    sheet: str,
    *,
    count_cells: bool = True,
    sink: Callable[[bytes], None] | None = None,
) -> SheetExtent | None:
    """The sheet's cells (unless not ``count_cells``) and reach; None when the file is not an
    xlsx or the part is missing."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_part(archive, sheet)
            if part is None:
                return None
            arrow = archive.getinfo(part).file_size >= ARROW_SHEET_XML_BYTES
            return _scan(archive, part, count_cells, arrow, sink)
    except (zipfile.BadZipFile, OSError, KeyError, ElementTree.ParseError, zlib.error, EOFError,
            NotImplementedError, RuntimeError, ValueError):  # fmt: skip
        return None  # calamine reports what is wrong with the file


def sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    return sheet_parts(archive).get(sheet)


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name and the archive member holding its XML, in the workbook's order."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG}Relationship")}
    parts: dict[str, str] = {}
    for entry in book.iter(f"{_MAIN}sheet"):
        target = targets.get(entry.get(f"{_REL}id"), "")
        name = entry.get("name")
        if name is not None and name not in parts:
            parts[name] = (
                target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            )
    return parts


def _scan(
    archive: zipfile.ZipFile,
    part: str,
    count_cells: bool = True,
    arrow: bool = False,
    sink: Callable[[bytes], None] | None = None,
) -> SheetExtent:
    """Counted at C speed: rows come in order, so the last ``<row r=...>`` so far bounds the
    rows of the cells read; columns are bounded by whether any reference has three letters
    (then each such reference is read: there are few) or two letters. calamine places a cell
    by its own reference, so any the bounds might not cover makes the sheet ``irregular``: a
    reference past the rows so far, in lower case or of four letters; a cell without one."""
    extent, wide, two_letters = SheetExtent(counted=count_cells), [], False
    with archive.open(part) as stream:
        for body, prefixed in chunks_ahead(stream) if arrow else _marked(chunks(stream)):
            if sink is not None:
                sink(body)
            if count_cells:
                extent.cells += body.count(b"<c ") + body.count(b"<c>")
            last = _ROW.match(body, body.rfind(b"<row ")) if b"<row " in body else None
            if last:
                extent.last_row = max(extent.last_row, int(last[1]))
            piece = _as_arrow(body) if arrow else None
            # A piece with no reference of two letters or more (most, on a sheet within A:Z)
            # needs no search for three: one scan of it instead of two.
            if two_or_more_letters(body, piece):
                two_letters = True
                wide += _WIDE.findall(body)
            if not extent.irregular:  # a prefixed sheet's cells are not even counted
                extent.irregular = prefixed or irregular_cell(body, extent.last_row, piece)
    extent.columns = 26
    if two_letters:
        extent.columns = 702
    if wide:
        letters, row = max(wide, key=lambda ref: column_number(ref[0]))
        extent.columns, extent.farthest = column_number(letters), f"{letters.decode()}{int(row)}"
    if not extent.farthest:
        extent.farthest = f"row {extent.last_row:,}"
    return extent


def chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """A part's XML about a megabyte at a time, each piece cut before a tag."""
    tail = b""
    while True:
        chunk = stream.read(_CHUNK)
        data = tail + chunk
        cut = data.rfind(b"<") if chunk else len(data)
        body, tail = data[: max(cut, 0)], data[max(cut, 0) :]
        yield body
        if not chunk:
            return


def chunks_ahead(stream: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """``_marked(chunks)``, inflated on another thread a few pieces ahead (zlib works without
    Python's lock) while the caller looks at the pieces before: a third less of a large
    sheet's scan."""
    return in_thread(lambda: _marked(chunks(stream)), "datawarp-sheet-inflate", ahead=_PIECES_AHEAD)


def _marked(pieces: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each piece, and whether it names a prefixed sheetData (worked out where the piece is
    inflated: that thread has time to spare, the caller's does not)."""
    for piece in pieces:
        yield piece, b":sheetData" in piece


def _as_arrow(body: bytes) -> pa.Array:
    import pyarrow as pa

    return pa.array([body], pa.large_binary())


def two_or_more_letters(body: bytes, piece: pa.Array | None = None) -> bool:
    """Whether ``body`` holds a cell reference of two letters or more; by RE2, without
    Python's lock, when given ``body`` as the one value of ``piece``."""
    if piece is None:
        return _TWO_OR_MORE_LETTERS.search(body) is not None
    return _re2_finds(piece, _TWO_OR_MORE_LETTERS.pattern.decode())


def irregular_cell(body: bytes, rows: int, piece: pa.Array | None = None) -> bool:
    """Whether ``body`` holds a cell the bounds may not cover: without a reference, or with one
    not first, and a reference to a row after ``rows``, with a leading zero, in lower case
    (calamine reads xfd5 as XFD5) or of four letters or more (AAAA is column 18,279); by RE2,
    as ``two_or_more_letters``, when given ``piece``."""
    if piece is None:
        return _irregular(rows).search(body) is not None
    return _re2_finds(piece, _irregular_re2(rows))


def _re2_finds(piece: pa.Array, pattern: str) -> bool:
    import pyarrow.compute as pc

    return bool(pc.match_substring_regex(piece, pattern)[0].as_py())


def _later_rows(rows: int) -> bytes:
    """A pattern for a row number after ``rows`` (digits only, no leading zero)."""
    digits = str(rows)
    later = [b"[1-9][0-9]{%d,}" % len(digits)]
    for position, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - position - 1
            later.append(b"%s[%d-9][0-9]{%d}" % (digits[:position].encode(), int(digit) + 1, rest))
    return b"|".join(later)


@functools.lru_cache(maxsize=64)
def _irregular(rows: int) -> re.Pattern[bytes]:
    # One look at each <c (possessive letters: no backtracking), for about a fifth of the scan.
    return re.compile(
        rb'<c(?:[>\t\n\r]| (?!r=")| r="[A-Z]{0,3}+(?:[^0-9]|0|(?:%s)"))' % _later_rows(rows)
    )


@functools.lru_cache(maxsize=64)
def _irregular_re2(rows: int) -> str:
    """``_irregular`` for RE2, which has neither lookahead nor possessive repeats: the space
    not followed by r=" is spelt out (a piece never ends inside a tag, but the last may end
    the file); four letters are their own case, so fewer letters may not be followed by one."""
    return (
        rb'<c(?:[>\t\n\r]| (?:$|[^r]|r(?:$|[^=])|r=(?:$|[^"]))'
        rb'| r="(?:[A-Z]{4}|[A-Z]{0,3}(?:[^A-Z0-9]|0|(?:%s)")))' % _later_rows(rows)
    ).decode()
