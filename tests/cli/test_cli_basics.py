"""The CLI as a user meets it: --version, --help with examples, db info, the embedded default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from datawarp import __version__
from datawarp.cli.main import command_tree
from tests.cli_helpers import run_cli
from tests.db_fixtures import embedded_parent_dir


def _leaf_commands(command, prefix=()) -> list[tuple[str, ...]]:
    found = []
    for name, sub in command.commands.items():
        if hasattr(sub, "commands"):
            found += _leaf_commands(sub, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_version():
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"datawarp {__version__}"


LEAF_COMMANDS = _leaf_commands(command_tree())


def test_expected_commands_exist():
    assert {("register",), ("update",), ("sources", "list"), ("sources", "show"), ("db", "info"),
            ("db", "status"), ("db", "upgrade"), ("audit", "log"), ("audit", "verify"),
            ("demo",)} <= set(LEAF_COMMANDS)  # fmt: skip


@pytest.mark.parametrize("command", LEAF_COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Example: datawarp " + command[0] in result.stdout


def test_db_info_never_prints_the_password(db_url):
    params = conninfo.conninfo_to_dict(db_url)
    params["password"] = "s3cret-pw"  # the test servers trust local users and ignore it
    url = conninfo.make_conninfo(**params)
    for args in (["db", "info"], ["db", "info", "--json"]):
        result = run_cli(*args, database_url=url)
        assert result.exit_code == 0, result.stderr
        assert "s3cret-pw" not in result.stdout + result.stderr
    info = json.loads(run_cli("db", "info", "--json", database_url=url).stdout)
    assert info["embedded"] is False
    assert info["database"] == params["dbname"]
    assert int(info["server_version"].split(".")[0]) >= 14
    assert info["catalog_version"] >= 2


def test_unreachable_server_is_one_clear_line():
    result = run_cli("sources", "list", database_url="postgresql://nobody@127.0.0.1:1/nowhere")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot connect to postgresql://nobody@127.0.0.1:1/")
    assert result.stderr.count("\n") == 1


@pytest.fixture
def fresh_home():
    """A user's data folder with nothing in it, and no database configured anywhere."""
    home = embedded_parent_dir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAWARP_")}
    env.update(DATAWARP_HOME=str(home / "datawarp"), COLUMNS="200")
    yield home, env
    subprocess.run([sys.executable, "-m", "datawarp", "db", "stop"], env=env, check=False)


def _datawarp(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "datawarp", *args], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_register_with_no_database_configured_uses_the_embedded_server(fresh_home):
    home, env = fresh_home
    registered = _datawarp(
        env, "register", "adhd_mi", "--publication", "ADHD Management Information",
        "--domain", "Clinical - Mental Health", "--owner", "someone@nhs.net",
        "--purpose", "Track ADHD referral waiting times",
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    pgdata = Path(home / "datawarp" / "pgdata")
    assert (pgdata / "PG_VERSION").is_file()

    # a second command reuses the running server and sees the row
    info = json.loads(_datawarp(env, "db", "info", "--json").stdout)
    assert info["embedded"] is True and info["data_dir"] == str(pgdata)
    with psycopg.connect(info["url"]) as conn:  # configured for loading (connect.py)
        assert conn.execute("SHOW wal_level").fetchone() == ("minimal",)
    shown = json.loads(_datawarp(env, "sources", "show", "adhd_mi", "--json").stdout)
    assert shown["status"] == "registered" and shown["owner"] == "someone@nhs.net"

    stopped = _datawarp(env, "db", "stop")
    assert "stopped" in stopped.stdout
    assert not (pgdata / "postmaster.pid").exists()
    # and the next command starts it again, data intact
    again = json.loads(_datawarp(env, "sources", "list", "--json").stdout)
    assert [s["source_code"] for s in again] == ["adhd_mi"]


def test_demo_registers_generates_loads_and_is_rerunnable(db_url, tmp_path):
    env = {"DATAWARP_HOME": str(tmp_path / "home")}
    first = run_cli("demo", "--json", database_url=db_url, env=env)
    assert first.exit_code == 0, first.stderr
    result = json.loads(first.stdout)["result"]
    assert sorted(result["registered"]) == [
        "ae_attendances",
        "ae_attendances_csv",
        "rtt_waiting_times",
    ]
    outcomes = result["report"]["outcomes"]
    assert [o["status"] for o in outcomes] == ["completed"] * 4
    tables = {t["source_code"]: t for t in result["tables"]}
    assert tables["ae_attendances"]["periods"] == ["2025-08", "2025-09"]
    assert tables["ae_attendances"]["rows"] == 2 * outcomes[0]["rows_loaded"] > 0
    assert tables["rtt_waiting_times"]["rows"] == outcomes[3]["rows_loaded"] > 0
    listed = json.loads(run_cli("sources", "list", "--json", database_url=db_url).stdout)
    assert {s["source_code"]: s["status"] for s in listed} == {
        "ae_attendances": "active", "ae_attendances_csv": "active", "rtt_waiting_times": "active",
    }  # fmt: skip

    second = run_cli("demo", "--json", database_url=db_url, env=env)
    assert second.exit_code == 0
    again = json.loads(second.stdout)["result"]
    assert again["registered"] == [] and len(again["already_registered"]) == 3
    assert [o["status"] for o in again["report"]["outcomes"]] == ["skipped"] * 4
    assert json.loads(json.dumps(again["tables"])) == result["tables"]
