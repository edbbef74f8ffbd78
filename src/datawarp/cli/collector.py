"""The ``datawarp`` command starts with Python's cycle collector paused.

A command's start imports its modules and builds its settings and models: well over a
hundred thousand objects (functions, classes, pydantic's schemas), none of them garbage. The
cycle collector walks them all the same as they are made, a full collection among its passes:
the collections of a whole load took 41 to 59 ms of its CPU, most of them during the start.
Paused while the command starts, then with what the start made frozen (never walked again,
still freed as soon as nothing refers to it) and the collector resumed, a 1M-row CSV load took
1.820 s against 1.871 s, a 100,000-row xlsx 1.394 s against 1.448 s (six interleaved runs
each) and a 65,000-row .xls 0.846 s against 0.860 s (eight). The garbage of the command's own
work is collected as ever.

Every command resumes the collector as it is invoked, except ``load-batch``, whose start goes
on in its own body (the pipeline's and pyarrow's imports, the settings, the manifest, the
connection): it resumes the collector once its database is ready. The cells a workbook's
pass 1 keeps for pass 2 are frozen as well, once made (``pass_chunks.kept_cells_made``). Only
the command's own process pauses it (``run``); code using DataWarp as a library keeps its own.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

# Commands that resume the collector themselves, once their start is over.
RESUME_THEMSELVES = frozenset({"load-batch"})


@dataclass
class _Pause:
    active: bool = False


_PAUSE = _Pause()


def pause_for_start() -> None:
    """Pause the collector, unless something paused it before (its owner decides then); the
    cells a workbook's pass 1 keeps are frozen too, once made (``pass_chunks``)."""
    from datawarp.pipeline.extract.pass_chunks import FREEZING

    FREEZING.kept_cells = True
    if gc.isenabled():
        gc.disable()
        _PAUSE.active = True


def resume() -> None:
    """End the start's pause, if there is one: what the start made is frozen, the collector
    runs again. Calling it again does nothing."""
    if _PAUSE.active:
        _PAUSE.active = False
        gc.freeze()
        gc.enable()
