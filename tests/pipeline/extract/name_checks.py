"""An independent reading of "no name loses a word that tells it from a sibling".

Two columns of a table are compared at the first header level where they differ: the name of
the first must keep (whole, abbreviated or inside an NHS acronym) at least one word of that
level which the other column's level lacks. Used on the genuine samples and by the property
tests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from datawarp.pipeline.extract.column_words import EDGE_FILLERS, canonical
from datawarp.pipeline.extract.names import header_words

HASHED = re.compile(r".*_[0-9a-f]{6}(?:_[0-9]+)?")


def levels_of(header: Sequence[object]) -> list[list[str]]:
    return [words for part in header if (words := header_words(part))]


def keeps(name: str, word: str) -> bool:
    """Whether the name holds the word: whole, abbreviated, in the singular or plural, with
    janitor's x before a number, or inside the acronym of a phrase it belongs to."""
    wanted = [canonical(part) for part in word.split("_")]
    parts = [_unprefixed(part) for part in name.split("_")]
    seen = [canonical(part) for part in parts]
    for start in range(len(seen) - len(wanted) + 1):
        if seen[start : start + len(wanted)] == wanted:
            return True
    return len(wanted) == 1 and any(wanted[0] in form.split(" ") for form in seen)


def _unprefixed(part: str) -> str:
    return part[1:] if part[:1] == "x" and part[1:2].isdigit() else part


def lost_distinctions(
    headers: Sequence[Sequence[object]], names: Sequence[str]
) -> list[tuple[str, str]]:
    """(name, sibling's name) pairs where the name keeps no word telling it from the sibling."""
    levels = [_without_spelled_out_bands(levels_of(header)) for header in headers]
    lost = []
    for mine, name in zip(levels, names, strict=True):
        if HASHED.fullmatch(name):
            continue  # the limit did not allow it
        for theirs, other in zip(levels, names, strict=True):
            differing = _first_difference(mine, theirs)
            if differing is None:
                continue
            own, their = differing
            others = {canonical(word) for word in their}
            telling = [w for w in own if canonical(w) not in others and w not in EDGE_FILLERS]
            if telling and not any(keeps(name, word) for word in telling):
                lost.append((name, other))
    return lost


def _first_difference(
    mine: list[list[str]], theirs: list[list[str]]
) -> tuple[list[str], list[str]] | None:
    for own, their in zip(mine, theirs, strict=False):
        if [canonical(w) for w in own] != [canonical(w) for w in their]:
            return own, their
    return None


def _without_spelled_out_bands(levels: list[list[str]]) -> list[list[str]]:
    """A band that a lower level spells out is not a level of the name (the documented rule)."""
    kept = []
    for position, words in enumerate(levels):
        wanted = [canonical(w) for w in words]
        spelled = False
        for lower in levels[position + 1 :]:
            seen = [canonical(w) for w in lower]
            if any(seen[i : i + len(wanted)] == wanted for i in range(len(seen))):
                spelled = True
        if not spelled:
            kept.append(words)
    return kept
