"""Start-up of the `datawarp` command: light imports, and nothing beyond `[project] dependencies`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from datawarp.cli.main import command_tree

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
    paths = _command_paths(command_tree())
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


def _with_packages_that_must_not_load(
    tmp_path: Path, code: str, *names: str, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """Run ``code`` where importing each of ``names`` finds a package that fails loudly."""
    for name in names:
        fake = tmp_path / "fakes" / name
        fake.mkdir(parents=True, exist_ok=True)
        (fake / "__init__.py").write_text(f"raise SystemExit('{name} was imported')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'fakes'}:{REPO_ROOT / 'src'}"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=tmp_path
    )


def test_the_command_keeps_pandas_out_while_pyarrow_makes_arrays(tmp_path):
    arrays = (
        "import pyarrow as pa; from datawarp.pipeline.extract import arrow_values;"
        " print(pa.array(['x', None]).to_pylist(), pa.scalar(1).as_py())"
    )
    blocked = _with_packages_that_must_not_load(
        tmp_path,
        f"from datawarp.cli import unused_imports; unused_imports.command_process(); {arrays}",
        "pandas",
    )
    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout.strip() == "['x', None] 1"
    # Without it pyarrow imports the pandas it finds: what the command is spared.
    unblocked = _with_packages_that_must_not_load(tmp_path, arrays, "pandas")
    assert "pandas was imported" in unblocked.stderr


@pytest.mark.parametrize("users_own", [None, "", "logfire"])
def test_the_command_skips_pydantic_plugins_unless_its_user_says_otherwise(tmp_path, users_own):
    code = (  # pydantic reads the packages' entry points through importlib.metadata
        "import os, importlib.metadata as m; reads = [];"
        " every = m.distributions; m.distributions = lambda: reads.append(1) or every();"
        " from datawarp.cli import unused_imports; unused_imports.command_process();"
        " import datawarp.core.settings;"
        " print(repr(os.environ.get('PYDANTIC_DISABLE_PLUGINS')), not reads)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if users_own is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = users_own
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    setting, never_looked = run.stdout.split()
    assert setting == repr("__all__" if users_own is None else users_own)
    assert never_looked == str(users_own is None)  # the packages' entry points never read


def test_packages_already_imported_are_left_alone(tmp_path):
    code = (
        "import sys, types; sys.modules['pandas'] = types.ModuleType('pandas');"
        " from datawarp.cli import unused_imports; unused_imports.command_process();"
        " import pandas; print([type(f).__name__ for f in sys.meta_path])"
    )
    result = _with_packages_that_must_not_load(tmp_path, code, "pandas")
    assert result.returncode == 0, result.stderr
    assert "_Absent" not in result.stdout


def test_numpy_stays_installed_for_library_users_and_in_process_commands(tmp_path):
    code = (
        "from datawarp.cli import unused_imports; unused_imports.without_numpy();"
        " import pyarrow; print('imported')"
    )
    result = _with_packages_that_must_not_load(tmp_path, code, "numpy")
    assert "numpy was imported" in result.stderr  # not the command's process: left as it is


def test_load_batch_loads_a_csv_and_a_workbook_without_numpy(tmp_path, db_url, conn):
    """pyarrow imports numpy as it is imported; a load never needs it, so the command keeps
    it out. Both Arrow passes run: the CSV's, and (its threshold lowered) the workbook's."""
    from datawarp.demo.samplegen import write_large_csv, write_large_xlsx

    csv_path = write_large_csv(tmp_path / "rows.csv", 3000)
    xlsx_path = write_large_xlsx(tmp_path / "rows.xlsx", 3000)
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        f"sources:\n  - source_code: no_numpy_csv\n    path: {csv_path}\n    period: 2025-09\n"
        f"  - source_code: no_numpy_xlsx\n    path: {xlsx_path}\n    period: 2025-09\n"
    )
    code = (
        "import sys; from datawarp.pipeline.extract import engine;"
        " engine.ARROW_PASS_CELLS = 1; from datawarp.cli.main import run;"
        " sys.argv[0] = 'datawarp'; run()"
    )
    args = ("--database-url", db_url, "load-batch", str(manifest), "--test", "--json")
    result = _with_packages_that_must_not_load(tmp_path, code, "numpy", "pandas", args=args)

    assert result.returncode == 0, result.stderr
    loaded = {
        conn.execute(
            f"SELECT count(*), sum(total_attendances) FROM staging_test.{table}"  # noqa: S608
        ).fetchone()
        for table in ("tbl_no_numpy_csv", "tbl_no_numpy_xlsx")
    }
    assert len(loaded) == 1 and loaded.pop()[0] == 3000  # the same rows from both files


def test_load_batch_printing_plain_lines_never_imports_the_renderer_or_mail(tmp_path, db_url):
    """Cron's way (output not a terminal, no --json): every line is plain text, so rich, a
    fiftieth of a second of every start, stays out (a terminal's progress bars still use it);
    an outbox with nothing to send imports no mail module; a CSV's load no workbook reader."""
    from datawarp.demo.samplegen import write_large_csv

    csv_path = write_large_csv(tmp_path / "rows.csv", 500)
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        f"sources:\n  - source_code: plain_lines\n    path: {csv_path}\n    period: 2025-09\n"
    )
    code = "import sys; from datawarp.cli.main import run; sys.argv[0] = 'datawarp'; run()"
    args = ("--database-url", db_url, "load-batch", str(manifest), "--test")
    result = _with_packages_that_must_not_load(
        tmp_path, code, "rich", "smtplib", "python_calamine", args=args
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("COMPLETED plain_lines [2025-09]: ")
    assert lines[-2:] == [
        "alerts: 0 new, 0 repeated, 0 resolved; 0 notification(s) written",
        "1 file(s): 1 completed; 500 rows loaded",
    ]


def test_the_command_sets_arrow_memory_up_before_pyarrow_loads_unless_told_otherwise(tmp_path):
    """mimalloc (pyarrow's allocator) reads its settings as pyarrow loads: the command sets them
    (freed memory kept for a second, arenas committed as used) before any command runs, and a
    value in the user's environment wins."""
    names = ("MIMALLOC_PURGE_DELAY", "MIMALLOC_ARENA_EAGER_COMMIT")
    code = (
        "import os, sys; from datawarp.cli.main import run; sys.argv = ['datawarp', '--version']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"print(*(os.environ.get(name) for name in {names!r}), 'pyarrow' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in names}
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    theirs = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, "MIMALLOC_PURGE_DELAY": "10", "MIMALLOC_ARENA_EAGER_COMMIT": "1"},
    )
    assert ours.stdout.split()[-3:] == ["1000", "0", "False"], ours.stderr  # before pyarrow
    assert theirs.stdout.split()[-3:] == ["10", "1", "False"], theirs.stderr


