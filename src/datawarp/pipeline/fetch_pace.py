"""A whole download's limits: a deadline and a slowest acceptable rate.

A per-read timeout cannot stop a server that sends a byte every few seconds; these limits
bound the download as a whole (``[fetch]`` settings: ``deadline_seconds``, 15 minutes by
default, and ``min_bytes_per_second``, 1 KiB/s after the first minute). The clock is
injectable so tests need not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from datawarp.core.errors import BadInputError


class DownloadError(BadInputError):
    """A URL could not be fetched: refused, unreachable, or kept failing after retries."""


@dataclass
class Pace:
    """A whole download's limits: its deadline, retries and waits included, and the slowest
    average rate accepted once ``grace_seconds`` have passed."""

    deadline_seconds: float = 900.0
    min_bytes_per_second: int = 1024
    grace_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = self.clock()

    def check(self, url: str, received: int) -> None:
        self.start()
        elapsed = self.clock() - (self.started or 0.0)
        if elapsed > self.deadline_seconds:
            raise DownloadError(
                f"Download of {url} did not finish within {self.deadline_seconds:g}s"
                f" ({received:,} bytes of this attempt received); [fetch] deadline_seconds"
                " sets the limit"
            )
        rate = received / elapsed if elapsed else float("inf")
        if elapsed > self.grace_seconds and rate < self.min_bytes_per_second:
            raise DownloadError(
                f"Download of {url} is too slow ({rate:,.0f} bytes/s after {elapsed:.0f}s, under"
                f" [fetch] min_bytes_per_second = {self.min_bytes_per_second:,})"
            )

    def room(self) -> float:
        """Seconds left before the deadline."""
        self.start()
        return self.deadline_seconds - (self.clock() - (self.started or 0.0))
