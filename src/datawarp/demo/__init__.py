"""The demo and its NHS-style file generators; only the CLI (and tests, bench) import it."""