ENDING = """
import atexit, sys
from datawarp.cli.main import run

class Loud:
    def __del__(self):
        sys.stderr.write("torn down\\n")

loud = Loud()  # a module's global: freed only by Python's teardown
sys.argv = ["datawarp", *sys.argv[2:]]
try:
    {call}
finally:
    atexit.register(open, {marker!r}, "w")  # registered after run()'s handler: runs before it
    print("x" * 100_000, end="")  # still in the buffer at exit
"""


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--version"], 0), (["no-such-command"], 2), (["load-batch", "missing.yaml"], 2)],
)
def test_the_command_ends_with_its_code_after_every_exit_handler_and_skips_teardown(
    tmp_path, args, code
):
    marker = tmp_path / "handler-ran"
    script = ENDING.format(call="run()", marker=str(marker))
    result = subprocess.run(
        [sys.executable, "-c", script, "datawarp", *args],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "DATAWARP_HOME": str(tmp_path / "home")},
    )  # fmt: skip

    assert result.returncode == code, result.stderr
    assert result.stdout.endswith("x" * 100_000)  # flushed before the process ended
    assert marker.exists()  # a later exit handler still ran
    assert "torn down" not in result.stderr  # the interpreter's teardown did not
    # Without the command's ending, the same script tears Python down as usual.
    plain = ENDING.format(call="raise SystemExit(0)", marker=str(marker))
    usual = subprocess.run([sys.executable, "-c", plain, "x"], capture_output=True, text=True)
    assert usual.returncode == 0 and "torn down" in usual.stderr


