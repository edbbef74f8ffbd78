"""The rules of markers, censored values and percentages on Arrow arrays (the CSV fast path).

Each function gives what the Python path's rule gives (``profile``, ``originals``,
``values._parse_number``); the values a vectorised rule cannot settle exactly go through the
Python function itself, once per distinct value.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.pipeline.extract.arrow_values import (
    _I32,
    _NULL_TEXT,
    Analysis,
    BufferFacts,
    any_true,
)
from datawarp.pipeline.extract.profile import NUMBER_STARTS
from datawarp.pipeline.extract.values import CENSORED, DECIMAL, INT, MISSING_MARKERS, classify

# A % sign ending the value, before whatever str.rstrip() would strip (the Python path's rule).
PERCENT_SIGN = r"%[\s\p{Z}\x{1c}-\x{1f}\x{85}]*$"
_ALL_MARKERS = pa.array(sorted(MISSING_MARKERS), pa.string())
_LONGEST_MARKER = pa.scalar(max(map(len, MISSING_MARKERS)), pa.int32())
_NUMBER_STARTS = pa.array(sorted(NUMBER_STARTS), pa.string())


def stripped(column: pa.Array, facts: BufferFacts) -> pa.Array:
    """The values as ``str.strip()`` leaves them."""
    return pc.utf8_trim(column, facts.whitespace) if facts.whitespace else column


def marker_mask(values: pa.Array) -> pa.Array:
    """Which (stripped) values are suppression markers, as ``text.lower() in MISSING_MARKERS``."""
    return pc.is_in(pc.ascii_lower(values), value_set=_ALL_MARKERS)


def blanks_among(values: pa.Array, facts: BufferFacts) -> pa.Array:
    """Which of a column's (distinct) values are empty or whitespace only (``str.strip()``
    leaves nothing)."""
    return pc.equal(pc.binary_length(stripped(values, facts)), _I32[0])


def markers_among(values: pa.Array, facts: BufferFacts) -> pa.Array:
    """Which of a text column's (distinct) values are suppression markers once stripped."""
    values = stripped(values, facts)
    return pc.and_(pc.less_equal(pc.utf8_length(values), _LONGEST_MARKER), marker_mask(values))


def number_candidates(values: pa.Array, facts: BufferFacts) -> pa.Array | None:
    """Those of the distinct ``values`` that could be numbers (they start as a number
    starts), in their order; None if none can."""
    first = pc.utf8_slice_codeunits(stripped(values, facts), 0, 1)
    mask = pc.is_in(first, value_set=_NUMBER_STARTS)
    return pc.filter(values, mask) if any_true(mask) else None


def texts_of(analysis: Analysis, mask: pa.Array) -> list[str]:
    """The stripped text of the values ``mask`` selects, in order (``Analysis.trimmed`` is
    exact for ASCII values; the others were stripped by ``values.classify``)."""
    positions = pc.indices_nonzero(mask).to_pylist()
    trimmed = pc.filter(analysis.trimmed, mask).to_pylist()
    return [
        analysis.parsed[position] if position in analysis.parsed else text  # type: ignore[misc]
        for position, text in zip(positions, trimmed, strict=True)
    ]


def percent_texts(analysis: Analysis, signed: pa.Array, text: pa.Array) -> pa.Array:
    """``text`` (numeric text) with the values written with % as the fraction Python makes."""
    numeric = pc.or_(analysis.where(INT), analysis.where(DECIMAL))
    mask = pc.and_(numeric, signed)
    if not any_true(mask):
        return text
    fractions = [str(value) for value in _parsed_numbers(analysis, mask)]
    return pc.replace_with_mask(text, mask, pa.array(fractions, pa.string()))


def _parsed_numbers(analysis: Analysis, mask: pa.Array) -> list[object]:
    values = pc.filter(analysis.values, mask).to_pylist()
    return [classify(value)[1] for value in values]


def originals_text(analysis: Analysis) -> pa.Array:
    """The censored values' stripped text, NULL for every other value (``original_text``)."""
    mask = analysis.where(CENSORED)
    if not any_true(mask):
        return pa.nulls(len(analysis.values), pa.string())
    texts = pa.array(texts_of(analysis, mask), pa.string())
    return pc.replace_with_mask(pa.nulls(len(analysis.values), pa.string()), mask, texts)


def without_markers(text: pa.Array) -> pa.Array:
    """Stripped text with suppression markers as NULL (``text_without_markers``)."""
    mask = marker_mask(text)
    return pc.if_else(mask, _NULL_TEXT, text) if any_true(mask) else text
