"""The CSV fast path's rules for text columns against Python's own, value by value.

``edge_whitespace`` reads each value's first and last byte from the Arrow buffers (and looks
again at values with a non-ASCII character at an end); ``ArrowColumnStats`` counts a text
column's blanks and markers on its distinct values, each weighed by how often it occurs.
Both must say exactly what ``str.isspace`` and the Python path's ``ColumnStats`` say, on
sliced arrays too (a batch's column may start part way into its buffers).
"""

from __future__ import annotations

import os

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from datawarp.pipeline.extract.arrow_stats import ArrowColumnStats
from datawarp.pipeline.extract.arrow_values import BufferFacts, edge_whitespace
from datawarp.pipeline.extract.columns import ColumnStats

EXAMPLES = int(os.environ.get("ARROW_EXAMPLES", 300))
# ASCII and other whitespace, letters on both sides of ASCII, a marker's characters.
_CHARACTERS = [" ", "\t", "\x0b", "\x1f", "\xa0", "\x85", "\u2028", "\u3000", "a", "Z", "é",
               "–", "*", "-", "x", "5"]  # fmt: skip
TEXTS = st.lists(st.sampled_from(_CHARACTERS), max_size=5).map("".join)
CELLS = st.one_of(
    TEXTS,
    st.sampled_from(["", "  ", "*", " * ", "-", "x", "N/A", "Leeds", "..", "12", " 7 ", "3.5"]),
)


def _sliced(values: list[str], start: int, stop: int) -> pa.Array:
    array = pa.array(values, pa.string())
    start = min(start, len(values) - 1)
    return array.slice(start, max(1, stop - start))


@settings(max_examples=EXAMPLES)
@given(st.lists(TEXTS, min_size=1, max_size=12), st.integers(0, 11), st.integers(0, 12))
def test_edge_whitespace_is_python_isspace_at_either_end(values, start, stop):
    column = _sliced(values, start, stop)
    found = edge_whitespace(column, BufferFacts.of(column))
    expected = [bool(text) and (text[0].isspace() or text[-1].isspace())
                for text in column.to_pylist()]  # fmt: skip
    if found is None:  # none can: no value has whitespace anywhere
        assert not any(expected)
    else:
        assert found.to_pylist() == expected


@settings(max_examples=EXAMPLES)
@given(st.lists(st.lists(CELLS, min_size=1, max_size=15), min_size=1, max_size=5))
def test_text_column_counts_match_the_python_path(batches):
    """Words first, so the column is text from the start; then batches of anything."""
    batches = [["Leeds", "York"], *batches]
    arrow, python = ArrowColumnStats(), ColumnStats(by_distinct=True)
    for cells in batches:
        column = pa.array(cells, pa.string())
        arrow.observe(column, BufferFacts.of(column))
        python.observe(cells)
    assert arrow.pg_type == python.pg_type
    assert arrow.suppressed_count == python.suppressed_count
    assert arrow.censored_count == python.censored_count
    assert arrow.examples.words == python.examples.words
