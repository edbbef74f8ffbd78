"""Validation gates (seed "Stage 3"): checks run on every load, inside its transaction."""
