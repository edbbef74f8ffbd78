"""ZIP members read within limits, and scratch folders that never outlive their process.

A member is counted as it is decompressed, whatever its header claims: more than
``max_bytes`` unpacked (``DATAWARP_ZIP_MAX_BYTES``, 4 GiB by default) or more than
``max_ratio`` times its compressed size once past 64 MiB (``DATAWARP_ZIP_MAX_RATIO``, 200 by
default; spreadsheets and CSVs compress 5 to 50 times) stops the read with a one-line error
before the rest is written anywhere.

Scratch folders (an Excel member copied out so calamine can seek in it) are named after the
process that made it, ``datawarp-scratch-<pid>-...``: they are removed on every exit path,
and a folder left by a process that was killed is removed by the next process to make one.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.env_limits import env_limit

MAX_BYTES_ENV, MAX_RATIO_ENV = "DATAWARP_ZIP_MAX_BYTES", "DATAWARP_ZIP_MAX_RATIO"
DEFAULT_MAX_BYTES = 4 << 30
DEFAULT_MAX_RATIO = 200
RATIO_CHECKED_AFTER = 64 << 20  # small members may compress very well and harm nobody
SCRATCH_PREFIX = "datawarp-scratch-"


class BoundedMember(io.RawIOBase):
    """A ZIP member's decompressed bytes, refused past the limits while being read."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, display_name: str):
        self._stream: BinaryIO = archive.open(info)
        self._compressed = max(info.compress_size, 1)
        self._display_name = display_name
        self._max_bytes = env_limit(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)
        self._max_ratio = env_limit(MAX_RATIO_ENV, DEFAULT_MAX_RATIO)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.read_bytes += len(data)
        self._check()
        return len(data)

    def _check(self) -> None:
        if self.read_bytes > self._max_bytes:
            raise BadInputError(
                f"{self._display_name} unpacks to more than {self._max_bytes:,} bytes, the limit"
                f" for one ZIP member ({MAX_BYTES_ENV} sets it)"
            )
        ratio = self.read_bytes / self._compressed
        if self.read_bytes > RATIO_CHECKED_AFTER and ratio > self._max_ratio:
            raise BadInputError(
                f"{self._display_name} unpacks to over {int(ratio)} times its packed size (a ZIP"
                f" bomb?); the limit is {self._max_ratio} ({MAX_RATIO_ENV} sets it)"
            )

    def close(self) -> None:
        self._stream.close()
        super().close()


def open_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display_name: str) -> BinaryIO:
    return io.BufferedReader(BoundedMember(archive, info, display_name), 1 << 20)


def make_scratch() -> Path:
    """A new scratch folder for this process, after removing those of dead processes."""
    sweep_scratch()
    return Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))


def sweep_scratch(root: Path | None = None) -> list[Path]:
    """Remove scratch folders whose process is gone; returns what was removed."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        pid = folder.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, alive
        return True
    return True
