"""Recognise a file by its content and open it as a ``Workbook`` of raw rows.

Publishers (and download caches) get extensions wrong: an '.xls' that is really xlsx, an
'.xlsx' that is an HTML error page, a '.csv.zip'. So the format is always decided from the
bytes, and every refusal is one line naming the file and what it really is.
"""

from __future__ import annotations

import codecs
import shutil
import zipfile
import zlib
from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path, PurePosixPath

from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.pipeline.extract.csv_reader import CsvWorkbook
from datawarp.pipeline.extract.file_ahead import AHEAD
from datawarp.pipeline.extract.workbook import Row, SheetInfo, Workbook
from datawarp.pipeline.extract.zip_limits import make_scratch, open_bounded

__all__ = ["Row", "SheetInfo", "Workbook", "list_members", "open_workbook", "sniff"]

HEAD_BYTES = 8192
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
KNOWN_NON_SPREADSHEETS = {
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip-compressed file",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}
HTML_OPENINGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<table", b"<!--")
# Text never holds these; more than a trace of them means binary content.
_CONTROL_BYTES = bytes(range(0, 9)) + bytes(range(14, 32)) + b"\x7f"
_NOT_CONTROL_BYTES = bytes(byte for byte in range(256) if byte not in _CONTROL_BYTES)
JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
TABULAR_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
LISTED_MEMBERS = 20


def sniff(path: Path, display_name: str) -> str:
    """'xlsx', 'xlsb', 'xls', 'ods', 'zip' or 'csv', from the file's bytes; refuses the rest."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            head = stream.read(HEAD_BYTES)
    except FileNotFoundError:
        raise NotFoundError(f"File not found: {display_name}") from None
    except IsADirectoryError:
        raise BadInputError(f"{display_name} is a directory, not a file") from None
    except OSError as exc:
        raise BadInputError(f"{display_name} cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise BadInputError(f"{display_name} is empty (0 bytes)")
    if head.startswith(ZIP_MAGICS):
        try:
            with zipfile.ZipFile(path) as archive:
                return _zip_kind(archive, display_name)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise _corrupt(display_name, exc) from exc
    return _kind_from_head(head, display_name)


def _zip_kind(archive: zipfile.ZipFile, display_name: str) -> str:
    names = set(archive.namelist())
    if "mimetype" in names:
        mimetype = archive.read("mimetype").strip()
        if mimetype == ODS_MIMETYPE:
            return "ods"
        if mimetype.startswith(b"application/vnd.oasis.opendocument"):
            kind = mimetype.decode("ascii", "replace").rsplit(".", 1)[-1]
            raise BadInputError(f"{display_name} is an OpenDocument {kind}, not a spreadsheet")
    if "[Content_Types].xml" in names:
        if "xl/workbook.bin" in names:
            return "xlsb"
        if any(name.startswith("xl/") for name in names):
            return "xlsx"
        if any(name.startswith("word/") for name in names):
            raise BadInputError(f"{display_name} is a Word document, not a spreadsheet")
        if any(name.startswith("ppt/") for name in names):
            raise BadInputError(f"{display_name} is a PowerPoint file, not a spreadsheet")
    return "zip"


def _kind_from_head(head: bytes, display_name: str) -> str:
    if head.startswith(OLE2_MAGIC):
        return "xls"
    for magic, what in KNOWN_NON_SPREADSHEETS.items():
        if head.startswith(magic):
            raise BadInputError(f"{display_name} is {what}, not a spreadsheet")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    _refuse_markup(head, display_name)
    control_bytes = len(head.translate(None, _NOT_CONTROL_BYTES))
    if b"\x00" in head or control_bytes > len(head) // 100:
        raise BadInputError(f"{display_name} is binary data, not a spreadsheet or CSV text")
    return "csv"


def _refuse_markup(head: bytes, display_name: str) -> None:
    opening = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if opening.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in opening:
            raise BadInputError(
                f"{display_name} is an Excel 2003 XML spreadsheet, which cannot be read; "
                "re-save it as .xlsx"
            )
        if b"<html" not in opening:
            raise BadInputError(f"{display_name} is an XML document, not a spreadsheet")
    if opening.startswith(HTML_OPENINGS) or (opening.startswith(b"<") and b"<html" in opening):
        raise BadInputError(f"{display_name} is an HTML page, not a spreadsheet")


def _corrupt(display_name: str, exc: BaseException) -> BadInputError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return BadInputError(f"{display_name} is truncated or corrupt ({detail})")


def open_workbook(path: Path, *, display_name: str, member: str | None = None) -> Workbook:
    """Open a spreadsheet, CSV or ZIP archive (choosing ``member``: exact name or glob)."""
    kind = sniff(path, display_name)
    if kind == "zip":
        return _open_zip_member(path, display_name, member)
    if member is not None:
        raise BadInputError(
            f"{display_name} is not a ZIP archive (it is {kind}), so member '{member}' "
            "cannot be chosen"
        )
    return _open_file(path, kind, display_name)


def _open_file(
    path: Path,
    kind: str,
    display_name: str,
    member: str | None = None,
    on_close: Callable[[], None] | None = None,
) -> Workbook:
    if kind == "csv":
        encoding = AHEAD.take("encoding", path)  # load-batch detects its first file's ahead
        return CsvWorkbook(
            partial(open, path, "rb"), display_name=display_name, member=member,
            on_close=on_close, encoding=encoding if isinstance(encoding, str) else None,
        )  # fmt: skip
    from datawarp.pipeline.extract.excel_reader import ExcelWorkbook  # calamine: workbooks only

    return ExcelWorkbook(
        path, kind=kind, display_name=display_name, member=member, on_close=on_close
    )


def list_members(path: Path, display_name: str) -> list[str]:
    """The real files of a ZIP archive: folders and macOS/Windows metadata left out."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [info.filename for info in _real_members(archive)]
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt(display_name, exc) from exc


def _real_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info for info in archive.infolist() if not info.is_dir() and not _is_junk(info.filename)
    ]


