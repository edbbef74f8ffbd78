"""The common shape of an opened spreadsheet: named sheets that stream raw rows.

Every reader (Excel via python-calamine, CSV via the csv module) returns a ``Workbook``, so
table detection never needs to know which format it is looking at.
"""

from __future__ import annotations

import fnmatch
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from datawarp.core.errors import BadInputError, NotFoundError

# What a reader passes on rather than report as the file's fault: python-calamine's own
# failures (pyo3 panics among them) are BaseExceptions, caught whole beside these.
INTERRUPTS = (KeyboardInterrupt, SystemExit, GeneratorExit)


class ReadSheetAgain(Exception):  # noqa: N818 - a request, not a failure
    """The rows read so far of a split sheet (``xlsx_split``) may lack cells (its second part
    held rows of the first, or failed to parse): the sheet now reads as parsed whole, from its
    top. Here, where the engine catches it, so that a CSV's load never imports the workbook
    reader."""


Row = tuple[int, list[object]]
"""A 1-based row number in the original sheet or file, and that row's raw cells."""


@dataclass(frozen=True)
class SheetInfo:
    name: str
    index: int
    hidden: bool


class Workbook(ABC):
    """An opened spreadsheet file (or archive member). Close it, or use it as a context manager.

    ``iter_rows`` may be called any number of times, for any sheet: each call starts a fresh
    pass from the first row.
    """

    kind: str
    display_name: str
    member: str | None
    sheets: list[SheetInfo]
    encoding: str | None = None
    delimiter: str | None = None

    @abstractmethod
    def iter_rows(self, sheet: str) -> Iterator[Row]:
        """Yield ``(row_number, cells)`` for every row of ``sheet``, blank rows included."""

    @abstractmethod
    def close(self) -> None:
        """Release files and temporary copies; safe to call twice."""

    def confirm_rows(self, sheet: str) -> None:
        """Raise ``ReadSheetAgain`` if the rows of ``sheet`` read so far may lack
        cells (the sheet is then to be read again from its top); most readers never do."""
        return None

    def read_warnings(self) -> list[str]:
        """What reading the rows noticed that a person should check (none by default)."""
        return []

    @property
    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.sheets]

    def resolve_sheet(self, requested: str) -> SheetInfo:
        """The sheet called ``requested``, or the only one matching it ignoring case and spaces.

        Publishers often rename 'Data ' to 'data' between editions, so a forgiving second look
        saves a manifest edit without ever guessing between two candidates.
        """
        for sheet in self.sheets:
            if sheet.name == requested:
                return sheet
        wanted = requested.strip().casefold()
        loose = [sheet for sheet in self.sheets if sheet.name.strip().casefold() == wanted]
        if len(loose) == 1:
            return loose[0]
        if any(char in requested for char in "*?["):  # a glob, e.g. 'Provider*'
            matches = [s for s in self.sheets if fnmatch.fnmatchcase(s.name.casefold(), wanted)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                names = ", ".join(f"'{s.name}'" for s in matches)
                raise BadInputError(
                    f"Sheet pattern '{requested}' matches several sheets in {self.display_name}:"
                    f" {names}; make it specific"
                )
        available = ", ".join(f"'{name}'" for name in self.sheet_names) or "(none)"
        raise NotFoundError(
            f"Sheet '{requested}' not found in {self.display_name}; sheets: {available}"
        )

    def __enter__(self) -> Workbook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.display_name!r}>"
