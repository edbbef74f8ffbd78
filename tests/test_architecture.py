"""The code's shape, checked like behaviour: stage dependencies, SQL only in the catalog, sizes.

The layer rules live in pyproject.toml ([tool.importlinter]) and are run by `lint-imports` in
.ci/run; here the same contracts are run on the real tree and on a copy with a deliberate
violation, so a contract that could never fail would be noticed.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "src" / "datawarp"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# A statement, not a word: "SELECT x", "INSERT INTO", "COPY t" (enum values like "UPDATE" pass).
SQL_STATEMENT = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|COPY|WITH|SET|LOCK|COMMENT|TRUNCATE)"
    r"\s+\S"
)


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess:
    """Run import-linter with the project's contracts against the package under source_root."""
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
         "lint_imports_command()", "--config", str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source_root.parent,
        env={"PYTHONPATH": str(source_root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )  # fmt: skip


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_keeps_its_import_contracts():
    result = _lint_imports(REPO_ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("catalog/introspect.py", "import datawarp.pipeline.steps", "Stages depend one way"),
        ("pipeline/extract/names.py", "import datawarp.catalog.registry", "Extraction reads"),
        ("pipeline/preflight.py", "import psycopg", "Only the catalog talks SQL"),
        ("core/naming.py", "import datawarp.catalog.loads", "Stages depend one way"),
    ],
)
def test_a_deliberate_violation_breaks_the_contracts(tmp_path, module, line, contract):
    copy = tmp_path / "src" / "datawarp"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}  # deliberate violation\n")

    result = _lint_imports(tmp_path / "src")

    assert result.returncode == 1
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout


def test_only_the_catalog_writes_sql():
    found = []
    for path in _modules():
        if "catalog" in path.relative_to(PACKAGE).parts:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        found += [
            f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value[:40]!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and SQL_STATEMENT.match(node.value)
        ]
    assert found == []


def test_modules_and_functions_stay_short():
    too_long = []
    for path in _modules():
        text = path.read_text()
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{path.relative_to(PACKAGE)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(PACKAGE)}:{node.name}: {length} lines")
    assert too_long == []
