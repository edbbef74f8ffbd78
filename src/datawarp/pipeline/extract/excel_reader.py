"""Excel (.xlsx/.xlsm/.xlsb/.xls) and OpenDocument (.ods) workbooks, read with python-calamine.

Cells come back as calamine gives them (str, float, int, bool, date, datetime, time,
timedelta) except that blanks become None. Row lists keep their column positions: cell ``i``
is column ``i`` (A = 0) of the sheet, even when the used range starts further right. An xlsx
sheet whose grid calamine could not hold is streamed by ``xlsx_sparse`` in the same shape; a
large one it can hold is parsed in two halves at once (``xlsx_split``), read as one sheet.
"""

from __future__ import annotations

import os
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

import python_calamine

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.file_ahead import AHEAD, file_key
from datawarp.pipeline.extract.workbook import INTERRUPTS, Row, SheetInfo, Workbook
from datawarp.pipeline.extract.xlsx_extent import check_sheet, sheet_parts
from datawarp.pipeline.extract.xlsx_sparse import SparseSheet
from datawarp.pipeline.extract.xlsx_split import ReadSheetAgain, SheetSplitter, SplitSheet
from datawarp.pipeline.extract.zip_limits import make_scratch

# calamine picks its parser from the file extension, and cached downloads have none (or the
# publisher's wrong one), so the file is presented to it under the extension its content needs.
_SUFFIXES_FOR_KIND = {
    "xlsx": (".xlsx", ".xlsm"),
    "xlsb": (".xlsb",),
    "xls": (".xls",),
    "ods": (".ods",),
}
T = TypeVar("T")


def _corrupt(display_name: str, exc: BaseException) -> BadInputError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, python_calamine.PasswordError):
        return BadInputError(f"{display_name} is password-protected ({detail})")
    return BadInputError(f"{display_name} is truncated or corrupt ({detail})")


def _guarded(display_name: str, action: Callable[[], T]) -> T:
    """Run a calamine call, turning any failure (Rust panics included) into a one-line error."""
    try:
        return action()
    except INTERRUPTS:
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
        raise _corrupt(display_name, exc) from exc


