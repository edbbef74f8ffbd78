"""Downloads over HTTP(S) into DataWarp's content-addressed cache, retried and paced.

Kept apart from ``fetch`` so a load of local files never imports an HTTP client.
"""

from __future__ import annotations

import email.message
import hashlib
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

import datawarp
from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.pipeline.fetch import FetchedFile, Progress, file_name_of
from datawarp.pipeline.fetch_pace import DownloadError, Pace

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
HEAD_REFUSED_STATUSES = frozenset({403, 405, 501})
GONE_STATUSES = frozenset({404, 410})
LONGEST_RETRY_AFTER_SECONDS = 60.0
INDEX_FILE = "index.json"


def check_url_reachable(
    location: str, timeout: float, retries: int, backoff_seconds: float
) -> None:
    """Raise a one-line error unless the URL answers; 429, 5xx and silence are asked again."""
    for attempt in range(retries + 1):
        try:
            status = _ask(location, timeout)
        except httpx.TransportError as exc:
            problem = DownloadError(f"{location} is not reachable ({_describe(exc, timeout)})")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise DownloadError(f"{location} is not reachable ({_describe(exc, timeout)})") from exc
        else:
            if status.status_code < 400:
                return
            problem = _status_error(location, status)
            if status.status_code not in RETRYABLE_STATUSES:
                raise problem
        if attempt < retries:
            time.sleep(backoff_seconds * 2**attempt)
    raise problem


def _ask(location: str, timeout: float) -> httpx.Response:
    with _client(timeout) as client:
        response = client.head(location)
        if response.status_code in HEAD_REFUSED_STATUSES:
            # Some servers refuse HEAD; one byte of a GET tells as much.
            with client.stream("GET", location, headers={"Range": "bytes=0-0"}) as response:
                pass
        return response


def _client(timeout: float) -> httpx.Client:
    return httpx.Client(
        follow_redirects=True,
        timeout=timeout,
        headers={"User-Agent": f"datawarp/{datawarp.__version__}"},
    )


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g}s"
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _status_error(url: str, response: httpx.Response) -> BadInputError:
    message = f"{url} answered HTTP {response.status_code} {response.reason_phrase}".rstrip()
    if response.status_code in GONE_STATUSES:
        return NotFoundError(message)
    return DownloadError(message)


