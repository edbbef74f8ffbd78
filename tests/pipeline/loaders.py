"""Loader processes for tests that kill or race them: start one, wait on the server's view."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

DEADLINE_SECONDS = 120


def start_loader(db_url: str, manifest, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "DATAWARP_HOME": str(manifest.parent / "home"), "COLUMNS": "200"}
    command = [sys.executable, "-m", "datawarp", "--database-url", db_url, "load-batch",
               str(manifest), *extra]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition, what: str, processes=()) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        for process in processes:
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"loader exited early while waiting for {what}: {err.decode()}")


def count(conn, query: str, *params) -> int:
    return conn.execute(query, params).fetchone()[0]