class _LastParsedSheet:
    """The largest sheet calamine parsed of the last file read, kept for the next read of it
    while the file is unchanged: finding the table and pass 1 read the sheets, pass 2 opens
    the file again, and parsing a large sheet's XML is most of a workbook's cost (the table is
    nearly always on the largest sheet). One sheet at a time, so memory stays that of the
    largest sheet read; the sheet holds no file open. A sheet ``read_sheet_ahead`` is still
    parsing is waited for rather than parsed twice; if that parse failed, the reader parses
    the sheet itself and reports what is wrong."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[tuple, str, Future[python_calamine.CalamineSheet]] | None = None

    def get(self, key: tuple | None, name: str) -> python_calamine.CalamineSheet | None:
        with self._lock:
            entry = self._entry
        if key is None or entry is None or entry[:2] != (key, name):
            return None
        parsing = entry[2]
        try:
            return parsing.result()
        except BaseException:
            if not parsing.done():  # interrupted while waiting (Ctrl-C): not the parse's failure
                raise
            self._drop(entry)  # a failed read-ahead: the caller reads the sheet and reports
            return None

    def keep(self, key: tuple | None, name: str, sheet: python_calamine.CalamineSheet) -> None:
        if key is None:
            return
        parsed: Future[python_calamine.CalamineSheet] = Future()
        parsed.set_result(sheet)
        with self._lock:
            if self._replaceable(key, sheet):
                self._entry = (key, name, parsed)

    def _replaceable(self, key: tuple, sheet: python_calamine.CalamineSheet) -> bool:
        if self._entry is None or self._entry[0] != key:
            return True
        held = self._entry[2]
        if not held.done():  # a read-ahead of this file's likeliest table sheet: let it land
            return False
        return held.exception() is not None or _cells(sheet) > _cells(held.result())

    def parse_ahead(
        self, key: tuple, name: str, parse: Callable[[], python_calamine.CalamineSheet]
    ) -> Future[python_calamine.CalamineSheet]:
        """Parse a sheet on a background thread (calamine works without the GIL) and hold it
        as the kept sheet; the reader that asks for it meanwhile waits for it."""
        pending: Future[python_calamine.CalamineSheet] = Future()
        with self._lock:
            self._entry = (key, name, pending)
        # Not a daemon: a command that ends early waits for the parse rather than exit while
        # it runs, as Python 3.11 would end a daemon thread inside calamine's Rust frames.
        threading.Thread(target=_settle, args=(pending, parse), name="datawarp-sheet-ahead").start()
        return pending

    def _drop(self, entry: tuple) -> None:
        with self._lock:
            if self._entry is entry:
                self._entry = None

    def forget_other_files(self, key: tuple | None) -> None:
        with self._lock:
            if self._entry is not None and self._entry[0] != key:
                self._entry = None


def _settle(pending: Future, parse: Callable[[], object]) -> None:
    try:
        pending.set_result(parse())
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics too; the reader reports them
        pending.set_exception(exc)


def _cells(sheet: python_calamine.CalamineSheet) -> int:
    return sheet.height * sheet.width


_LAST_PARSED = _LastParsedSheet()
# Files with a sheet whose parts did not join: read again, their sheets are parsed whole (a
# sheet's whole parse may have left the parsed-sheet cache by then).
_READ_WHOLE: set[tuple] = set()


def read_sheet_ahead(path: Path, sheet: str | None = None) -> Future | None:
    """Start parsing ``sheet`` (else the largest sheet) of the xlsx at ``path`` on a background
    thread, for the reader to take from the parsed-sheet cache; the pending parse, or None
    when none was started.

    A load spends its first second on one core (importing its modules, connecting, checking
    the manifest against the registry) while calamine parses a sheet without Python's lock:
    ``load-batch`` starts the first file's parse before all that. Only a local .xlsx/.xlsm
    (the other formats parse in a fraction of the time) and only its likeliest table sheet:
    the one named, else the one with the longest XML. The extent check runs first, as the
    reader runs it, and a large sheet is parsed in two halves at once (``xlsx_split``).
    Whatever cannot be read ahead is left alone without a word: the reader then reads the
    file as it always does and reports what is wrong with it.
    """
    if path.suffix.lower() not in _SUFFIXES_FOR_KIND["xlsx"]:
        return None
    try:
        name = sheet or _largest_sheet(path)
        key = file_key(path)
        if name is None or key is None:
            return None  # not a workbook, or no such sheet
        streamed, halves = _scan_and_split(path, name, path.name, ahead=True)
        if streamed:
            return None  # one the streamed reader reads
    except Exception:  # noqa: BLE001 - the reader opens the file itself and reports
        return None

    def parse_whole() -> python_calamine.CalamineSheet:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            return book.get_sheet_by_name(name)
        finally:
            book.close()

    return _LAST_PARSED.parse_ahead(key, name, lambda: _parsed(name, halves, parse_whole))


def _scan_and_split(
    path: Path, name: str, display_name: str, *, ahead: bool = False, split: bool = True
) -> tuple[bool, SheetSplitter | None]:
    """The reach check (``check_sheet``: whether the sheet must be streamed) and, for a large
    sheet calamine can hold, its XML written out in two parts as the check inflates it."""
    splitter = SheetSplitter.for_sheet(path, name, ahead=ahead) if split else None
    try:
        streamed = check_sheet(
            path, name, display_name, None if splitter is None else splitter.feed
        )
    except BaseException:
        if splitter is not None:
            splitter.discard()
        raise
    if splitter is not None and (streamed or not splitter.finish()):
        splitter.discard()
        return streamed, None
    return streamed, splitter


def _parsed(
    name: str, halves: SheetSplitter | None, parse_whole: Callable[[], T]
) -> T | SplitSheet:
    """The sheet from its two parts (read on from the first while the second is parsed),
    else parsed whole: anything the parts cannot give (a failure, parts that do not join) is
    left to the whole sheet's parse, which reports what is wrong in its own words."""
    if halves is not None:
        try:
            return halves.parse(name, parse_whole)
        except INTERRUPTS:
            raise
        except BaseException:  # noqa: BLE001 - pyo3 panics too: the whole parse reports
            pass
    return parse_whole()


def open_book_ahead(path: Path) -> bool:
    """Start opening a local Excel 97-2003 .xls on a background thread, for ``ExcelWorkbook``
    to take (``file_ahead``); whether it was started. calamine parses an .xls whole as it
    opens it, without Python's lock: most of reading one."""
    if path.suffix.lower() not in _SUFFIXES_FOR_KIND["xls"]:
        return False
    return AHEAD.start("workbook", path, _open_book)


def _open_book(path: Path) -> python_calamine.CalamineWorkbook:
    return python_calamine.CalamineWorkbook.from_path(str(path))


def _largest_sheet(path: Path) -> str | None:
    sizes = _sheet_sizes(path)
    return max(sizes, key=sizes.__getitem__) if sizes else None


def sheet_xml_bytes(path: Path, sheet: str | None = None) -> int:
    """The size of the XML of an xlsx's ``sheet`` (else its largest), 0 when unknown: about
    50 bytes a cell, and calamine parses some 70 MB a second."""
    try:
        sizes = _sheet_sizes(path)
    except Exception:  # noqa: BLE001 - not a workbook this can measure: nothing is known
        return 0
    return sizes.get(sheet, 0) if sheet else max(sizes.values(), default=0)


def _sheet_sizes(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: info.file_size for info in archive.infolist()}
        return {
            name: members[part] for name, part in sheet_parts(archive).items() if part in members
        }


