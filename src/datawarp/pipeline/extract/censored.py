"""Censored and flagged numbers: ``52+``, ``<5``, ``>1000``, ``<=0.5%``, ``100%*``.

NHS tables write a number they will not (or cannot) give exactly as a bound or with a flag:
``52+`` (52 weeks or more), ``<5`` (small numbers withheld), ``>1000``, ``100%*`` (capped at
100%, with a footnote), ``capped at 100%``. Such a value is not the number it shows, so it
never loads as that number; but one of them must not turn a column of numbers into text
either. The rule (docs/values.md, ``values.CENSORED``):

* In a column whose other values are numbers (and markers or blanks), and where numbers
  outnumber censored values, the column stays numeric; a censored value loads as NULL there,
  and its text as written goes to a companion text column ``<name>_original`` (``originals``),
  which holds only censored values (NULL elsewhere). Nothing is lost, and
  ``coalesce(x::text, x_original)`` shows every value as published.
* Anywhere else (a text column, or more censored values than numbers) it is text as written.

This module only recognises the shape; ``values.parse_text`` checks that the number inside
is one it would read as a number (no leading-zero codes such as ``<05``).
"""

from __future__ import annotations

import re

# A comparison or "capped at" before the number, and/or a flag after it. The number's own
# grammar is values._NUMBER's; here anything number-like is taken and checked there.
_CENSORED = re.compile(
    r"(?P<before><=|>=|<|>|\u2264|\u2265|~|capped at(?=\s))?\s*"
    r"(?P<number>[+-]?[£$€]?[0-9.,]*[0-9][0-9.,]*(?:[eE][+-]?[0-9]{1,3})?%?)"
    r"(?P<after>\+|\*{1,3}|[\u2020\u2021]{1,2}|\s*[(\[]capped[)\]])?",
    re.IGNORECASE,
)
# Characters a censored value can start or end with: everything else is skipped quickly.
CENSORED_STARTS = frozenset("<>~\u2264\u2265cC")
CENSORED_ENDS = frozenset("+*)]\u2020\u2021")


def censored_number(text: str) -> str | None:
    """The number inside a censored or flagged value (``"52"`` for ``"52+"``), else None.

    ``text`` is stripped. A plain number is not censored: a bound or a flag must be there.
    """
    if text[0] not in CENSORED_STARTS and text[-1] not in CENSORED_ENDS:
        return None
    match = _CENSORED.fullmatch(text)
    if match is None or not (match["before"] or match["after"]):
        return None
    return match["number"]
