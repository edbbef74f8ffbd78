"""The oldest dependency versions CI runs the suite on are the ones pyproject.toml declares.

`.ci/run` installs `.ci/oldest-versions.txt` and runs every test on it; a lower bound raised
or lowered in pyproject.toml without the pin (or the other way round) would make that stage
test something other than what users may install.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parent.parent
OLDEST = REPO_ROOT / ".ci" / "oldest-versions.txt"
NOT_RUN_BY_THE_SUITE = {"ruff"}  # CI's lint stage runs it, at the test extra's version


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["test"]
    requirements = (Requirement(line) for line in lines)
    return {
        canonicalize_name(r.name): r for r in requirements if r.name not in NOT_RUN_BY_THE_SUITE
    }


def _pinned() -> dict[str, Version]:
    pins = {}
    for line in OLDEST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pin = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
            assert pin is not None, f"not NAME==VERSION: {line!r}"
            pins[canonicalize_name(pin[1])] = Version(pin[2])
    return pins


def _lower_bound(requirement: Requirement) -> Version | None:
    bounds = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return max(bounds) if bounds else None


def test_every_dependency_has_a_lower_bound_pinned_for_ci():
    declared, pinned = _declared(), _pinned()
    assert sorted(declared) == sorted(pinned)
    for name, requirement in declared.items():
        assert _lower_bound(requirement) == pinned[name], name


def test_each_pin_is_a_version_its_own_requirement_allows():
    declared, pinned = _declared(), _pinned()
    for name, version in pinned.items():
        assert declared[name].specifier.contains(version, prereleases=False), name


def test_the_bounds_that_loads_depend_on_have_a_ceiling():
    """A new major version of these may change what a load reads or writes."""
    declared = _declared()
    for name in ("psycopg", "python-calamine", "pyarrow", "pydantic", "pgpq"):
        assert any(s.operator == "<" for s in declared[name].specifier), name