class _RetryableFailure(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Download:
    """One URL fetched into the cache, retried as a whole on transient failures."""

    def __init__(
        self,
        url: str,
        cache_dir: Path,
        max_bytes: int,
        timeout: float,
        on_progress: Progress | None,
        pace: Pace,
    ):
        self.url = url
        self.cache_dir = cache_dir
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.on_progress = on_progress
        self.index = _CacheIndex(cache_dir)
        self.pace = pace

    def run(self, retries: int, backoff_seconds: float) -> FetchedFile:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with _client(self.timeout) as client:
            for attempt in range(retries + 1):
                try:
                    return self._attempt(client)
                except _RetryableFailure as failure:
                    if attempt == retries:
                        attempts = "attempt" if retries == 0 else f"{retries + 1} attempts"
                        raise DownloadError(
                            f"Download of {self.url} failed after {attempts}: {failure.reason}"
                        ) from None
                    delay = backoff_seconds * 2**attempt
                    if failure.retry_after is not None:
                        delay = max(delay, min(failure.retry_after, LONGEST_RETRY_AFTER_SECONDS))
                    if delay >= self.pace.room():
                        raise DownloadError(
                            f"Download of {self.url} failed ({failure.reason}) and the next"
                            f" attempt would pass the {self.pace.deadline_seconds:g}s deadline"
                        ) from None
                    time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, client: httpx.Client) -> FetchedFile:
        cached, validators = self.index.cached(self.url) or (None, {})
        try:
            with client.stream(
                "GET", self.url, headers=_conditional_headers(validators)
            ) as response:
                if response.status_code == 304 and cached is not None:
                    if self.on_progress is not None:
                        self.on_progress(cached.size, cached.size)
                    return cached
                if response.status_code in RETRYABLE_STATUSES:
                    reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                    raise _RetryableFailure(reason, _retry_after(response))
                if response.status_code >= 300:
                    raise _status_error(self.url, response)
                return self._store(response)
        except httpx.TransportError as exc:
            raise _RetryableFailure(_describe(exc, self.timeout)) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # A redirect loop or a malformed URL: retrying won't help.
            raise DownloadError(
                f"Download of {self.url} failed: {_describe(exc, self.timeout)}"
            ) from exc

    def _store(self, response: httpx.Response) -> FetchedFile:
        declared = _declared_length(response)
        if declared is not None and declared > self.max_bytes:
            raise self._too_large(f"it declares {declared:,} bytes")
        compressed = response.headers.get("content-encoding", "identity") != "identity"
        partial = tempfile.NamedTemporaryFile(dir=self.cache_dir, prefix=".download-", delete=False)
        try:
            with partial:
                digest, size = self._copy_body(response, partial, declared)
            if declared is not None and not compressed and size != declared:
                raise _RetryableFailure(f"connection closed after {size:,} of {declared:,} bytes")
            blob = self.cache_dir / digest[:2] / digest
            blob.parent.mkdir(exist_ok=True)
            os.replace(partial.name, blob)
        except BaseException:
            Path(partial.name).unlink(missing_ok=True)
            raise
        fetched = FetchedFile(blob, digest, size, self.url, _served_file_name(response, self.url))
        self.index.remember(fetched, response)
        return fetched

    def _copy_body(
        self, response: httpx.Response, target: Any, declared: int | None
    ) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        for chunk in response.iter_bytes():  # as the network delivers: a drip is checked
            self.pace.check(self.url, size)
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large("the download passed it")
            digest.update(chunk)
            target.write(chunk)
            if self.on_progress is not None:
                self.on_progress(response.num_bytes_downloaded, declared)
        return digest.hexdigest(), size

    def _too_large(self, why: str) -> BadInputError:
        return BadInputError(f"{self.url} is over the {self.max_bytes:,}-byte limit ({why})")


def _conditional_headers(validators: dict[str, str]) -> dict[str, str]:
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    return headers


def _declared_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):  # absent, or an HTTP date: the backoff is good enough
        return None


def _served_file_name(response: httpx.Response, url: str) -> str:
    disposition = response.headers.get("content-disposition")
    if disposition:
        parsed = email.message.Message()
        parsed["content-disposition"] = disposition
        name = parsed.get_filename()
        if name:
            return PurePosixPath(name.replace("\\", "/")).name
    return file_name_of(url) or file_name_of(str(response.url))


class _CacheIndex:
    """``index.json``: URL → sha256, size, file name and HTTP validators of the last download.

    Written whole to a temporary file and renamed, so a crash never leaves half an index;
    a lost update between two concurrent loads only costs one extra download.
    """

    def __init__(self, cache_dir: Path):
        self.path = cache_dir / INDEX_FILE

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def cached(self, url: str) -> tuple[FetchedFile, dict[str, str]] | None:
        """The file this URL gave last time, if still in the cache, and its HTTP validators."""
        entry = self._load().get(url)
        if not isinstance(entry, dict):
            return None
        try:
            digest, size = str(entry["sha256"]), int(entry["size"])
            blob = self.path.parent / digest[:2] / digest
            if blob.stat().st_size != size:
                return None
        except (KeyError, ValueError, OSError):
            return None
        validators = {key: str(entry[key]) for key in ("etag", "last_modified") if entry.get(key)}
        name = str(entry.get("file_name") or "")
        return FetchedFile(blob, digest, size, url, name), validators

    def remember(self, fetched: FetchedFile, response: httpx.Response) -> None:
        entries = self._load()
        entries[fetched.location] = {
            "sha256": fetched.sha256,
            "size": fetched.size,
            "file_name": fetched.name,
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
            "final_url": str(response.url),
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        scratch = tempfile.NamedTemporaryFile("w", dir=self.path.parent, prefix=".index-",
                                              suffix=".json", delete=False, encoding="utf-8")  # fmt: skip
        try:
            with scratch:
                json.dump(entries, scratch, indent=1, sort_keys=True)
            os.replace(scratch.name, self.path)
        except BaseException:
            Path(scratch.name).unlink(missing_ok=True)
            raise
