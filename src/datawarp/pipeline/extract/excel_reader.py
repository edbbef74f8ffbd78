"""Excel (.xlsx/.xlsm/.xlsb/.xls) and OpenDocument (.ods) workbooks, read with python-calamine.

Cells come back as calamine gives them (str, float, int, bool, date, datetime, time,
timedelta) except that blanks become None. Row lists keep their column positions: cell ``i``
is column ``i`` (A = 0) of the sheet, even when the used range starts further right. An xlsx
sheet whose grid calamine could not hold is streamed by ``xlsx_sparse`` in the same shape.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import python_calamine

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.workbook import Row, SheetInfo, Workbook
from datawarp.pipeline.extract.xlsx_extent import check_sheet
from datawarp.pipeline.extract.xlsx_sparse import SparseSheet
from datawarp.pipeline.extract.zip_limits import make_scratch

# calamine picks its parser from the file extension, and cached downloads have none (or the
# publisher's wrong one), so the file is presented to it under the extension its content needs.
_SUFFIXES_FOR_KIND = {
    "xlsx": (".xlsx", ".xlsm"),
    "xlsb": (".xlsb",),
    "xls": (".xls",),
    "ods": (".ods",),
}
_INTERRUPTS = (KeyboardInterrupt, SystemExit, GeneratorExit)
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
    except _INTERRUPTS:
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
        raise _corrupt(display_name, exc) from exc


def _file_key(path: Path) -> tuple | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), found.st_size, found.st_mtime_ns)


class _LastParsedSheet:
    """The largest sheet calamine parsed of the last file read, kept for the next read of it
    while the file is unchanged: finding the table and pass 1 read the sheets, pass 2 opens
    the file again, and parsing a large sheet's XML is most of a workbook's cost (the table is
    nearly always on the largest sheet). One sheet at a time, so memory stays that of the
    largest sheet read; the sheet holds no file open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[tuple, str, python_calamine.CalamineSheet] | None = None

    def get(self, key: tuple | None, name: str) -> python_calamine.CalamineSheet | None:
        with self._lock:
            entry = self._entry
        if key is not None and entry is not None and entry[:2] == (key, name):
            return entry[2]
        return None

    def keep(self, key: tuple | None, name: str, sheet: python_calamine.CalamineSheet) -> None:
        with self._lock:
            entry = self._entry
            if key is None:
                return
            if entry is None or entry[0] != key or _cells(sheet) > _cells(entry[2]):
                self._entry = (key, name, sheet)

    def forget_other_files(self, key: tuple | None) -> None:
        with self._lock:
            if self._entry is not None and self._entry[0] != key:
                self._entry = None


def _cells(sheet: python_calamine.CalamineSheet) -> int:
    return sheet.height * sheet.width


_LAST_PARSED = _LastParsedSheet()


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
        self._file_key = _file_key(path)
        self._streamed: dict[str, SparseSheet] = {}
        try:
            readable = self._readable = self._path_calamine_understands(path, kind)
            self._book = _guarded(
                display_name, lambda: python_calamine.CalamineWorkbook.from_path(str(readable))
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
            if self.kind == "xlsx" and check_sheet(self._readable, name, self.display_name):
                streamed = self._streamed[name] = SparseSheet(
                    self._readable, name, self.display_name
                )
                return streamed.rows()
            parsed = _guarded(self.display_name, lambda: book.get_sheet_by_name(name))
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
                cells: list[object] = [None if cell == "" else cell for cell in row]
                while cells and cells[-1] is None:
                    cells.pop()
                if cells and left_padding:
                    cells = left_padding + cells
                yield row_number, cells
        except _INTERRUPTS:
            raise
        except BaseException as exc:  # noqa: BLE001 - cells are converted as rows are read:
            raise _corrupt(self.display_name, exc) from exc  # a 1e300-day duration panics

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
