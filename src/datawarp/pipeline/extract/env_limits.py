"""Reading's safety limits, each a number an operator may change in the environment, and the
switch that turns the Arrow fast paths off."""

from __future__ import annotations

import os


def env_limit(name: str, default: int, *, minimum: int = 1) -> int:
    """``name`` as a whole number of at least ``minimum``; ``default`` when unset or not one
    (a limit mistyped must not switch the protection off)."""
    try:
        return max(minimum, int(os.environ.get(name, default)))
    except ValueError:
        return default


NO_ARROW_ENV = "DATAWARP_NO_ARROW"


def arrow_enabled() -> bool:
    """Whether the Arrow fast paths may be taken (``DATAWARP_NO_ARROW`` unset or false)."""
    return os.environ.get(NO_ARROW_ENV, "").strip().lower() in ("", "0", "false", "no")
