"""Work on a local file done ahead on a background thread, and taken while the file is unchanged.

A load spends its first half second importing its modules and checking the manifest on one
core. ``load-batch`` uses the other for what the first file's load will need first and that
runs without Python's lock: its SHA-256 fingerprint (``fetch``) and, for a CSV, whether it is
UTF-8 (``csv_reader.detect_encoding``): together a fifth of a second of a 1M-row CSV's load;
then, for a plain CSV, its table as the first block types it (``one_pass``), the load's next
step, which would otherwise wait for the connection and the pre-load checks.

Each result is kept under the file's path, size and modification time when the work began,
and handed over only if the file still has them when it is asked for; a result that is not
asked for is dropped with the next one. Work that fails hands over nothing: the caller then
does the work itself and reports what is wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

FileKey = tuple[str, int, int]
# Work ahead reads its file in larger pieces than the loader does: the thread takes Python's
# lock, which the command's start holds most of the time, once or twice a piece.
PIECE_BYTES = 4 << 20


def file_key(path: Path) -> FileKey | None:
    """The file as it is now: resolved path, size, modification time (None if unreadable)."""
    try:
        found = path.stat()
        return (str(path.resolve()), found.st_size, found.st_mtime_ns)
    except OSError:
        return None


class FileAhead:
    """Results of work started ahead, one per kind of work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[FileKey, Future]] = {}

    def start(self, kind: str, path: Path, work: Callable[[Path], object]) -> bool:
        """Run ``work(path)`` on a background thread; whether it was started."""
        key = file_key(path)
        if key is None:
            return False
        pending: Future = Future()
        with self._lock:
            self._pending[kind] = (key, pending)
        # Not a daemon: a command that ends early waits for the work rather than exit under it.
        threading.Thread(
            target=_settle, args=(pending, work, path), name=f"datawarp-{kind}-ahead"
        ).start()
        return True

    def take(self, kind: str, path: Path) -> object | None:
        """The result of ``kind`` of work on ``path`` if it was started ahead, the file is
        unchanged since, and it succeeded; else None (the caller does the work itself)."""
        with self._lock:
            key, pending = self._pending.pop(kind, (None, None))
        if pending is None or key != file_key(path):
            return None
        try:
            return pending.result()
        except Exception:  # noqa: BLE001 - the caller's own try reports the problem
            return None

    def clear(self) -> None:
        """Wait for the work in flight, then drop every result (work ahead may hand a result
        back as it ends: none is left behind)."""
        while True:
            with self._lock:
                pending = [future for _, future in self._pending.values() if not future.done()]
                if not pending:
                    self._pending.clear()
                    return
            for future in pending:
                future.exception()  # waits; a failure is nobody's to report

    def give_back(self, kind: str, path: Path, result: object | None) -> None:
        """A result taken (or worked out) and not used after all, for the next ``take`` of
        the same file, while it is unchanged."""
        key = file_key(path)
        if key is None or result is None:
            return
        done: Future = Future()
        done.set_result(result)
        with self._lock:
            self._pending[kind] = (key, done)


def _settle(pending: Future, work: Callable[[Path], object], path: Path) -> None:
    try:
        pending.set_result(work(path))
    except BaseException as exc:  # noqa: BLE001 - handed to the taker, who ignores it
        pending.set_exception(exc)


AHEAD = FileAhead()
