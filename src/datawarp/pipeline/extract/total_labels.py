"""Totals labels: the words that make a row a totals row, as written or decorated.

A value is a totals label when, trimmed and in any case, it is one of ``TOTAL_LABELS``
('England', 'Total', 'All providers', 'National', ...), or one of them decorated the way NHS
tables decorate their totals: a footnote mark glued on (``ENGLAND*``, ``Total4``,
``England5``, ``Total†``, ``England¹``) and/or a qualifier in brackets
(``England (Excluding Independent Sector)``, ``Total [note 2]``). The label must be the whole
value: 'North East England NHS Trust' or 'Total hip replacement' are not totals, and neither is
'Total 4' (a space before the digits makes them part of the name).
"""

from __future__ import annotations

import re

TOTAL_LABELS = frozenset(
    {"england", "total", "totals", "grand total", "england total", "total england"}
    | {"all providers", "all organisations", "all trusts", "all commissioners", "national"}
)
LONGEST_TOTAL_LABEL = max(map(len, TOTAL_LABELS)) + 8  # room for stray spaces
LONGEST_DECORATED_LABEL = LONGEST_TOTAL_LABEL + 72  # and for a qualifier in brackets
LABEL_STARTS = ("england", "total", "grand total", "all ", "national")  # every label's start

_DECORATED = re.compile(
    "(?:"
    + "|".join(re.escape(label) for label in sorted(TOTAL_LABELS, key=len, reverse=True))
    + r")(?:\d{1,2}|\s?[*\u2020\u2021]+|[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+)?"
    r"(?:\s*\([^()]{1,60}\)|\s*\[[^\[\]]{1,40}\])?"
)


def is_total_label(value: object) -> bool:
    """Whether a cell holds a totals label, plain or decorated (see the module docstring)."""
    if value.__class__ is not str or len(value) > LONGEST_DECORATED_LABEL:  # type: ignore[arg-type]
        return False
    text = value.strip().casefold()  # type: ignore[attr-defined]
    if text in TOTAL_LABELS:
        return True
    return text.startswith(LABEL_STARTS) and _DECORATED.fullmatch(text) is not None
