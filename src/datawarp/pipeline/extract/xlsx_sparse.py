"""An xlsx sheet read a row at a time, for sheets whose grid calamine could not hold.

calamine holds a sheet as a dense grid from its first to its last cell, so a workbook with a
stray value at XFD1048576 beside a small table asks it for 17 billion cells. When
``xlsx_extent`` finds a grid over ``DATAWARP_MAX_SHEET_CELLS`` but no more real cells than
that, the sheet is read here instead: its XML part is streamed with ElementTree and each row
goes to the pipeline as soon as it is parsed, so memory is that of a row and the shared
strings, whatever the sheet's declared reach. Values are typed as calamine types them
(``xlsx_cells``) and rows have ``excel_reader``'s shape (cell ``i`` is column ``i``, blanks
``None``, trailing blanks trimmed, blank rows as empty lists), so nothing downstream can
tell the readers apart; a test compares them cell for cell.

A value far to the right of the table belongs to no column. The sheet's columns holding
values are split where more than ``FAR_COLUMNS`` empty columns separate them; the group
holding most cells is the sheet's body, and values right of it are not read (a warning
names the farthest). A dense read would have made such a value a headerless column, or a row
of NULLs where it lies below the table. Values far *below* are read: the blank rows above
them cost nothing, and the table's end is decided by the usual rules. Rows after the last
one holding a value are not produced. (A sheet whose cells lack ``r`` references, placed by
their order in the row, has every value read.)
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from datawarp.core.errors import BadInputError, DataWarpError
from datawarp.pipeline.extract import xlsx_cells
from datawarp.pipeline.extract.workbook import Row
from datawarp.pipeline.extract.xlsx_extent import (
    chunks,
    column_letters,
    column_number,
    sheet_part,
)

FAR_COLUMNS = 256  # the width of a whole pre-2007 sheet: no table has a gap that wide
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384
_CHUNK = 1 << 20
_DIGITS = "0123456789"
_PLAIN_NUMBER = xlsx_cells.NUMBER
_NUMERIC = frozenset({None, "n"})  # a number cell's t: absent, or n
# A cell that may hold a value (not self-closing): its column letters, or b"" without r="".
_VALUED_CELL = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})[0-9]+"[^>]*(?<!/)>|<c(?:\s[^>]*)?(?<!/)>')
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)[^>]*>")
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData\b[^>]*?(/?)>")


class SparseSheet:
    """One sheet of one xlsx file, ready to be read any number of times."""

    def __init__(self, path: Path, sheet: str, display_name: str):
        self.path, self.sheet, self.display_name = path, sheet, display_name
        try:
            with zipfile.ZipFile(path) as archive:
                part = sheet_part(archive, sheet)
                if part is None:
                    raise KeyError(f"no part for sheet '{sheet}'")
                self._part = part
                self._strings = _shared_strings(archive)
                self._kinds = xlsx_cells.style_kinds(_optional(archive, "xl/styles.xml"))
                self._date1904 = _date1904(archive.read("xl/workbook.xml"))
                with archive.open(part) as stream:
                    census = _census(stream)
        except DataWarpError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the damage, one line names the file
            raise self._corrupt(exc) from exc
        self.last_column, self.far_cells, self.farthest = _body(census)
        self._columns: dict[str, int] = {}
        dates = (xlsx_cells.DATETIME, xlsx_cells.DURATION)
        self._plain_styles = {None} | {
            str(index) for index, kind in enumerate(self._kinds) if kind not in dates
        }

    def warnings(self) -> list[str]:
        if not self.far_cells:
            return []
        cells = f"{self.far_cells:,} cell{'s' if self.far_cells != 1 else ''}"
        return [
            f"sheet '{self.sheet}': {cells} more than {FAR_COLUMNS} empty columns right of the"
            f" table (to column {self.farthest}) not read"
        ]

    def rows(self) -> Iterator[Row]:
        """``(row number, cells)`` from row 1 to the last row holding a value."""
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self._part) as stream:
                yield from self._rows(stream)
        except DataWarpError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._corrupt(exc) from exc

    def _corrupt(self, exc: BaseException) -> BadInputError:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return BadInputError(f"{self.display_name} is truncated or corrupt ({detail[:200]})")

    def _rows(self, stream: IO[bytes]) -> Iterator[Row]:
        next_number, current = 1, 0
        for batch in _row_batches(stream):
            tags = _Tags(batch.tag)
            for row in batch:
                if row.tag != tags.row:
                    continue
                current = _row_number(row, current + 1)
                cells = self._cells(row, tags)
                if cells is None:
                    continue
                if current < next_number:
                    raise BadInputError(
                        f"{self.display_name}: sheet '{self.sheet}' lists row {current} after"
                        f" row {next_number - 1}; a sheet this large is read only in row order"
                    )
                for blank in range(next_number, current):
                    yield blank, []
                yield current, cells
                next_number = current + 1

    def _cells(self, row: ElementTree.Element, tags: _Tags) -> list[object] | None:
        """The row's values at their columns. The usual cell (one <v>: a shared string, or a
        number in a style that is no date) is typed here; the rest by ``_value``."""
        cells: list[object] = []
        column, last = 0, self.last_column
        columns, strings, plain = self._columns, self._strings, self._plain_styles
        cell_tag, value_tag = tags.cell, tags.value
        for cell in row:
            if cell.tag != cell_tag:
                continue
            reference = cell.get("r")
            if reference is not None:
                column = columns.get(reference.rstrip(_DIGITS), -1)
                if column < 0:
                    column = self._column(reference)
            if column > last:
                column += 1
                continue
            kind, text = cell.get("t"), cell[0].text if len(cell) == 1 else None
            if not text or cell[0].tag != value_tag:
                value = self._value(cell, tags)
            elif kind == "s" and text.isascii() and text.isdigit():
                value = strings[int(text)]
            elif kind in _NUMERIC and cell.get("s") in plain and _PLAIN_NUMBER.fullmatch(text):
                value = float(text)
            else:
                value = self._value(cell, tags)
            if value is None:
                pass  # no value: it leaves an earlier cell at its place as it was
            elif column >= len(cells):
                if value != "":
                    cells.extend([None] * (column - len(cells)))
                    cells.append(value)
            else:  # cells out of order, or one written twice: the last wins, even ""
                cells[column] = None if value == "" else value
            column += 1
        while cells and cells[-1] is None:
            cells.pop()
        return cells or None

    def _column(self, reference: str) -> int:
        letters = reference.rstrip(_DIGITS)
        if not (letters.isascii() and letters.isalpha()):
            raise ValueError(f"cell reference {reference[:20]!r}")
        column = column_number(letters.upper().encode()) - 1  # calamine reads xfd5 as XFD5
        if column >= MAX_COLUMN:
            raise ValueError(f"cell reference {reference[:20]!r}")
        self._columns[letters] = column
        return column

    def _value(self, cell: ElementTree.Element, tags: _Tags) -> object:
        """The last of the cell's <v>, <is> or <f> decides, as in calamine (an <f> is blank)."""
        value = None
        for child in cell:
            if child.tag == tags.value:
                kind = cell.get("t")
                value = None if kind == "inlineStr" else self._typed(child.text, kind, cell)
            elif child.tag == tags.inline:
                value = xlsx_cells.rich_text(child, tags.text, tags.run)
            elif child.tag == tags.formula:
                value = None
        return value

    def _typed(self, text: str | None, kind: str | None, cell: ElementTree.Element) -> object:
        if not text:
            return None
        if kind is None or kind == "n":
            style = cell.get("s")
            number_kind = xlsx_cells.OTHER if style is None else self._kind(style)
            return xlsx_cells.number(text, number_kind, self._date1904, kind is not None)
        if kind == "s":
            return self._strings[int(text) if text.isascii() and text.isdigit() else 0]
        if kind == "str":
            return xlsx_cells.unescape(text)
        if kind == "b":
            return xlsx_cells.boolean(text)
        if kind == "e":
            return None  # #N/A, #DIV/0! ... load as blanks, as with calamine
        if kind == "d":
            return xlsx_cells.iso_value(text)
        raise ValueError(f"unknown cell type {kind[:20]!r}")

    def _kind(self, style: str) -> int | None:
        index = int(style) if style.isascii() and style.isdigit() else 0
        return self._kinds[index] if index < len(self._kinds) else None


