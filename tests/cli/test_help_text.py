"""Help text speaks of DataWarp's own rules, never of documents a user does not have."""

from __future__ import annotations

import re

from datawarp.cli.main import command_tree
from tests.cli_helpers import run_cli

# The design notes DataWarp was built from are not shipped: "seed rule 4" means nothing to a user.
PRIVATE_DOCUMENTS = re.compile(r"(?i)\bseed('s)?\b|\brule \d")


def _command_paths(command, path=()):
    yield list(path)
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


def test_no_help_names_a_document_the_user_does_not_have():
    found = []
    for path in _command_paths(command_tree()):
        result = run_cli(*path, "--help")
        assert result.exit_code == 0, path
        found += [
            (path, line) for line in result.stdout.splitlines() if PRIVATE_DOCUMENTS.search(line)
        ]
    assert found == []
