"""Start-up of the `datawarp` command: light imports, and nothing beyond `[project] dependencies`."""

from __future__ import annotations

import json
import os
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


def _with_a_pandas_that_must_not_load(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` where ``import pandas`` finds a package that fails loudly when loaded."""
    fake = tmp_path / "pandas"
    fake.mkdir(exist_ok=True)
    (fake / "__init__.py").write_text("raise SystemExit('pandas was imported')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}:{REPO_ROOT / 'src'}"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )


def test_the_command_keeps_pandas_out_while_pyarrow_makes_arrays(tmp_path):
    arrays = (
        "import pyarrow as pa; from datawarp.pipeline.extract import arrow_values;"
        " print(pa.array(['x', None]).to_pylist(), pa.scalar(1).as_py())"
    )
    blocked = _with_a_pandas_that_must_not_load(
        tmp_path, f"from datawarp.cli.main import without_pandas; without_pandas(); {arrays}"
    )
    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout.strip() == "['x', None] 1"
    # Without it pyarrow imports the pandas it finds: what the command is spared.
    unblocked = _with_a_pandas_that_must_not_load(tmp_path, arrays)
    assert "pandas was imported" in unblocked.stderr


def test_pandas_already_imported_is_left_alone(tmp_path):
    code = (
        "import sys, types; sys.modules['pandas'] = types.ModuleType('pandas');"
        " from datawarp.cli.main import without_pandas; without_pandas();"
        " import pandas; print([getattr(f, '__name__', '') for f in sys.meta_path])"
    )
    result = _with_a_pandas_that_must_not_load(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert "_PandasAbsent" not in result.stdout
