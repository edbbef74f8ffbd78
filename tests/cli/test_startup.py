"""Start-up of the `datawarp` command: light imports, and nothing beyond `[project] dependencies`."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import typer

from datawarp.cli.main import app

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY_MODULES = [
    "pyarrow",
    "openpyxl",
    "psycopg",
    "datawarp.pipeline.extract.engine",
    "datawarp.pipeline.batch",
]


def _requirement_name(requirement: str) -> str:
    for separator in "<>=!~[; ":
        requirement = requirement.split(separator, 1)[0]
    return requirement.lower().replace("-", "_")


def _extra_only_packages() -> list[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_requirement_name(r) for r in project["dependencies"]}
    extras = {
        _requirement_name(r) for group in project["optional-dependencies"].values() for r in group
    }
    return sorted(extras - runtime)


def _command_paths(command, prefix=()) -> list[list[str]]:
    paths = [list(prefix)]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, (*prefix, name))
    return paths


def test_importing_the_cli_loads_no_heavy_module():
    code = "import sys, json, datawarp.cli.main; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))

    assert "datawarp.cli.main" in loaded
    assert [name for name in HEAVY_MODULES if name in loaded] == []


def test_every_command_helps_without_any_extra_installed():
    """What a plain `pip install .` gives: test and bench extras are unimportable."""
    blocked = _extra_only_packages()
    assert {"pytest", "hypothesis"} <= set(blocked)
    paths = _command_paths(typer.main.get_command(app))
    assert ["load-batch"] in paths and ["sources", "list"] in paths
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from datawarp.cli.main import app\n"
        f"for path in {paths!r}:\n"
        "    try:\n"
        "        app([*path, '--help'])\n"
        "    except SystemExit as exit:\n"
        "        assert not exit.code, (path, exit.code)\n"
        "print('all helped')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("all helped")


def test_version_prints_without_touching_a_database(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "datawarp", "--version"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATAWARP_HOME": str(tmp_path)},
    )
    assert result.returncode == 0
    assert result.stdout.startswith("datawarp ")
    assert list(tmp_path.iterdir()) == []
