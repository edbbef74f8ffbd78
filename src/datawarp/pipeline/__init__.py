"""Loading: manifest, pre-load checks, fetch, extraction, schema policy, gates, the steps of one load.

Imports ``catalog`` and ``core``; ``pipeline.extract`` imports nothing from ``catalog``.
"""
