"""Driving the `datawarp` CLI in-process, the way a user would type it."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from datawarp.cli.main import app


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, database_url: str | None = None, env: dict | None = None) -> CliResult:
    runner = CliRunner()
    argv = (["--database-url", database_url] if database_url else []) + list(args)
    result = runner.invoke(app, argv, catch_exceptions=False, env={"COLUMNS": "200", **(env or {})})
    return CliResult(result.exit_code, result.stdout, result.stderr)
