"""A small pool of read-only connections for a long-running reader: the web dashboard.

A page must never hang on the database. Waiting for a connection is bounded (``timeout``),
so is connecting (``connect_timeout``), and every connection carries a ``statement_timeout``
so a slow query is cancelled by the server; each of these ends as a one-line
``DatabaseError``. Connections are read-only at the server (``default_transaction_read_only``):
the dashboard cannot write to the catalog even by mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from datawarp.catalog.connect import mask_password
from datawarp.catalog.database import Database
from datawarp.core.errors import DatabaseError

APPLICATION_NAME = "datawarp-web"


@dataclass(frozen=True)
class PoolLimits:
    """How long a reader may wait, in seconds; small, because a person is waiting."""

    timeout: float = 3.0
    connect_timeout: int = 2  # libpq rounds anything below 2 seconds up to 2
    statement_timeout: float = 5.0
    max_size: int = 4
    # Give up a failing reconnection soon, so the next request tries afresh once the
    # server is back instead of waiting out a long backoff.
    reconnect_timeout: float = 10.0


def _reason(exc: BaseException) -> str:
    """libpq's first line, from its last "failed:" on: "Connection refused", not the hints."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[0].rsplit(" failed: ", 1)[-1].removeprefix("connection failed: ")


def _recording_class(failures: list[str]) -> type[psycopg.Connection]:
    """A connection class that remembers why the last attempt to connect failed.

    The pool connects in background threads and reports only a timeout to the caller; the
    reason (refused, unknown host, bad password) is what the person needs to read.
    """

    class RecordingConnection(psycopg.Connection):
        @classmethod
        def connect(cls, *args: Any, **kwargs: Any) -> RecordingConnection:
            try:
                conn = super().connect(*args, **kwargs)
            except psycopg.Error as exc:
                failures[:] = [_reason(exc)]
                raise
            failures.clear()
            return conn

    return RecordingConnection


class ReadPool:
    """Read-only connections to one database, opened lazily and bounded in time."""

    def __init__(self, database: Database | str, limits: PoolLimits | None = None):
        self.url = database.url if isinstance(database, Database) else database
        self.limits = limits or PoolLimits()
        self._failures: list[str] = []
        self._pool = ConnectionPool(
            self.url,
            connection_class=_recording_class(self._failures),
            kwargs=self._connection_options(),
            min_size=0,
            max_size=self.limits.max_size,
            open=False,
            check=ConnectionPool.check_connection,
            timeout=self.limits.timeout,
            reconnect_timeout=self.limits.reconnect_timeout,
            name="datawarp-read",
        )

    def _connection_options(self) -> dict[str, Any]:
        statement_ms = int(self.limits.statement_timeout * 1000)
        return {
            "autocommit": True,
            "application_name": APPLICATION_NAME,
            "connect_timeout": self.limits.connect_timeout,
            "options": f"-c statement_timeout={statement_ms} -c default_transaction_read_only=on",
        }

    def describe_url(self) -> str:
        return mask_password(self.url)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection for one request; any database trouble becomes a ``DatabaseError``."""
        self._pool.open(wait=False)  # safe to repeat; the first request opens the pool
        try:
            with self._pool.connection(timeout=self.limits.timeout) as conn:
                yield conn
        except PoolTimeout:
            raise DatabaseError(self._unavailable()) from None
        except psycopg.errors.QueryCanceled:
            raise DatabaseError(
                f"The database took longer than {self.limits.statement_timeout:g} s to answer"
                " and the query was cancelled"
            ) from None
        except psycopg.OperationalError as exc:
            raise DatabaseError(
                f"Lost the connection to {self.describe_url()}: {_reason(exc)}"
            ) from None

    def _unavailable(self) -> str:
        if self._failures:
            return f"Cannot connect to {self.describe_url()}: {self._failures[0]}"
        return (
            f"The database at {self.describe_url()} did not answer within {self.limits.timeout:g} s"
        )

    def close(self) -> None:
        self._pool.close(timeout=self.limits.timeout)


def open_pool(database: Database | str, limits: PoolLimits | None = None) -> ReadPool:
    """A pool for ``database`` (or a URL); nothing connects until the first request."""
    return ReadPool(database, limits)
