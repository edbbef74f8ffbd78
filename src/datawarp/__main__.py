"""`python -m datawarp` runs the CLI (useful where the console script is not on PATH)."""

from datawarp.cli.main import run

run()
