"""CSV files (plain or inside a ZIP) as one-sheet workbooks, streamed in bounded memory.

The encoding is decided once for the whole file before any row is read: a BOM wins; otherwise
the bytes are checked as UTF-8 chunk by chunk at memory speed (``utf8_scan``), and
Windows-1252 is chosen only when UTF-8 fails. That way a cp1252 '£' on line 900,000 cannot turn
into mojibake, and a UTF-8 file is never misread as cp1252.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.env_limits import env_limit
from datawarp.pipeline.extract.file_ahead import PIECE_BYTES
from datawarp.pipeline.extract.workbook import Row, SheetInfo, Workbook

SCAN_CHUNK_BYTES = 1 << 20
DELIMITER_SAMPLE_BYTES = 64 * 1024
DELIMITER_SAMPLE_RECORDS = 100
CANDIDATE_DELIMITERS = (",", "\t", ";", "|")
# A delimiter whose field count agrees on this share of sampled records counts as consistent;
# the rest may be preamble or trailing note lines.
CONSISTENT_SHARE = 0.8
# A quoted value running over more lines than this is worth a look: usually a quote opened by
# mistake that a later stray quote closed, swallowing the records between.
MULTILINE_FIELD_ENV = "DATAWARP_CSV_MULTILINE_LINES"
MULTILINE_FIELD_LINES = 20
# The largest value one CSV cell may hold (Python's reader stops at 128 KiB by default, which
# some published free-text columns exceed); larger is nearly always a quote left open.
MAX_CSV_VALUE_CHARS = 16 * 1024 * 1024
csv.field_size_limit(MAX_CSV_VALUE_CHARS)

OpenBinary = Callable[[], BinaryIO]


def _cp1252_or_latin1(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined map like browsers do
        return chr(byte)


_CP1252_CHARS = [_cp1252_or_latin1(byte) for byte in range(256)]
CP1252_FALLBACK = "datawarp-cp1252-fallback"


def _decode_bad_bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_CP1252_CHARS[byte] for byte in bad), error.end


# Every decode uses this handler, so no byte sequence can stop a load: in a cp1252 file it
# covers the undefined bytes, in a UTF-8 file with a few stray cp1252 bytes it decodes those.
codecs.register_error(CP1252_FALLBACK, _decode_bad_bytes_as_cp1252)


def file_encoding(path: Path) -> str:
    """``detect_encoding`` of a local file, as work ``file_ahead.AHEAD`` does it (in its
    ``PIECE_BYTES``)."""
    return detect_encoding(partial(open, path, "rb"), PIECE_BYTES)


def detect_encoding(open_binary: OpenBinary, chunk_bytes: int = SCAN_CHUNK_BYTES) -> str:
    """'utf-8-sig', 'utf-16', 'utf-8' or 'cp1252', reading the stream once in chunks."""
    with open_binary() as stream:
        first_chunk = stream.read(chunk_bytes)
        if first_chunk.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if first_chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        from datawarp.pipeline.extract.utf8_scan import utf8_or_cp1252  # pyarrow: CSVs only

        return utf8_or_cp1252(first_chunk, stream, chunk_bytes)


def detect_delimiter(sample: str) -> str:
    """The candidate giving the most fields consistently across the sample's first records.

    Where values are quoted, only the delimiters found beside the quotes compete: a comma
    file whose text holds semicolons on every line would otherwise split on them.
    """
    best, best_score = ",", None
    for preference, delimiter in enumerate(_quote_neighbours(sample) or CANDIDATE_DELIMITERS):
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
        field_counts = [
            len(record) for record in islice(reader, DELIMITER_SAMPLE_RECORDS) if record
        ]
        if not field_counts:
            continue
        modal_count, occurrences = Counter(field_counts).most_common(1)[0]
        if modal_count < 2:
            continue
        share = occurrences / len(field_counts)
        score = (share >= CONSISTENT_SHARE, modal_count, share, -preference)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def _quote_neighbours(sample: str) -> tuple[str, ...]:
    """The candidates most often opening or closing a quoted value (none if nothing is quoted)."""
    counts = {
        delimiter: sample.count(f'{delimiter}"') + sample.count(f'"{delimiter}')
        for delimiter in CANDIDATE_DELIMITERS
    }
    most = max(counts.values())
    return tuple(d for d in CANDIDATE_DELIMITERS if most and counts[d] == most)


def read_sample(open_binary: OpenBinary, encoding: str) -> str:
    """Up to 64 KiB of decoded text, cut after the last complete line when the file goes on."""
    with open_binary() as stream:
        raw = stream.read(DELIMITER_SAMPLE_BYTES)
        more_follows = bool(stream.read(1))
    text = codecs.getincrementaldecoder(encoding)(CP1252_FALLBACK).decode(
        raw, final=not more_follows
    )
    if more_follows:
        last_newline = max(text.rfind("\n"), text.rfind("\r"))
        if last_newline > 0:
            text = text[: last_newline + 1]
    return text


def csv_sheet_name(display_name: str) -> str:
    """The file stem: 'Key Facts.csv.zip!data/Key Facts.csv' gives 'Key Facts'."""
    last_part = display_name.rsplit("!", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]
    return PurePosixPath(last_part).stem or last_part or "csv"


class CsvWorkbook(Workbook):
    """A delimited text file as a workbook with one sheet named after the file stem.

    Rows are lists of strings with empty fields as None, exactly as long as the record is
    (ragged rows stay ragged); row numbers are the physical line where each record starts.
    """

    kind = "csv"

    def __init__(
        self,
        open_binary: OpenBinary,
        *,
        display_name: str,
        member: str | None = None,
        on_close: Callable[[], None] | None = None,
        encoding: str | None = None,
    ):
        """``encoding``: what ``detect_encoding`` found for these bytes, if it ran already."""
        self.display_name = display_name
        self.member = member
        self._open_binary = open_binary
        self._on_close = on_close
        self._long_fields: dict[int, int] = {}  # first line of a record: lines it ran over
        self.sheets = [SheetInfo(csv_sheet_name(display_name), 0, False)]
        try:
            self.encoding = encoding or detect_encoding(open_binary)
            self.delimiter = detect_delimiter(read_sample(open_binary, self.encoding))
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            self.close()
            raise _unreadable(display_name, exc) from exc
        except BaseException:
            self.close()
            raise

    def iter_rows(self, sheet: str) -> Iterator[Row]:
        self.resolve_sheet(sheet)
        return self._records()

    def read_warnings(self) -> list[str]:
        return [
            f"{self.display_name} line {line}: a quoted value runs over {lines} lines;"
            " check that its quotes are where the publisher meant them"
            for line, lines in sorted(self._long_fields.items())[:5]
        ]

    def _records(self) -> Iterator[Row]:
        last_line, spanned = 0, 1
        limit = env_limit(MULTILINE_FIELD_ENV, MULTILINE_FIELD_LINES, minimum=2)
        try:
            with io.TextIOWrapper(
                self._open_binary(), encoding=self.encoding, errors=CP1252_FALLBACK, newline=""
            ) as text:
                reader = csv.reader(text, delimiter=self.delimiter, strict=False)
                for record in reader:
                    spanned = reader.line_num - last_line
                    if spanned > limit:
                        self._long_fields[last_line + 1] = spanned
                    # '' in record is a C-speed scan; most rows of a tidy file skip the copy.
                    yield (
                        last_line + 1,
                        [field or None for field in record] if "" in record else record,
                    )
                    last_line = reader.line_num
            if spanned > 1:
                self._check_closed(last_line - spanned + 1)
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise BadInputError(
                    f"{self.display_name} line {last_line + 1}: a value longer than"
                    f" {MAX_CSV_VALUE_CHARS // (1024 * 1024)} million characters, DataWarp's"
                    " limit for one cell; is a quote left open?"
                ) from exc
            raise BadInputError(
                f"{self.display_name} line {last_line + 1}: malformed CSV ({exc}); "
                "is a quote left open?"
            ) from exc
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise _unreadable(self.display_name, exc) from exc

    def _check_closed(self, first_line: int) -> None:
        """The last record ran over several lines: was its quote ever closed? Python's reader
        ends an open quote at the end of the file without a word, which would load the rest of
        the file as one value (read again strictly, from where that record starts)."""
        with io.TextIOWrapper(
            self._open_binary(), encoding=self.encoding, errors=CP1252_FALLBACK, newline=""
        ) as text:
            tail = islice(text, first_line - 1, None)
            try:
                for _ in csv.reader(tail, delimiter=self.delimiter, strict=True):
                    pass
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise BadInputError(
                        f"{self.display_name} line {first_line}: a quote opened in this record"
                        " is never closed, so the rest of the file would be one value; fix the"
                        " quote and load again"
                    ) from None

    def close(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()


def _unreadable(display_name: str, exc: BaseException) -> BadInputError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return BadInputError(f"{display_name} is truncated or corrupt ({detail})")