class _Tags:
    """The sheet's element names in its namespace (transitional or strict OOXML)."""

    def __init__(self, root_tag: str):
        namespace = root_tag[: root_tag.index("}") + 1] if root_tag.startswith("{") else ""
        self.sheet_data, self.row, self.cell = (
            namespace + name for name in ("sheetData", "row", "c")
        )
        self.value, self.inline, self.formula = (namespace + name for name in ("v", "is", "f"))
        self.text, self.run, self.string = (namespace + name for name in ("t", "r", "si"))


def _row_batches(stream: IO[bytes]) -> Iterator[ElementTree.Element]:
    """The sheet's rows about a megabyte at a time, each run of whole rows parsed at once
    inside a copy of the sheet's root tag (for its namespaces): C-speed tree building, where
    a parser's events for every element would cost more than the rest of the reading."""
    data, wrap = b"", None
    while True:
        chunk = stream.read(_CHUNK)
        data += chunk
        if wrap is None:
            found = _SHEET_DATA.search(data)
            if found is None:
                if not chunk:
                    return  # a sheet without data
                continue
            root = _ROOT.search(data)
            if root is None or found[2]:
                return  # <sheetData/>: no rows
            wrap = (data[: root.end()], b"</" + root[1] + b">")
            prefix = found[1] or b""
            row_end, data_end = b"</" + prefix + b"row>", b"</" + prefix + b"sheetData>"
            data = data[found.end() :]
        stop = data.find(data_end)
        if stop >= 0:
            yield ElementTree.fromstring(wrap[0] + data[:stop] + wrap[1])
            return
        if not chunk:
            raise ValueError("the sheet ends inside its data")
        cut = data.rfind(row_end)
        if cut >= 0:
            cut += len(row_end)
            yield ElementTree.fromstring(wrap[0] + data[:cut] + wrap[1])
            data = data[cut:]


