"""Packages the ``datawarp`` command keeps out of its process: pyarrow imports them where they
are installed, though DataWarp does not need them there.

pyarrow imports pandas the first time it makes an array or a scalar (to ask whether the values
are a pandas object): half a second of every command that reads a CSV. It imports numpy as it
is imported itself: a tenth of a second of every load, which never uses numpy (only the archive
does, to digest a table's values). pyarrow treats a failed import as "not installed" and works
as it does without them. Only the command's own process does this (``command_process``),
and only for a package not yet imported: code using DataWarp as a library, or running its
commands in-process (tests), keeps its pandas and numpy.
"""

from __future__ import annotations

import os
import sys


class _Absent:
    """An import finder that reports some top-level packages as not installed."""

    def __init__(self, names: frozenset[str]):
        self.names = names

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"the datawarp command does not use {name}", name=name)


def keep_out(*names: str) -> None:
    """Have ``names`` (top-level packages) fail to import in this process, unless imported."""
    absent = frozenset(name for name in names if name not in sys.modules)
    already = {n for finder in sys.meta_path if isinstance(finder, _Absent) for n in finder.names}
    if absent - already:
        sys.meta_path.insert(0, _Absent(absent - already))


_in_command_process = False


def command_process() -> None:
    """This process is the ``datawarp`` command's: no command uses pandas, nor a pydantic
    plugin (found by reading every installed package's entry points as the first model is
    built: 5 ms of every start on a machine with 166 packages). A user who sets
    ``PYDANTIC_DISABLE_PLUGINS`` (empty: none disabled) has it as set."""
    global _in_command_process
    _in_command_process = True
    keep_out("pandas")
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def without_numpy() -> None:
    """A command that never archives (``load-batch``), before it imports pyarrow; only in the
    command's own process."""
    if _in_command_process:
        keep_out("numpy")
