"""The COPY writer's bound on memory: a producer cannot run more than N pieces ahead; and the
socket it sends through on a Unix-socket connection."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from psycopg.copy import Writer

from datawarp.catalog.copy_writer import PIECE_BYTES, SEND_BUFFER_BYTES, BoundedCopyWriter


class _StalledServer(Writer):
    """Takes one piece, then waits until released; records everything it was given."""

    def __init__(self, fail: bool = False):
        self.received: list[bytes] = []
        self.took_one, self.release = threading.Event(), threading.Event()
        self.finished_with: list[BaseException | None] = []
        self.fail = fail

    def write(self, data) -> None:
        if self.fail:
            raise OSError("server went away")
        self.received.append(bytes(data))
        self.took_one.set()
        self.release.wait()

    def finish(self, exc=None) -> None:
        self.finished_with.append(exc)


def test_the_producer_waits_once_n_pieces_are_queued():
    server = _StalledServer()
    writer = BoundedCopyWriter(None, buffers=4, inner=server)
    written = []

    def produce():
        for i in range(50):
            writer.write(b"%d" % i)
            written.append(i)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    assert server.took_one.wait(10)
    while writer.pending < 4:  # fills up while the server holds piece 0
        if not producer.is_alive():
            break
    assert writer.pending == 4
    # One piece at the server, four queued: the producer waits on the sixth, however long the
    # server takes (the fifth may be queued a moment before the producer counts it).
    assert 4 <= len(written) <= 1 + 4 and producer.is_alive()
    server.release.set()
    producer.join(10)
    writer.finish()
    assert server.received == [b"%d" % i for i in range(50)]
    assert server.finished_with == [None]


def test_large_writes_are_cut_into_pieces_in_order():
    server = _StalledServer()
    server.release.set()
    writer = BoundedCopyWriter(None, buffers=2, inner=server)
    data = bytes(range(256)) * (PIECE_BYTES // 64)  # four pieces
    writer.write(data)
    writer.finish()
    assert [len(piece) for piece in server.received] == [PIECE_BYTES] * 4
    assert b"".join(server.received) == data


def test_a_failure_while_sending_reaches_the_producer():
    server = _StalledServer(fail=True)
    writer = BoundedCopyWriter(None, buffers=2, inner=server)
    with pytest.raises(OSError, match="server went away"):
        for _ in range(1000):
            writer.write(b"row\n")
        writer.finish()


def _send_buffer(conn) -> tuple[int, int]:
    with socket.socket(fileno=os.dup(conn.fileno())) as sock:
        return sock.family, sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


def test_a_unix_socket_copy_sends_through_a_larger_buffer_and_tcp_is_left_alone(conn):
    """The suite runs on the embedded server (a Unix socket) and on a TCP server: each run
    checks its own kind of connection."""
    family, before = _send_buffer(conn)
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE counted (n int)")
        with cur.copy("COPY counted FROM STDIN", writer=BoundedCopyWriter(cur)) as copy:
            copy.write(b"1\n2\n")
    assert conn.execute("SELECT sum(n) FROM counted").fetchone()[0] == 3
    _, after = _send_buffer(conn)
    if family == socket.AF_UNIX:
        cap = int(Path("/proc/sys/net/core/wmem_max").read_text())
        assert after >= min(SEND_BUFFER_BYTES, cap) > 0
    else:
        assert after == before  # the system keeps tuning a TCP connection's buffers
