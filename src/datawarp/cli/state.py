"""The state shared by every command of one invocation: settings and a lazily opened database.

Settings and the database modules are imported on first use, not at start-up, so that
``datawarp --help`` and ``--version`` stay fast and need nothing but typer.

Commands that only read use ``reading()``: the catalog must be current, and nothing is
written. Commands that write use ``writing()``: the one explicit "make ready" step
(migrations, reaping interrupted loads) runs first, once per invocation.
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

    from datawarp.catalog.database import Database, Readiness
    from datawarp.core.settings import Settings


@dataclass
class AppState:
    database_url: str | None = None
    config_file: Path | None = None
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)
    _readiness: Readiness | None = field(default=None, repr=False)
    _role_checked: bool = field(default=False, repr=False)
    command_args: list[str] = field(default_factory=list, repr=False)  # to check the role

    def settings(self) -> Settings:
        if self._settings is None:
            from datawarp.core.settings import load_settings

            self._settings = load_settings(self.config_file, database_url=self.database_url)
        return self._settings

    def database(self) -> Database:
        """The server, resolved (the embedded one started if needed); nothing written."""
        if self._database is None:
            from datawarp.catalog.database import open_database

            self._database = open_database(self.settings())
        return self._database

    def ready_database(self) -> Database:
        """The database after the make-ready step, for commands that write."""
        if self._readiness is None:
            from datawarp.catalog.database import make_ready

            self._readiness = make_ready(self.database())
        return self.database()

    @property
    def interrupted_loads(self) -> list[int]:
        return self._readiness.interrupted_loads if self._readiness else []

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection]:
        """A connection for a command that only reads; refuses an outdated catalog."""
        from datawarp.catalog.database import require_current

        with self.database().connect(autocommit=True) as conn:
            require_current(conn)
            self.require_role(conn)
            yield conn

    @contextmanager
    def writing(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        with self.ready_database().connect(autocommit=autocommit) as conn:
            self.require_role(conn)
            yield conn

    def require_role(self, conn: psycopg.Connection) -> None:
        """Once per invocation: the command is one the login's DataWarp roles allow."""
        if self._role_checked:
            return
        from datawarp.catalog.access import configured_groups, session_login
        from datawarp.catalog.access_checks import held_roles
        from datawarp.core.errors import PermissionDenied
        from datawarp.ops.access import allows, command_words, denial_message

        words = command_words(self.command_args)
        if not allows(words, held_roles(conn)):  # the refusal's details only when refused
            raise PermissionDenied(
                denial_message(words, session_login(conn), configured_groups(conn))
            )
        if not conn.autocommit:
            conn.rollback()  # the check's reads leave no transaction open for the command
        self._role_checked = True


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    if not root.obj.command_args:
        root.obj.command_args = list(ctx.meta.get("datawarp.args", []))
    return root.obj
