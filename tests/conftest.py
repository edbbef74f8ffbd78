"""Shared fixtures: the genuine NHS samples folder and the Hypothesis profile.

Database fixtures live in ``tests/db_fixtures.py`` and are loaded as a plugin below.
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["tests.db_fixtures"]

# Deadlines make property tests flaky on a loaded 2-core CI machine; correctness is what we test.
settings.register_profile("datawarp", deadline=None, max_examples=200)
settings.load_profile("datawarp")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = Path(
    os.environ.get("DATAWARP_SAMPLES_DIR", REPO_ROOT.parent / "shared" / "nhs-samples")
)


@pytest.fixture(scope="session")
def nhs_samples() -> Path:
    """The folder of genuine NHS files, read in place (never copied into the repository).

    Outside CI a fresh clone may lack it, so tests skip with the reason shown; under CI=true a
    missing folder is a failure, never a silent skip.
    """
    if SAMPLES_DIR.is_dir():
        return SAMPLES_DIR
    message = f"genuine NHS samples folder not found at {SAMPLES_DIR}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (required under CI=true)")
    pytest.skip(message + " (set DATAWARP_SAMPLES_DIR or clone ../shared beside the repo)")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A DataWarp data folder (download cache, demo files) private to one test."""
    return tmp_path / "home"
