"""Who may run which command: the matrix of ``docs/access.md``, parsed, never hand-copied.

The database enforces access; this module names, when it refuses, which role the command
needed, in one line a person can act on, and refuses up front a command the login's roles do
not allow (``allows``). The package ships the page as
``datawarp/ops/access.md`` so an installed DataWarp reads the same table; a test keeps the
two files identical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

ROLES = ("analyst", "engineer", "dba")
MATRIX_RESOURCE = "access.md"  # the package's copy of docs/access.md
_HEADER = re.compile(r"^\|\s*Commands\s*\|", re.IGNORECASE)


@dataclass(frozen=True)
class AccessMatrix:
    """Each documented command (as its words) and the least role that may run it."""

    required: dict[tuple[str, ...], str]

    def required_role(self, words: list[str] | tuple[str, ...]) -> str | None:
        """The role needed by a command line's leading words; the longest listed prefix wins."""
        for length in range(len(words), 0, -1):
            found = self.required.get(tuple(words[:length]))
            if found:
                return found
        return None

    def allowed(self, role: str, words: list[str] | tuple[str, ...]) -> bool | None:
        needed = self.required_role(words)
        return None if needed is None else ROLES.index(role) >= ROLES.index(needed)


def parse_matrix(text: str) -> AccessMatrix:
    """Read the table whose first header cell is ``Commands``, one row per group of commands."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _HEADER.match(line)), None)
    if start is None:
        raise ValueError("docs/access.md has no table headed | Commands |")
    columns = [cell.strip().lower() for cell in lines[start].strip().strip("|").split("|")]
    roles = [_role_of(column) for column in columns[1:]]
    required: dict[tuple[str, ...], str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().lower() for cell in line.strip().strip("|").split("|")]
        least = next(role for role, cell in zip(roles, cells[1:], strict=True) if cell == "yes")
        for command in re.findall(r"`([^`]+)`", cells[0]):
            required[tuple(command.split())] = least
    return AccessMatrix(required)


def _role_of(column: str) -> str:
    if column not in ROLES:
        raise ValueError(f"docs/access.md: unknown role column {column!r}")
    return column


@cache
def matrix() -> AccessMatrix:
    page = resources.files("datawarp.ops").joinpath(MATRIX_RESOURCE)
    return parse_matrix(page.read_text(encoding="utf-8"))


def command_words(args: list[str]) -> list[str]:
    """The command's words: the leading arguments before the first option."""
    words = []
    for arg in args:
        if arg.startswith("-"):
            break
        words.append(arg)
    return words


def denial_message(
    words: list[str], login: str | None, groups: dict[str, str] | None = None
) -> str:
    """``permission denied: <command> needs role_<x> (you are <login>)``; with the catalog's
    ``groups``, the group role as it is named there (``<prefix>_role_<x>``)."""
    try:
        table = matrix()
    except (OSError, ValueError):  # an installation without the docs still gets one line
        table = AccessMatrix({})
    needed = table.required_role(words)
    listed = next(
        (words[:n] for n in range(len(words), 0, -1) if tuple(words[:n]) in table.required),
        words[:2],
    )
    command = " ".join(listed) or "this command"
    role = "a DataWarp role you lack"
    if needed:
        role = (groups or {}).get(needed) or f"role_{needed}"
    return f"permission denied: {command} needs {role} (you are {login or 'unknown'})"


def allows(words: list[str], held: set[str] | None) -> bool:
    """Whether one of the ``held`` roles may run the command (``None``: no role applies).

    Checked before anything runs: the database refuses the writes anyway, but this also covers
    the commands whose reads are open to everyone (listing orphans, a retention dry run) and
    refuses before any work is done."""
    if held is None:
        return True
    table = matrix()
    return table.required_role(words) is None or any(table.allowed(r, words) for r in held)
