"""``_level``: national, region, system or organisation, for the rows of a file that mixes them.

docs/rows.md is the user's account. The parts:

* **Which columns speak** (``LevelPlan.for_layout``, from the headers alone, so both read
  paths agree): a breakdown column ("Breakdown", "Organisation Type"); the row's own code and
  name columns ("Org Code", "Provider Name", "Code", "Name", a column with no header);
  hierarchy columns ("Region", "SHA", "ICB Code", "Parent Org") which place a row only where
  its own code or name equals theirs (AmbSYS's region rows name their region in both).
* **One row** (``LevelPlan.classify``): the breakdown's word if it has one, else the finest
  level its own values name (a row naming a trust and its region is the trust's), else
  national when a totals label ('England', 'TOTAL', ...) in its own columns makes it a totals
  row, else nothing.
* **The file** (``LevelTracker`` in pass 1, ``LevelDecision`` after it): levels are given only
  when at least two occur; a file of one level (providers only, a national time series) keeps
  ``_level`` NULL. A row placed national is a totals row too (``_is_total``).

Both paths call ``classify`` on the same texts (trimmed, empty is None) and count the same
classes, so the Python path and the Arrow fast path (``arrow_levels``) cannot disagree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from datawarp.pipeline.extract.level_rules import (
    LEVEL_ORDER,
    NATIONAL,
    REGION,
    SYSTEM,
    breakdown_level,
    code_level,
    finest,
    name_level,
)
from datawarp.pipeline.extract.table import TableLayout
from datawarp.pipeline.extract.total_labels import is_total_label
from datawarp.pipeline.extract.values import MISSING_MARKERS

_ORG_WORDS = frozenset(
    "org orgs organisation organisations organsation organization provider providers trust"
    " site practice commissioner ods ons location hospital".split()
)
_PARENT_WORDS = {"parent": None, "sha": REGION, "region": REGION, "icb": SYSTEM, "stp": SYSTEM,
                 "ics": SYSTEM, "ccg": SYSTEM}  # fmt: skip
_NOT_A_GROUP = MISSING_MARKERS | {"unknown", "other", "none", "not known", "not stated", "invalid"}
_CACHE_LIMIT = 65_536
_UNHEADED = re.compile(r"\(column [A-Z]+, no header\)")  # header.py's text for such a column

Class = tuple[str | None, int]
"""A row's class: the level its values name (None: none), and the bits of the table columns
whose totals label it holds (national if one of them is a column the totals rule reads)."""


def text_of(value: object) -> str | None:
    """The text a cell gives the rules: trimmed, None when empty; whole numbers as digits."""
    if value is None:
        return None
    if value.__class__ is str:
        return value.strip() or None  # type: ignore[attr-defined]
    if value.__class__ is int:
        return str(value)
    if value.__class__ is float and value.is_integer():  # type: ignore[attr-defined]
        return str(int(value))  # type: ignore[arg-type]
    return None


def _group(text: str | None) -> str | None:
    """A hierarchy column's value as the name of a group ('-', 'Unknown', 'England' are not)."""
    if text is None:
        return None
    folded = text.casefold()
    if folded in _NOT_A_GROUP or not any(c.isalnum() for c in folded) or is_total_label(text):
        return None
    return folded


def _role(name: str, unheaded: bool) -> tuple[str, str | None] | None:
    """(role, level a hierarchy column names) of a column, from its loaded name."""
    if unheaded:
        return ("either", None)
    if name in ("code", "name"):
        return (name, None)
    tokens = set(name.split("_"))
    if "breakdown" in tokens or (
        tokens & _ORG_WORDS and tokens & {"type", "level"} and not tokens & {"code", "name"}
    ):
        return ("breakdown", None)
    parents = [word for word in _PARENT_WORDS if word in tokens]
    if parents:
        return ("parent", None if "parent" in parents else _PARENT_WORDS[parents[0]])
    if not tokens & _ORG_WORDS:
        return None
    if tokens & {"code", "ods", "ons"}:
        return ("code", None)
    if tokens & {"name", "description"}:
        return ("name", None)
    return ("either", None)


