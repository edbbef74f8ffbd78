"""What a generator yields, worked out on a thread of its own a few items ahead of the caller.

Pass 2 of a CSV parses on one such thread and converts on another (``arrow_stream``); a large
sheet's reach scan inflates its XML on one (``xlsx_extent``). The work in each releases
Python's lock (pyarrow, zlib), so it runs beside the caller's.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

_END = object()  # the end of what make() yields (which may yield None)


def in_thread(
    make: Callable[[], Iterator[Any]],
    name: str,
    *,
    ahead: int,
    before_join: Callable[[], None] | None = None,
) -> Iterator[Any]:
    """What ``make()`` yields, worked out on a thread of its own at most ``ahead`` items
    ahead of the caller; its failure is raised to the caller; closing this stops the thread
    (``before_join`` first unblocks whatever the thread may be waiting in)."""
    items: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def offer(item: tuple) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        iterator = make()
        try:
            for item in iterator:
                if not offer((item, None)):
                    return
            offer((_END, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            offer((_END, exc))
        finally:
            iterator.close()

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item, error = items.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        if before_join is not None:
            before_join()
        worker.join()
