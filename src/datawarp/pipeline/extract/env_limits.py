"""Reading's safety limits, each a number an operator may change in the environment."""

from __future__ import annotations

import os


def env_limit(name: str, default: int, *, minimum: int = 1) -> int:
    """``name`` as a whole number of at least ``minimum``; ``default`` when unset or not one
    (a limit mistyped must not switch the protection off)."""
    try:
        return max(minimum, int(os.environ.get(name, default)))
    except ValueError:
        return default
