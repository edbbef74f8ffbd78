"""The ``datawarp`` command's process keeps the memory pyarrow frees for a second.

pyarrow allocates through mimalloc, which hands pages it has freed back to the system after
10 ms. A load frees a batch's buffers and allocates the next batch's a few milliseconds
later, so the system maps and zeroes the same memory again and again: a tenth of a second
of CPU in a 1M-row CSV load, on the cores the load and the server share. Kept for a second,
the pages are reused; once a command idles they still go back. mimalloc reads the setting
from the environment once, as pyarrow loads, so it is set before any import of pyarrow; a
value the user set is kept.
"""

from __future__ import annotations

import os

PURGE_DELAY_ENV = "MIMALLOC_PURGE_DELAY"
PURGE_DELAY_MS = "1000"


def keep_freed_pages() -> None:
    """Only in the command's own process: code using DataWarp as a library keeps its own."""
    os.environ.setdefault(PURGE_DELAY_ENV, PURGE_DELAY_MS)
