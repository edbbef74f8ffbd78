"""The ``datawarp`` command's process keeps the memory pyarrow frees, and commits it as used.

pyarrow allocates through mimalloc, which hands pages it has freed back to the system after
10 ms. A load frees a batch's buffers and allocates the next batch's a few milliseconds
later, so the system maps and zeroes the same memory again and again: a tenth of a second
of CPU in a 1M-row CSV load, on the cores the load and the server share. Kept for a second,
the pages are reused; once a command idles they still go back.

mimalloc also commits each arena it reserves at once on Linux, asking for transparent huge
pages: the kernel then zeroes memory two megabytes at a time as it is first touched, whether
or not the rest of the page is ever used. Committed as it is used instead, a 1M-row CSV load
peaked at 282 MB rather than 335 MB and spent 0.12 s less of the system's time (eight runs
each, ``MIMALLOC_ARENA_EAGER_COMMIT=0``); a workbook's load 236 MB rather than 254 MB.

mimalloc reads its settings from the environment once, as pyarrow loads, so they are set
before any import of pyarrow; a value the user set is kept.
"""

from __future__ import annotations

import os

PURGE_DELAY_ENV = "MIMALLOC_PURGE_DELAY"
PURGE_DELAY_MS = "1000"
EAGER_COMMIT_ENV = "MIMALLOC_ARENA_EAGER_COMMIT"
EAGER_COMMIT = "0"  # commit arena memory as it is used, in ordinary pages


def set_arrow_memory_defaults() -> None:
    """Only in the command's own process: code using DataWarp as a library keeps its own."""
    os.environ.setdefault(PURGE_DELAY_ENV, PURGE_DELAY_MS)
    os.environ.setdefault(EAGER_COMMIT_ENV, EAGER_COMMIT)