def _row_number(row: ElementTree.Element, following: int) -> int:
    """The row's ``r``, else the row after the last one; refused past Excel's last row."""
    written = row.get("r")
    number = int(written) if written else following
    if not 1 <= number <= MAX_ROW:
        raise ValueError(f"row number {number}")
    return number


def _optional(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        return archive.read(name)
    except KeyError:
        return None


def _date1904(workbook_xml: bytes) -> bool:
    for element in ElementTree.fromstring(workbook_xml).iter():
        if xlsx_cells.local(element.tag) == "workbookPr":
            return element.get("date1904", "") in ("1", "true")
    return False


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    """Every shared string (calamine holds them too); each <si> is dropped once read."""
    try:
        stream = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return []
    strings: list[str] = []
    with stream:
        root = tags = None
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            if root is None:
                root, tags = element, _Tags(element.tag)
            elif event == "end" and tags is not None and element.tag == tags.string:
                strings.append(xlsx_cells.rich_text(element, tags.text, tags.run))
                root.remove(element)
    return strings


def _census(stream: IO[bytes]) -> Counter[bytes]:
    """How many cells that may hold a value each column has, counted at C speed."""
    counts: Counter[bytes] = Counter()
    for body in chunks(stream):
        counts.update(_VALUED_CELL.findall(body))
    return counts


def _body(census: Counter[bytes]) -> tuple[int, int, str]:
    """The sheet body's last column (0-based), and the cells right of it and the farthest."""
    if census.pop(b"", 0) or not census:
        return MAX_COLUMN - 1, 0, ""  # cells placed by their order in the row: none is far
    columns = sorted((column_number(letters) - 1, count) for letters, count in census.items())
    groups: list[list[int]] = []  # [first column, last column, cells]
    for column, count in columns:
        if groups and column - groups[-1][1] - 1 <= FAR_COLUMNS:
            groups[-1][1], groups[-1][2] = column, groups[-1][2] + count
        else:
            groups.append([column, column, count])
    body = max(groups, key=lambda group: group[2])  # the first of equals: the leftmost
    far = [(column, count) for column, count in columns if column > body[1]]
    if not far:
        return body[1], 0, ""
    return body[1], sum(count for _, count in far), column_letters(far[-1][0] + 1)
