"""The ``datawarp`` command's process ends as soon as its exit handlers have run.

After the last exit handler Python tears itself down: every module's globals are cleared and
the objects a load left (pyarrow's libraries, a workbook's cells, thousands of functions and
classes) are freed one by one, then a last cycle collection walks whatever is still alive.
None of it matters to a process about to end, whose memory the system takes back whole:
about 0.07 s for the imports of a load alone, and 0.03 to 0.05 s of a 1M-row CSV load
(interleaved runs; measured). So the command registers, before anything else can, an exit
handler that Python therefore calls last: it flushes the standard streams and ends the
process with the command's exit code (``os._exit``).

Everything a process should do before it ends still happens: threads that are not daemons
are waited for and every other exit handler the command's run registers is run (the embedded
server's handle, logging's flush), as Python runs them before the last handler; files and
connections are closed by the code that opens them. A command that ends by an exception that
escapes the CLI (a bug) is left to Python's own exit, and so is a process being traced,
profiled or measured by coverage.py: such a tool may have registered its own exit handler
before the command started (coverage.py saving a subprocess's data), which runs after this
one and would be skipped.
"""

from __future__ import annotations

import atexit
import os
import sys

# Python's own status when the standard streams cannot be flushed at exit (a closed pipe).
FLUSH_FAILED = 120


class ProcessEnd:
    """The command's exit code, and the exit handler that ends the process with it."""

    def __init__(self) -> None:
        self.code: int | None = None  # None: no SystemExit seen, Python ends the process
        if not _instrumented():
            atexit.register(self._end)

    def record(self, exit_request: SystemExit) -> None:
        """The code Python gives a process that ends by this ``SystemExit``: None is 0, a
        number itself, anything else (a message Python prints) 1."""
        requested = exit_request.code
        if requested is None:
            self.code = 0
        elif isinstance(requested, int):
            self.code = requested
        else:
            self.code = 1

    def _end(self) -> None:
        if self.code is None:
            return
        code = self.code
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):  # a reader that went away, a stream closed
                code = code or FLUSH_FAILED
        os._exit(code)


def _instrumented() -> bool:
    """Whether a tracer, a profiler or coverage.py is in the process."""
    return sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules
