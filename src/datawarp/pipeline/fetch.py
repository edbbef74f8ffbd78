"""Get a publication file onto local disk and fingerprint it: local paths in place, URLs cached.

Downloads land in a content-addressed cache (``cache_dir/<sha[:2]>/<sha>``) so the same bytes
are stored once however many URLs serve them. A small JSON index remembers, per URL, the file
it gave last time with its ETag and Last-Modified, so a repeat fetch asks "changed since?" and
reuses the cached bytes on 304 Not Modified.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.pipeline.extract.file_ahead import AHEAD, PIECE_BYTES
from datawarp.pipeline.fetch_pace import DownloadError, Pace

__all__ = ["DownloadError", "FetchedFile", "check_reachable", "fetch", "file_name_of"]

Progress = Callable[[int, int | None], None]

DEFAULT_MAX_BYTES = 2 * 1024**3
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class FetchedFile:
    """A file ready to read. ``location`` is what the user wrote; ``name`` its file name."""

    path: Path
    sha256: str
    size: int
    location: str
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", file_name_of(self.location))


def file_name_of(location: str) -> str:
    """The last path segment of a path or URL, percent-decoded for URLs."""
    if _scheme(location):
        return unquote(PurePosixPath(urlsplit(location).path).name) or location
    return Path(location).name or location


def fetch(
    location: str,
    *,
    cache_dir: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 30.0,
    retries: int = 3,
    backoff_seconds: float = 1.0,
    on_progress: Progress | None = None,
    pace: Pace | None = None,
) -> FetchedFile:
    """Make ``location`` (path, file:// or http(s) URL) readable locally and fingerprint it.

    Failed attempts (connection errors, timeouts, HTTP 429 and 5xx) are retried ``retries``
    times, waiting ``backoff_seconds`` × 1, 2, 4…; ``on_progress(done, total)`` is called as
    bytes arrive. Files over ``max_bytes`` are refused, downloads as soon as they pass it.
    ``timeout`` bounds each wait for the server; ``pace`` the whole download (a server
    sending a byte every few seconds never trips a per-read timeout).
    """
    scheme = _scheme(location)
    if scheme in ("http", "https"):
        from datawarp.pipeline.download import Download  # httpx only when a URL is fetched

        download = Download(location, cache_dir, max_bytes, timeout, on_progress, pace or Pace())
        return download.run(retries, backoff_seconds)
    path = _local_path(location, scheme)
    size = _readable_file_size(path, location)
    if size > max_bytes:
        raise BadInputError(f"{location} is {size:,} bytes, over the {max_bytes:,}-byte limit")
    digest = AHEAD.take("sha256", path)  # load-batch fingerprints its first file ahead
    if digest is None:
        with open(path, "rb") as stream:
            digest = hash_stream(stream, size, on_progress)
    elif on_progress is not None:
        on_progress(size, size)
    return FetchedFile(path=path.resolve(), sha256=digest, size=size, location=location)


def check_reachable(
    location: str, *, timeout: float = 10.0, retries: int = 2, backoff_seconds: float = 1.0
) -> None:
    """Raise a one-line error unless ``location`` is a readable file or an answering URL.

    A URL answering 429 or 5xx, or not answering, is asked again like a download is."""
    scheme = _scheme(location)
    if scheme not in ("http", "https"):
        path = _local_path(location, scheme)
        _readable_file_size(path, location)
        if not os.access(path, os.R_OK):
            raise BadInputError(f"{location} cannot be read (permission denied)")
        return
    from datawarp.pipeline.download import check_url_reachable

    check_url_reachable(location, timeout, retries, backoff_seconds)


def _scheme(location: str) -> str:
    scheme = urlsplit(location).scheme.lower()
    return "" if len(scheme) <= 1 else scheme  # 'C:\\data.csv' is a Windows path, not a URL


def _local_path(location: str, scheme: str) -> Path:
    if scheme == "file":
        parts = urlsplit(location)
        if parts.netloc not in ("", "localhost"):
            raise BadInputError(f"{location}: file:// URLs must name a local file")
        return Path(unquote(parts.path))
    if scheme:
        raise BadInputError(
            f"{location}: unsupported URL scheme '{scheme}' (use http, https or file)"
        )
    return Path(location).expanduser()


def _readable_file_size(path: Path, location: str) -> int:
    try:
        status = path.stat()
    except FileNotFoundError:
        raise NotFoundError(f"File not found: {location}") from None
    except OSError as exc:
        raise BadInputError(f"{location} cannot be read ({exc.strerror or exc})") from exc
    if not path.is_file():
        raise BadInputError(f"{location} is not a regular file")
    return status.st_size


def file_sha256(path: Path) -> str:
    """The SHA-256 of a local file, as ``fetch`` fingerprints it, as work ``AHEAD`` does it
    (in its ``PIECE_BYTES``)."""
    with open(path, "rb") as stream:
        return hash_stream(stream, None, None, PIECE_BYTES)


def hash_stream(
    stream: Any, total: int | None, on_progress: Progress | None, chunk_bytes: int = CHUNK_BYTES
) -> str:
    digest = hashlib.sha256()
    done = 0
    while chunk := stream.read(chunk_bytes):
        digest.update(chunk)
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, total)
    return digest.hexdigest()
