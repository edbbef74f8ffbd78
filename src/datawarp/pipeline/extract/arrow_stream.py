"""Streaming a CSV for the fast path: pyarrow record batches of strings, in bounded memory.

``ArrowSource.batches`` reads the file (or ZIP member) with ``pyarrow.csv.open_csv``, every
field as a string, ``BLOCK_BYTES`` at a time, decoding it as ``csv_reader`` decided (UTF-8
natively; Windows-1252 and UTF-16 through Python's codecs with the same fallback for
undefined bytes). A thread parses the next batch while the caller works on the current one
(and in pass 2 another converts it), and the stream pyarrow reads from is throttled, so only a
few blocks are ever in memory.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv

from datawarp.pipeline.extract.ahead import in_thread
from datawarp.pipeline.extract.csv_reader import CP1252_FALLBACK
from datawarp.pipeline.extract.zip_limits import open_bounded

# Larger blocks cost less Python per row (each batch takes a few hundred pyarrow calls) and
# hold more memory between the stages: 6 MiB blocks with one batch waiting at each stage and
# two blocks read ahead loaded 1M rows 0.08 s faster than 4 MiB with two and three, 10M rows
# 0.7 s faster, at peaks of 334 and 334 MB against 277 and 288 (``cli/allocator``'s settings;
# ten and one interleaved runs).
BLOCK_BYTES = 6 << 20  # bytes of CSV per record batch
READ_AHEAD = 1  # batches parsed ahead of the one being worked on
TAIL_BYTES = 256 << 10  # the end of a file read to check the first block's guess (one_pass)
READ_WINDOW = 2  # blocks of file pyarrow may read ahead of the batches taken from it
THROTTLE_WAIT = 10.0  # seconds a read waits for room, at most (a safety net, never needed)
_NATIVE_ENCODINGS = ("utf-8", "utf-8-sig")  # pyarrow decodes these itself (and skips a BOM)
_TRANSCODE_CHUNK = 1 << 20


class ArrowFallback(Exception):
    """The fast path cannot reproduce the Python path on this file; the message says why."""


@dataclass(frozen=True)
class ArrowSource:
    """How to stream the CSV again: the file (or ZIP member), encoding, delimiter, width."""

    path: Path
    member: str | None
    encoding: str
    delimiter: str
    width: int

    def batches(self, transform: Callable[[pa.RecordBatch], Any] | None = None) -> Iterator[Any]:
        """Every data record as strings, ``BLOCK_BYTES`` of file at a time; with ``transform``,
        what it makes of each batch, computed on the reading thread (pass 2 converts there
        while the caller writes the previous batch to the server)."""
        with self._open() as raw:
            stream = _Throttled(raw, READ_WINDOW)
            try:
                reader = pa_csv.open_csv(stream, **self._options(skip_rows=1))
                yield from _read_ahead(reader, stream, transform)
            except (pa.ArrowInvalid, UnicodeError) as exc:
                raise ArrowFallback(
                    f"pyarrow cannot read it as the Python path does: {exc}"
                ) from exc

    def first_records(self) -> pa.RecordBatch | None:
        """The records in the file's first ``BLOCK_BYTES``, read as ``batches`` reads them but
        on this thread and no further (``batches`` reads a few blocks ahead); None for no
        records. ``ArrowFallback`` where they do not read as records of the file's width."""
        with self._open() as raw:
            data = raw.read(BLOCK_BYTES)
            if raw.read(1):  # more follows: up to the last whole line
                data = data[: data.rfind(b"\n") + 1]
        return self._records(data, skip_rows=1, what="its first lines")

    def last_records(self, nbytes: int | None = None) -> pa.RecordBatch | None:
        """The records that start in the last ``nbytes`` of a plain file longer than one
        block and ``nbytes``, read as ``batches`` reads them; None for a shorter file, a ZIP
        member or UTF-16. ``ArrowFallback`` where they do not read as records of the file's
        width (a notes line; a value over several lines, which the fast path never reads)."""
        nbytes = TAIL_BYTES if nbytes is None else nbytes
        if self.member is not None or self.encoding not in (*_NATIVE_ENCODINGS, "cp1252"):
            return None
        with open(self.path, "rb") as raw:
            size = raw.seek(0, io.SEEK_END)
            if size <= BLOCK_BYTES + nbytes:
                return None
            raw.seek(size - nbytes)
            data = raw.read(nbytes)
        start = data.find(b"\n") + 1
        if not start:
            return None
        data = data[start:]
        if self.encoding == "cp1252":
            data = data.decode("cp1252", CP1252_FALLBACK).encode("utf-8")
        return self._records(data, skip_rows=0, what="its last lines")

    def _records(self, data: bytes, *, skip_rows: int, what: str) -> pa.RecordBatch | None:
        try:
            table = pa_csv.read_csv(io.BytesIO(data), **self._options(skip_rows=skip_rows))
        except (pa.ArrowInvalid, UnicodeError) as exc:
            raise ArrowFallback(f"{what} do not read as records: {exc}") from exc
        batches = table.combine_chunks().to_batches()
        return batches[0] if batches else None

    def _options(self, skip_rows: int) -> dict[str, Any]:
        names = [f"f{index}" for index in range(self.width)]
        return dict(
            read_options=pa_csv.ReadOptions(
                block_size=BLOCK_BYTES, skip_rows=skip_rows, column_names=names, use_threads=False
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=self.delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )

    def _open(self) -> BinaryIO:
        if self.member is None:
            raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by the caller
        else:
            archive = zipfile.ZipFile(self.path)
            member = open_bounded(archive, archive.getinfo(self.member), self.member)
            raw = _Closing(member, archive.close)
        if self.encoding in _NATIVE_ENCODINGS:
            return raw
        return _Utf8Stream(raw, self.encoding)


def _read_ahead(
    reader: pa.RecordBatchReader,
    stream: _Throttled,
    transform: Callable[[pa.RecordBatch], Any] | None,
) -> Iterator[Any]:
    """The reader's batches (or what ``transform`` makes of them), the next one parsed in a
    thread while the caller works on this one (pyarrow releases the GIL while parsing and
    computing). With ``transform``, a second thread converts each batch while the first
    parses the next: in pass 2 the parse and the conversion took turns on one thread, which
    then could not keep the COPY fed. At most ``READ_AHEAD`` batches wait at each stage."""

    def parse() -> Iterator[pa.RecordBatch]:
        iterator = iter(reader)
        while True:
            with stream.hungry():
                batch = next(iterator, None)
            if batch is None:
                return
            stream.release()
            yield batch

    # pyarrow's own reading thread must see the end of the file before a stage is joined.
    parsed = in_thread(parse, "datawarp-csv-read", ahead=READ_AHEAD, before_join=stream.finish)
    if transform is None:
        return parsed

    def convert() -> Iterator[Any]:
        with contextlib.closing(parsed):  # a conversion that stops stops the parse
            for batch in parsed:
                yield transform(batch)

    return in_thread(convert, "datawarp-csv-convert", ahead=READ_AHEAD, before_join=stream.finish)


class _Throttled(io.RawIOBase):
    """A stream pyarrow may read only a few blocks ahead of the batches taken from it.

    pyarrow's streaming reader reads up to 32 blocks ahead in the background (nearly all of a
    100 MB file), and keeps going while a slow consumer (COPY) waits. Here a read waits while
    ``window`` blocks are read but not yet taken as batches (one batch per block), or two more
    while a batch is awaited (``hungry``): a record never spans more than two blocks, so the
    reader cannot stall. The first batch is awaited from the start: opening the reader reads
    the header's blocks, which no batch releases (with blocks smaller than a few records, a
    window of two then waited for the timeout). A long timeout is the safety net.
    """

    def __init__(self, raw: BinaryIO, window: int):
        self._raw, self._window = raw, window
        self._ahead = 0  # blocks read and not yet taken as batches
        self._hungry = True  # until the first batch is asked for (``hungry``) and taken
        self._finished = False
        self._room = threading.Condition()

    def readable(self) -> bool:
        return True

    def _has_room(self) -> bool:
        return self._finished or self._ahead < self._window + (2 if self._hungry else 0)

    def read(self, size: int = -1) -> bytes:
        with self._room:
            self._room.wait_for(self._has_room, timeout=THROTTLE_WAIT)
            if self._finished:
                return b""
            self._ahead += 1
        return self._raw.read(size)

    def finish(self) -> None:
        """No more reading: the batches are no longer wanted."""
        with self._room:
            self._finished = True
            self._room.notify_all()

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def release(self) -> None:
        """A batch was taken: another block may be read."""
        with self._room:
            self._ahead = max(0, self._ahead - 1)
            self._room.notify_all()

    @contextlib.contextmanager
    def hungry(self) -> Iterator[None]:
        """While the next batch is awaited, two more blocks may be read."""
        with self._room:
            self._hungry = True
            self._room.notify_all()
        try:
            yield
        finally:
            with self._room:
                self._hungry = False


class _Closing(io.RawIOBase):
    """A ZIP member stream that also closes its archive."""

    def __init__(self, stream: BinaryIO, on_close: Callable[[], None]):
        self._stream, self._on_close = stream, on_close

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
            self._on_close()
        super().close()


class _Utf8Stream(io.RawIOBase):
    """Bytes of another encoding as UTF-8, decoded as csv_reader does (cp1252 fallback)."""

    def __init__(self, raw: BinaryIO, encoding: str):
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(CP1252_FALLBACK)
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._pending) < size):
            chunk = self._raw.read(_TRANSCODE_CHUNK)
            self._done = not chunk
            self._pending += self._decoder.decode(chunk, final=self._done).encode("utf-8")
        if size < 0:
            size = len(self._pending)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
