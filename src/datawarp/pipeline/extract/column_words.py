"""The word lists and word tests behind shortening a column name (``column_names``).

Which words tell a header level from its siblings, which are filler, and the standard
abbreviations NHS tables already use (``no`` for number, ``dta`` for decision to admit).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

# Words that carry no meaning of their own in a header; shortening drops them from the
# column's own header, and never counts them as telling two headers apart.
FILLERS = frozenset("a an the of to from for by in on at via i_e e_g".split())
# Left dangling at either end of a shortened level ("attendances_and"), these go too.
EDGE_FILLERS = FILLERS | {"and", "or", "but"}

ABBREVIATIONS = {
    "number": "no", "numbers": "nos", "percentage": "pct", "percentile": "pctl",
    "average": "avg", "department": "dept", "departments": "depts", "attendance": "att",
    "attendances": "atts", "admission": "adm", "admissions": "adms", "appointment": "appt",
    "appointments": "appts", "emergency": "emerg", "patient": "pt", "patients": "pts",
    "organisation": "org", "organisations": "orgs", "referral": "ref", "referrals": "refs",
    "population": "pop", "standard": "std", "including": "incl", "excluding": "excl",
    "maximum": "max", "minimum": "min", "estimated": "est", "management": "mgmt",
    "information": "info", "hours": "hrs", "hour": "hr", "weeks": "wks", "week": "wk",
    "minutes": "mins", "months": "mths", "years": "yrs",
}  # fmt: skip
PHRASE_ABBREVIATIONS = {
    ("decision", "to", "admit"): "dta",
    ("minor", "injury", "unit"): "miu",
    ("minor", "injury", "units"): "mius",
    ("accident", "and", "emergency"): "a_and_e",
    ("year", "to", "date"): "ytd",
    ("financial", "year"): "fy",
    ("general", "practice"): "gp",
}
_LONGEST_PHRASE = max(map(len, PHRASE_ABBREVIATIONS))
_EXPANSIONS = {short: (full,) for full, short in ABBREVIATIONS.items()}
_EXPANSIONS |= {short: phrase for phrase, short in PHRASE_ABBREVIATIONS.items()}


@lru_cache(maxsize=65536)
def canonical(word: str) -> str:
    """The word as compared between headers: abbreviations spelled out, in the singular."""
    if "_" in word:
        return "_".join(canonical(part) for part in word.split("_"))
    if word[:1] == "x" and word[1:2].isdigit():
        word = word[1:]  # janitor's x before a level's leading number: x2019 is 2019
    full = _EXPANSIONS.get(word, (word,))
    return " ".join(_singular(part) for part in full)


def canonical_all(words: Sequence[str]) -> list[str]:
    return [canonical(word) for word in words]


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def is_key(word: str, keys: set[str]) -> bool:
    """Whether the word (or a word of the phrase it abbreviates) tells its level apart."""
    form = canonical(word)
    return form in keys or any(part in keys for part in form.split(" "))


def abbreviated(words: list[str], position: int, *, phrases: bool) -> list[str] | None:
    """``words`` with the phrase starting at ``position`` (or the word there) abbreviated; None
    when there is nothing to abbreviate there."""
    if phrases:
        for length in range(_LONGEST_PHRASE, 1, -1):
            phrase = tuple(words[position : position + length])
            if len(phrase) == length and phrase in PHRASE_ABBREVIATIONS:
                short = PHRASE_ABBREVIATIONS[phrase]
                return [*words[:position], short, *words[position + length :]]
        return None
    word = words[position]
    shorter = "_".join(ABBREVIATIONS.get(part, part) for part in word.split("_"))
    if shorter == word:
        return None
    return [*words[:position], shorter, *words[position + 1 :]]


class Siblings:
    """Which words of a column's header level tell it from its siblings: the headers at the
    same level of the columns under the same bands."""

    def __init__(self, columns: list[list[list[str]]]):
        self.columns = columns
        self._groups: dict[tuple, _Group] | None = None
        self._keys: dict[tuple, set[str]] = {}

    def _group(self, path: tuple) -> _Group:
        if self._groups is None:
            self._groups = {}
            for levels in self.columns:
                above: tuple = ()
                for words in levels:
                    own = tuple(canonical_all(words))
                    self._groups.setdefault(above, _Group()).add(own)
                    above += (own,)
        return self._groups[path]

    def keys(self, index: int, level: int) -> set[str]:
        """The canonical words of the level that tell it apart: for each sibling, the first word
        that sibling lacks (unless a word kept for a sibling more like it does); every word
        when a sibling holds them all ('A&E attendances' beside 'A&E attendances > 4 hours')."""
        levels = self.columns[index]
        path = tuple(tuple(canonical_all(words)) for words in levels[:level])
        mine = tuple(canonical_all(levels[level]))
        if (path, mine) not in self._keys:  # every column under a band asks the same
            self._keys[path, mine] = self._group(path).keys(list(mine))
        return self._keys[path, mine]


class _Group:
    """The distinct texts at one level under one path, as bit masks over their words, so that a
    wide table's thousands of siblings are compared with integer operations."""

    def __init__(self) -> None:
        self.bits: dict[str, int] = {}
        self.masks: dict[int, None] = {}

    def mask(self, words: Sequence[str]) -> int:
        mask = 0
        for word in words:
            mask |= self.bits.setdefault(word, 1 << len(self.bits))
        return mask

    def add(self, words: Sequence[str]) -> None:
        self.masks[self.mask(words)] = None

    def keys(self, mine: list[str]) -> set[str]:
        own = self.mask(mine)
        telling = self.mask([word for word in mine if word not in EDGE_FILLERS])
        differences = {telling & ~mask for mask in self.masks if mask != own}
        if 0 in differences:  # a longer sibling says all it says: only the whole tells them
            return {word for word in mine if word not in EDGE_FILLERS}
        kept = 0
        for difference in sorted(differences, key=int.bit_count):
            if not difference & kept:
                kept |= next(self.bits[w] for w in mine if self.bits[w] & difference)
        return {word for word in mine if self.bits[word] & kept}
