#!/usr/bin/env python3
"""CI stage 1: do what a newcomer does with the README's Quick start, before any test runs.

    python3 .ci/quickstart.py [TREE]         run the first Quick start command in a fresh venv
    python3 .ci/quickstart.py --command N    print the README's N-th Quick start command (1 or 2)

The commands are read from README.md (never copied here, so the two cannot drift) and run
verbatim with ``bash -c`` in a fresh copy of TREE's working tree (tracked and untracked files,
nothing git ignores), inside a new virtual environment, with a fresh HOME and data folder and
no DataWarp setting in the environment. The stage fails unless the command exits 0, its output
shows the demo's loads completed (and none failed), and ``pip check`` passes. The embedded
server the demo started is stopped afterwards, whatever happened. Standard library only: this
runs before anything is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

QUICK_START_HEADING = re.compile(r"^##\s+quick start\s*$", re.IGNORECASE | re.MULTILINE)
FENCED_BLOCK = re.compile(r"^```(?:bash|sh|console)?\s*\n(.*?)^```", re.DOTALL | re.MULTILINE)
EXPECTED_COMMANDS = 2
# A demo load that did not complete shows one of these statuses in the demo's table.
FAILED_STATUSES = ("failed", "rolled_back")
DEMO_BANNER = "DataWarp demo on"


class StageError(Exception):
    """The Quick start does not work as written; the message says which step and why."""


def quick_start_commands(readme_text: str) -> list[str]:
    """The shell commands in the fenced blocks of the README's "Quick start" section."""
    heading = QUICK_START_HEADING.search(readme_text)
    if heading is None:
        raise StageError("README.md has no '## Quick start' section")
    rest = readme_text[heading.end() :]
    next_heading = re.search(r"^##\s", rest, re.MULTILINE)
    section = rest[: next_heading.start()] if next_heading else rest
    commands = [
        line.strip()
        for block in FENCED_BLOCK.findall(section)
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if len(commands) != EXPECTED_COMMANDS:
        raise StageError(
            f"README.md's Quick start holds {len(commands)} command(s), expected"
            f" {EXPECTED_COMMANDS} (run the demo; run the tests): {commands}"
        )
    return commands


def copy_working_tree(tree: Path, destination: Path) -> None:
    """Copy what a fresh clone of ``tree`` would hold, with its uncommitted edits."""
    listed = subprocess.run(
        ["git", "-C", str(tree), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = tree / os.fsdecode(name)
        if source.is_file():  # a tracked file deleted in the work tree is not in the copy
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def newcomer_environment(work: Path, venv: Path) -> dict[str, str]:
    """The environment of someone who has never used DataWarp: fresh HOME, no settings."""
    pip_cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATAWARP_", "XDG_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(work / "home"),
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PIP_CACHE_DIR=pip_cache,  # reusing downloads keeps CI fast; it installs nothing itself
    )
    Path(env["HOME"]).mkdir()
    return env


def run_step(title: str, command: str, cwd: Path, env: dict[str, str]) -> str:
    print(f"--- {title}: {command}", flush=True)
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        last = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
        raise StageError(f"{title} exited {result.returncode}: {last}")
    return result.stdout


def check_demo_output(output: str) -> None:
    demo_part = output.partition(DEMO_BANNER)[2]  # what pip printed before it does not count
    if not demo_part:
        raise StageError(f"the demo did not start (no '{DEMO_BANNER}' line)")
    if "completed" not in demo_part:
        raise StageError("the demo's output shows no completed load")
    failed = [status for status in FAILED_STATUSES if re.search(rf"\b{status}\b", demo_part)]
    if failed:
        raise StageError(f"the demo's output shows loads that did not complete: {failed}")


def run_stage(tree: Path) -> None:
    first_command = quick_start_commands((tree / "README.md").read_text(encoding="utf-8"))[0]
    work = Path(tempfile.mkdtemp(prefix="datawarp-quickstart-"))
    clone, venv = work / "clone", work / "venv"
    env: dict[str, str] | None = None
    try:
        copy_working_tree(tree, clone)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = newcomer_environment(work, venv)
        check_demo_output(run_step("Quick start", first_command, clone, env))
        run_step("pip check", "python3 -m pip check", clone, env)
    finally:
        if env is not None:  # stop the embedded server whether or not the demo worked
            subprocess.run(
                ["bash", "-c", "python3 -m datawarp db stop"],
                cwd=clone,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent.parent
    try:
        if argv[:1] == ["--command"]:
            number = int(argv[1])
            print(
                quick_start_commands((here / "README.md").read_text(encoding="utf-8"))[number - 1]
            )
            return 0
        tree = Path(argv[0]).resolve() if argv else here
        run_stage(tree)
    except StageError as exc:
        print(f"Quick start stage FAILED: {exc}", file=sys.stderr)
        return 1
    print("Quick start stage passed: the demo loaded on a fresh machine; pip check is clean.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