class ExcelWorkbook(Workbook):
    """A workbook python-calamine can read; ``kind`` is xlsx, xlsb, xls or ods."""

    def __init__(
        self,
        path: Path,
        *,
        kind: str,
        display_name: str,
        member: str | None = None,
        on_close: Callable[[], None] | None = None,
    ):
        self.kind = kind
        self.display_name = display_name
        self.member = member
        self._on_close = on_close
        self._scratch_dir: str | None = None
        self._book: python_calamine.CalamineWorkbook | None = None
        self._file_key = file_key(path)
        self._streamed: dict[str, SparseSheet] = {}
        try:
            readable = self._readable = self._path_calamine_understands(path, kind)
            opened = AHEAD.take("workbook", path) if readable == path else None
            self._book = (
                opened
                if isinstance(opened, python_calamine.CalamineWorkbook)
                else _guarded(display_name, lambda: _open_book(readable))
            )
            self.sheets = [
                SheetInfo(
                    meta.name, index, meta.visible != python_calamine.SheetVisibleEnum.Visible
                )
                for index, meta in enumerate(self._book.sheets_metadata)
            ]
        except BaseException:
            self.close()
            raise

    def _path_calamine_understands(self, path: Path, kind: str) -> Path:
        suffixes = _SUFFIXES_FOR_KIND[kind]
        if path.suffix.lower() in suffixes:
            return path
        self._scratch_dir = str(make_scratch())
        alias = Path(self._scratch_dir) / f"workbook{suffixes[0]}"
        try:
            os.symlink(path.resolve(), alias)
        except OSError:  # no symlinks here (some Windows setups): a copy works everywhere
            shutil.copyfile(path, alias)
        return alias

    def iter_rows(self, sheet: str) -> Iterator[Row]:
        name = self.resolve_sheet(sheet).name
        if self._book is None:
            raise BadInputError(f"{self.display_name} is closed")
        book = self._book
        if name in self._streamed:
            return self._streamed[name].rows()
        parsed = _LAST_PARSED.get(self._file_key, name)
        if parsed is None:
            _LAST_PARSED.forget_other_files(self._file_key)  # before the next one is parsed
            # A stray far-away cell would make calamine's grid huge: such a sheet is streamed.
            halves = None
            if self.kind == "xlsx":
                streamed, halves = _scan_and_split(
                    self._readable, name, self.display_name,
                    split=self._file_key not in _READ_WHOLE,
                )  # fmt: skip
                if streamed:
                    sparse = self._streamed[name] = SparseSheet(
                        self._readable, name, self.display_name
                    )
                    return sparse.rows()
            parsed = _guarded(
                self.display_name,
                lambda: _parsed(name, halves, lambda: book.get_sheet_by_name(name)),
            )
            _LAST_PARSED.keep(self._file_key, name, parsed)
        return self._rows_of(parsed)

    def _rows_of(self, calamine_sheet: python_calamine.CalamineSheet) -> Iterator[Row]:
        start = calamine_sheet.start
        if start is None:  # an empty sheet
            return
        # calamine's iter_rows emits blank rows above the used range but starts each row at
        # the range's first column; padding restores true column positions.
        left_padding: list[object] = [None] * start[1]
        rows = _guarded(self.display_name, calamine_sheet.iter_rows)
        try:
            for row_number, row in enumerate(rows, start=1):
                # Most rows have no blank: one C-level look spares a new list for them.
                if "" in row or type(row) is not list:
                    row = [None if cell == "" else cell for cell in row]
                cells: list[object] = row
                while cells and cells[-1] is None:
                    cells.pop()
                if cells and left_padding:
                    cells = left_padding + cells
                yield row_number, cells
        except INTERRUPTS:
            raise
        except ReadSheetAgain:
            _READ_WHOLE.add(self._file_key)
            raise
        except BaseException as exc:  # noqa: BLE001 - cells are converted as rows are read:
            raise _corrupt(self.display_name, exc) from exc  # a 1e300-day duration panics

    def confirm_rows(self, sheet: str) -> None:
        """``ReadSheetAgain`` if the rows of ``sheet`` read so far may lack cells: a sheet
        read on from its first part while the second was parsed (``xlsx_split``) whose second
        part held rows of the first. The sheet then reads as parsed whole."""
        parsed = _LAST_PARSED.get(self._file_key, self.resolve_sheet(sheet).name)
        if isinstance(parsed, SplitSheet):
            try:
                parsed.confirm()  # a failed parse is kept, and raised where the rows are read
            except ReadSheetAgain:
                _READ_WHOLE.add(self._file_key)
                raise

    def read_warnings(self) -> list[str]:
        return [warning for sheet in self._streamed.values() for warning in sheet.warnings()]

    def close(self) -> None:
        if self._book is not None:
            book, self._book = self._book, None
            try:
                book.close()
            except python_calamine.CalamineError:  # already closed
                pass
        if self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)
            self._scratch_dir = None
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()