class LevelPlan:
    """Which of a table's columns place its rows, and how (see the module docstring)."""

    def __init__(self, roles: dict[int, tuple[str, str | None]], label_columns: Sequence[int]):
        self.positions = tuple(sorted(roles))  # table columns read, in order: a row's key
        index = {position: i for i, position in enumerate(self.positions)}
        by_role: dict[str, list[int]] = {}
        for position, (role, _) in roles.items():
            by_role.setdefault(role, []).append(index[position])
        self.breakdown = tuple(by_role.get("breakdown", ()))
        self.own = tuple(
            (index[position], role)
            for position, (role, _) in sorted(roles.items())
            if role in ("code", "name", "either")
        )
        self.parents = tuple(
            (index[position], level)
            for position, (role, level) in sorted(roles.items())
            if role == "parent" and level is not None
        )
        labelled = set(label_columns)
        self.label_bits = tuple(
            (index[position], 1 << position)
            for position, (role, _) in sorted(roles.items())
            if position in labelled and role != "parent"
        )
        self._cache: dict[tuple, Class] = {}

    @classmethod
    def for_layout(cls, layout: TableLayout) -> LevelPlan | None:
        """The plan for a detected table; None when no column can place a row."""
        roles = {}
        for position, column in enumerate(layout.columns):
            if column.sheet_column is None:
                continue  # a stacked table's block titles
            header = column.original_header.strip()
            unheaded = not header or _UNHEADED.fullmatch(header) is not None
            if unheaded and position not in layout.label_columns:
                continue
            role = _role(column.name, unheaded)
            if role is not None:
                roles[position] = role
        if not any(role != "parent" for role, _ in roles.values()):
            roles = {position: ("either", None) for position in roles}  # the only columns
        return cls(roles, layout.label_columns) if roles else None

    def classify(self, key: tuple) -> Class:
        """The class of a row whose plan columns hold ``key`` (cached)."""
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[key] = self._classify([text_of(value) for value in key])
        return found

    def _classify(self, texts: list[str | None]) -> Class:
        bits = 0
        for index, bit in self.label_bits:
            text = texts[index]
            if text is not None and is_total_label(text):
                bits |= bit
        for index in self.breakdown:
            text = texts[index]
            level = None if text is None else breakdown_level(text)
            if level is not None:
                return level, bits
        parents = {
            group: level
            for index, level in self.parents
            if (group := _group(texts[index])) is not None
        }
        return finest(self._own_level(texts[i], role, parents) for i, role in self.own), bits

    @staticmethod
    def _own_level(text: str | None, role: str, parents: dict[str, str]) -> str | None:
        if text is None or is_total_label(text):
            return None
        by_code = code_level(text) if role != "name" else None
        if by_code == NATIONAL:
            return NATIONAL
        group = parents.get(text.casefold()) if parents else None
        if group is not None:
            return group  # the row of the group a hierarchy column names
        if by_code is not None:
            return by_code
        return name_level(text) if role != "code" else None

    def keys(self, columns: Sequence[Sequence]) -> list[tuple]:
        """Each row's key, from a chunk's table columns."""
        return list(zip(*(columns[position] for position in self.positions), strict=True))


@dataclass
class LevelTracker:
    """Pass 1's count of the rows' classes; ``decide`` turns it into the file's levels."""

    plan: LevelPlan
    classes: Counter = field(default_factory=Counter)
    national_rows: list[int] = field(default_factory=list)  # placed national by their values

    def observe(self, numbers: Sequence[int], columns: Sequence[Sequence]) -> None:
        keys = self.plan.keys(columns)
        national = set()
        for key, count in Counter(keys).items():
            found = self.plan.classify(key)
            self.classes[found] += count
            if found[0] == NATIONAL:
                national.add(key)
        if national:
            self.national_rows.extend(
                number for number, key in zip(numbers, keys, strict=True) if key in national
            )

    def decide(self, marker_columns: Sequence[int]) -> LevelDecision:
        allowed = sum(1 << position for position in marker_columns)
        counts: Counter = Counter()
        for found, count in self.classes.items():
            level = level_of(found, allowed)
            if level is not None:
                counts[level] += count
        if len(counts) < 2:
            return LevelDecision(self.plan, allowed, {}, ())
        ordered = {level: counts[level] for level in LEVEL_ORDER if counts[level]}
        return LevelDecision(self.plan, allowed, ordered, tuple(self.national_rows))


def level_of(found: Class, allowed: int) -> str | None:
    level, bits = found
    if level is None and bits & allowed:
        return NATIONAL
    return level


@dataclass(frozen=True)
class LevelDecision:
    """The file's levels after pass 1: ``counts`` (rows per level, coarsest first) is empty
    when the file has one level, and then every ``_level`` is NULL."""

    plan: LevelPlan
    allowed: int  # bits of the columns the totals rule reads (after pass 1)
    counts: dict[str, int]
    national_rows: tuple[int, ...]  # placed national by code or breakdown: totals rows too

    @property
    def mixed(self) -> bool:
        return bool(self.counts)

    def level(self, found: Class) -> str | None:
        return level_of(found, self.allowed) if self.counts else None

    def mark(self, columns: Sequence[Sequence], totals: list[bool]) -> tuple[list, list[bool]]:
        """Pass 2 of a chunk: each row's level, and its totals flag with national rows set."""
        if not self.counts:
            return [None] * len(totals), totals
        classify, level = self.plan.classify, self.level
        keys = self.plan.keys(columns)
        levels = list(map({key: level(classify(key)) for key in set(keys)}.__getitem__, keys))
        if NATIONAL not in levels:
            return levels, totals
        flags = [flag or found == NATIONAL for flag, found in zip(totals, levels, strict=True)]
        return levels, flags


def tracker_for(layout: TableLayout) -> LevelTracker | None:
    plan = LevelPlan.for_layout(layout)
    return None if plan is None else LevelTracker(plan)


def merged_totals(label_rows: list[int], decision: LevelDecision | None) -> list[int]:
    """The totals rows: those a totals label marks, and the rows placed national."""
    if decision is None or not decision.mixed or not decision.national_rows:
        return label_rows
    return sorted(set(label_rows).union(decision.national_rows))
