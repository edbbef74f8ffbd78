"""The CI stage that runs the README's Quick start as a newcomer would (.ci/quickstart.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STAGE_SCRIPT = REPO_ROOT / ".ci" / "quickstart.py"


def _stage_module():
    spec = importlib.util.spec_from_file_location("ci_quickstart", STAGE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stage = _stage_module()


def test_finds_exactly_the_two_quick_start_commands_of_the_readme():
    commands = stage.quick_start_commands((REPO_ROOT / "README.md").read_text(encoding="utf-8"))

    assert len(commands) == 2
    install_and_demo, install_and_test = commands
    assert "pip install ." in install_and_demo and "[test]" not in install_and_demo
    assert install_and_demo.endswith("datawarp demo")
    assert "pip install '.[test]'" in install_and_test and install_and_test.endswith("pytest")


def test_commands_outside_the_quick_start_section_are_not_taken():
    readme = (
        "# Tool\n\n## Quick start\n\n```bash\none\n```\n\nText.\n\n```bash\n# a comment\ntwo\n```\n"
        "\n## Other\n\n```bash\nthree\n```\n"
    )
    assert stage.quick_start_commands(readme) == ["one", "two"]


@pytest.mark.parametrize(
    "readme",
    ["# Tool\n\nNo such section.\n", "## Quick start\n\n```bash\nonly-one\n```\n"],
    ids=["no section", "one command"],
)
def test_a_readme_without_two_quick_start_commands_fails_the_stage(readme):
    with pytest.raises(stage.StageError):
        stage.quick_start_commands(readme)


@pytest.mark.parametrize(
    "output",
    [
        "Successfully installed datawarp\n",
        "DataWarp demo on embedded PostgreSQL 18\n│ ae │ 2025-08 │ failed │\n",
        "DataWarp demo on embedded PostgreSQL 18\n│ ae │ 2025-08 │ completed │\n│ rtt │ rolled_back │\n",
    ],
    ids=["demo never started", "no completed load", "one load rolled back"],
)
def test_demo_output_without_completed_loads_fails_the_stage(output):
    with pytest.raises(stage.StageError):
        stage.check_demo_output(output)


def test_demo_output_with_completed_loads_passes():
    stage.check_demo_output(
        "failed to find a cached wheel\nDataWarp demo on embedded PostgreSQL 18\n"
        "│ ae │ 2025-08 │ completed │\n│ rtt │ 2025-09 │ completed │\n"
    )


def test_the_copy_holds_uncommitted_edits_and_untracked_files_but_nothing_ignored(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    (tree / ".gitignore").write_text("ignored.txt\n")
    (tree / "tracked.txt").write_text("committed\n")
    subprocess.run(["git", "-C", str(tree), "add", "."], check=True)
    (tree / "tracked.txt").write_text("edited\n")
    (tree / "untracked.txt").write_text("new\n")
    (tree / "ignored.txt").write_text("never\n")

    stage.copy_working_tree(tree, tmp_path / "copy")

    assert (tmp_path / "copy" / "tracked.txt").read_text() == "edited\n"
    assert (tmp_path / "copy" / "untracked.txt").exists()
    assert not (tmp_path / "copy" / "ignored.txt").exists()


def test_a_cli_that_imports_a_test_only_package_fails_the_stage(tmp_path):
    """The stage really installs and runs: break the CLI the way issue reports did, see it fail."""
    broken = tmp_path / "broken"
    stage.copy_working_tree(REPO_ROOT, broken)
    subprocess.run(["git", "init", "-q", str(broken)], check=True)
    subprocess.run(["git", "-C", str(broken), "add", "-A"], check=True)
    main = broken / "src" / "datawarp" / "cli" / "main.py"
    main.write_text(main.read_text() + "\nimport pytest  # test-only: absent after pip install .\n")

    result = subprocess.run(
        [sys.executable, str(STAGE_SCRIPT), str(broken)], capture_output=True, text=True
    )

    assert result.returncode == 1
    assert "No module named 'pytest'" in result.stdout
    assert "Quick start stage FAILED: Quick start exited 1" in result.stderr
