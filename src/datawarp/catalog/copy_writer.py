"""A COPY writer whose producer can run at most a fixed number of pieces ahead of the server.

psycopg's ``QueuedLibpqWriter`` lets the producer format rows while a thread sends earlier ones,
but its queue holds 1,024 pieces (up to 128 MiB) and its size is not a parameter. This writer
does the same with psycopg's public ``Writer`` and ``LibpqWriter`` only: pieces of at most
``PIECE_BYTES`` go through a queue of ``buffers`` slots to a thread that hands them to the
``LibpqWriter``; a producer that gets ahead waits on the queue. Memory held for the server is
bounded by ``buffers × PIECE_BYTES`` (8 MiB by default) whatever the file's size.

On a Unix-socket connection (the embedded server's) the writer also asks for a larger socket
send buffer (``SEND_BUFFER_BYTES``): Linux lets the sending thread write again only once three
quarters of that buffer is drained, and the default 208 KB was drained by the server between
two wake-ups of the thread, leaving it waiting for data for a fifth to a third of a COPY.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
from typing import TYPE_CHECKING

from psycopg.copy import LibpqWriter, Writer

if TYPE_CHECKING:
    import psycopg

PIECE_BYTES = 128 * 1024
COPY_QUEUE_BUFFERS = 64
SEND_BUFFER_BYTES = 4 << 20  # the system caps it (net.core.wmem_max)
_END = None


class BoundedCopyWriter(Writer):
    """Pass as ``cursor.copy(..., writer=BoundedCopyWriter(cursor))``."""

    def __init__(
        self,
        cursor: psycopg.Cursor,
        *,
        buffers: int = COPY_QUEUE_BUFFERS,
        inner: Writer | None = None,
    ):
        if inner is None:
            widen_send_buffer(cursor.connection)
        self._inner = inner if inner is not None else LibpqWriter(cursor)
        self._queue: queue.Queue = queue.Queue(maxsize=buffers)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def pending(self) -> int:
        """Pieces written but not yet taken by the sending thread."""
        return self._queue.qsize()

    def _send(self) -> None:
        try:
            while (piece := self._queue.get()) is not _END:
                self._inner.write(piece)
        except BaseException as exc:  # handed to the producer on its next write or finish
            self._error = exc
            while self._queue.get() is not _END:  # keep the producer from blocking for ever
                pass

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._send, name="copy-writer", daemon=True)
            self._thread.start()
        view = memoryview(data)
        for start in range(0, len(view), PIECE_BYTES):
            if self._error is not None:
                raise self._error
            self._queue.put(view[start : start + PIECE_BYTES])

    def finish(self, exc: BaseException | None = None) -> None:
        if self._thread is not None:
            self._queue.put(_END)
            self._thread.join()
            self._thread = None
        if self._error is not None and exc is None:
            raise self._error
        self._inner.finish(exc)


def widen_send_buffer(connection: psycopg.Connection) -> None:
    """Ask for a ``SEND_BUFFER_BYTES`` send buffer on a Unix-socket connection. A TCP socket
    is left to the system, which sizes its buffers as the connection runs."""
    try:
        with socket.socket(fileno=os.dup(connection.fileno())) as sock:  # closes only the copy
            if sock.family != getattr(socket, "AF_UNIX", None):
                return
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < SEND_BUFFER_BYTES:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
    except OSError:  # no such option or descriptor here: only ever a speed-up
        pass
