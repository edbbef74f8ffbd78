"""The state shared by every command of one invocation: settings and a lazily opened database.

Settings and the database modules are imported on first use, not at start-up, so that
``datawarp --help`` and ``--version`` stay fast and need nothing but typer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    import psycopg

    from datawarp.catalog.database import Database
    from datawarp.core.settings import Settings


@dataclass
class AppState:
    database_url: str | None = None
    config_file: Path | None = None
    verbose: bool = False
    _database: Database | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        from datawarp.core.settings import load_settings

        return load_settings(self.config_file, database_url=self.database_url)

    def database(self, *, auto_upgrade: bool = True) -> Database:
        if self._database is None:
            from datawarp.catalog.database import open_database

            self._database = open_database(self.settings(), auto_upgrade=auto_upgrade)
        return self._database

    @contextmanager
    def connection(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        with self.database().connect(autocommit=autocommit) as conn:
            yield conn


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj
