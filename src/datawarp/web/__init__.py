"""The read-only web dashboard, ``datawarp serve``: pages, a JSON API and Prometheus metrics.

Only the CLI imports this package (the import-linter contract in pyproject.toml): the library
never depends on a web framework.
"""