def _is_junk(name: str) -> bool:
    base = PurePosixPath(name).name
    return name.startswith("__MACOSX/") or base.startswith("._") or base in JUNK_NAMES


def _choose_member(
    archive: zipfile.ZipFile, archive_name: str, wanted: str | None
) -> zipfile.ZipInfo:
    real = _real_members(archive)
    if wanted is None:
        if len(real) == 1:
            return real[0]
        tabular = [
            info for info in real if PurePosixPath(info.filename).suffix.lower() in TABULAR_SUFFIXES
        ]
        if len(tabular) == 1:
            return tabular[0]
        if not real:
            raise BadInputError(f"{archive_name} holds no files (only folders or metadata)")
        raise BadInputError(
            f"{archive_name} holds several files; name the member to load: {_listing(real)}"
        )
    exact = [info for info in archive.infolist() if info.filename == wanted and not info.is_dir()]
    if exact:
        return exact[0]
    pattern = wanted.casefold()
    matches = [
        info
        for info in real
        if fnmatchcase(info.filename.casefold(), pattern)
        or fnmatchcase(PurePosixPath(info.filename).name.casefold(), pattern)
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        several = _listing(matches)
        raise BadInputError(
            f"Member pattern '{wanted}' matches several files in {archive_name}: {several}"
        )
    raise NotFoundError(f"Member '{wanted}' not found in {archive_name}; members: {_listing(real)}")


def _listing(members: list[zipfile.ZipInfo]) -> str:
    names = [f"'{info.filename}'" for info in members[:LISTED_MEMBERS]]
    if len(members) > LISTED_MEMBERS:
        names.append(f"and {len(members) - LISTED_MEMBERS} more")
    return ", ".join(names) or "(none)"


def _holds_workbook(member_head: bytes) -> bool:
    """A ZIP member that is itself a workbook (xlsx, ods, xls), copied out to be opened."""
    return member_head.startswith(ZIP_MAGICS + (OLE2_MAGIC,))


def member_is_text(path: Path, archive_name: str, wanted: str | None) -> bool:
    """Whether the member ``open_workbook`` would open in a ZIP is read as a CSV (not a
    workbook copied out of the archive), from its first bytes; its errors are the ones
    ``open_workbook`` gives."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = _choose_member(archive, archive_name, wanted)
            head = _read_member_head(archive, info, f"{archive_name}!{info.filename}")
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt(archive_name, exc) from exc
    return not _holds_workbook(head)


def _open_zip_member(path: Path, archive_name: str, wanted: str | None) -> Workbook:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt(archive_name, exc) from exc
    try:
        info = _choose_member(archive, archive_name, wanted)
        display_name = f"{archive_name}!{info.filename}"
        if info.file_size == 0:
            raise BadInputError(f"{display_name} is empty (0 bytes)")
        head = _read_member_head(archive, info, display_name)
        if _holds_workbook(head):
            with archive:
                return _open_extracted_member(archive, info, display_name)
        _kind_from_head(head, display_name)  # refuses HTML, PDF and binary members
        return CsvWorkbook(
            partial(open_bounded, archive, info, display_name),
            display_name=display_name,
            member=info.filename,
            on_close=archive.close,
        )
    except BaseException:
        archive.close()
        raise


def _read_member_head(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display_name: str) -> bytes:
    try:
        with archive.open(info) as stream:
            return stream.read(HEAD_BYTES)
    except NotImplementedError as exc:  # e.g. Deflate64, which Windows uses for big archives
        raise BadInputError(
            f"{display_name} uses a compression method Python cannot read ({exc}); "
            "re-zip it with standard Deflate"
        ) from exc
    except RuntimeError as exc:  # zipfile's way of saying "encrypted"
        raise BadInputError(f"{display_name} is password-protected ({exc})") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _corrupt(display_name, exc) from exc


def _open_extracted_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, display_name: str
) -> Workbook:
    """Workbook readers need a seekable file, so an Excel member goes to a temporary copy."""
    scratch = make_scratch()
    remove_scratch = partial(shutil.rmtree, scratch, ignore_errors=True)
    try:
        extracted = scratch / (PurePosixPath(info.filename).name or "member")
        try:
            with (
                open_bounded(archive, info, display_name) as source,
                open(extracted, "wb") as target,
            ):
                shutil.copyfileobj(source, target, 1 << 20)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise _corrupt(display_name, exc) from exc
        kind = sniff(extracted, display_name)
        if kind == "zip":
            raise BadInputError(f"{display_name} is itself a ZIP archive; unzip it first")
        return _open_file(extracted, kind, display_name, info.filename, remove_scratch)
    except BaseException:
        remove_scratch()
        raise