@pytest.mark.parametrize("traced", [False, True])
def test_a_traced_command_is_left_to_pythons_own_exit(tmp_path, traced):
    """coverage.py measuring a subprocess registers its exit handler (which saves the data)
    before the command starts: the command's early end would skip it, so a process being
    traced, profiled or measured ends as Python ends it."""
    marker = tmp_path / "registered-before"
    script = (
        "import atexit, sys\n"
        f"atexit.register(open, {str(marker)!r}, 'w')\n"
        + ("sys.settrace(lambda *args: None)\n" if traced else "")
        + "from datawarp.cli.main import run\n"
        "sys.argv = ['datawarp', '--version']\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("datawarp ")
    assert marker.exists() == traced  # untraced: ended before that handler's turn


def test_the_collector_is_paused_for_the_start_then_frozen_and_resumed():
    """In a process of its own: freezing reaches every object of the process."""
    code = (
        "import gc; from datawarp.cli import collector\n"
        "from datawarp.pipeline.extract.pass_chunks import FREEZING; kept = FREEZING.kept_cells\n"
        "collector.pause_for_start(); paused = gc.isenabled()\n"
        "collector.resume(); frozen = gc.get_freeze_count()\n"
        "collector.resume(); again = gc.get_freeze_count()\n"
        "gc.disable(); collector.pause_for_start(); collector.resume()\n"  # someone else's pause
        "print(paused, frozen > 0, again == frozen, gc.isenabled(), kept, FREEZING.kept_cells)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "True", "True", "False", "False", "True"], (
        result.stderr
    )


def test_load_batch_works_with_the_collector_on_and_its_start_frozen(tmp_path, db_url):
    """Paused through the command's start (the manifest is read while it is), resumed for the
    batch itself; another command resumes it as it is invoked."""
    manifest = tmp_path / "manifest.yaml"
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("Org Code,Attendances\nRR8,12\nRAE,7\n")
    manifest.write_text(
        f"sources:\n  - source_code: collector_check\n    path: {csv_path}\n    period: 2025-09\n"
    )
    code = (
        "import gc, sys\n"
        "from datawarp.pipeline import batch, manifest\n"
        "def noting(module, name):\n"
        "    real = getattr(module, name)\n"
        "    def call(*args, **kwargs):\n"
        "        with open('seen.txt', 'a') as seen:\n"
        "            print(name, gc.isenabled(), gc.get_freeze_count() > 0, file=seen)\n"
        "        return real(*args, **kwargs)\n"
        "    setattr(module, name, call)\n"
        "from datawarp.pipeline import inspect\n"
        "noting(manifest, 'load_manifest'); noting(batch, 'run_batch')\n"
        "noting(inspect, 'inspect')\n"
        "from datawarp.cli.main import run; sys.argv[0] = 'datawarp'; run()\n"
    )
    args = ("--database-url", db_url, "load-batch", str(manifest), "--test", "--json")
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "DATAWARP_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    inspected = subprocess.run(
        [sys.executable, "-c", code, "inspect", str(csv_path), "--json"], capture_output=True,
        text=True, cwd=tmp_path, env={**os.environ, "DATAWARP_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert inspected.returncode == 0, inspected.stderr
    seen = (tmp_path / "seen.txt").read_text().splitlines()
    assert seen == ["load_manifest False False", "run_batch True True", "inspect True True"]


def test_each_command_module_is_mapped_to_exactly_the_commands_it_installs():
    from datawarp.cli import main

    modules = {path.stem for path in (REPO_ROOT / "src/datawarp/cli").glob("*_cmd.py")}
    assert set(main.COMMAND_MODULES.values()) == modules
    for module in modules:
        mapped = {name for name, owner in main.COMMAND_MODULES.items() if owner == module}
        assert set(main._module_commands(module)) == mapped, module


def test_a_command_loads_its_own_module_only():
    code = (
        "import sys\nfrom datawarp.cli.main import app\n"
        "try:\n    app(['load-batch', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.endswith('_cmd')), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-1] == "['datawarp.cli.load_cmd']"
