"""The names of a table's columns: every header level that tells a column from its siblings.

A column's header is a list of levels, top to bottom: the bands over it, then its own header
("A&E attendances greater than 4 hours ... | Type 2 Departments"). Its name is the words of
every level joined with ``_``, so a name carries each level that distinguishes it. Only a
band the level below already spells out ("Emergency Admissions" over "Emergency Admissions
via Type 1 A&E") is left out.

Over PostgreSQL's 63 bytes the name is shortened (``name_shortening``), one word at a time,
each step only until the name fits; docs/column-names.md gives the rules with examples:

1. a band's words after the last that tells it from its siblings (the repeated tail: "from
   arrival to admission, transfer or discharge" after "greater than 4 hours");
2. band words the column's own header repeats, where it repeats all that tells the band apart;
3. standard abbreviations, from the start of the name: NHS acronyms for phrases (``dta``),
   then the bands' words, then the column's own header's (``column_words.ABBREVIATIONS``);
4. the band words that tell it from no sibling, last first;
5. filler words of the column's own header ("of", "the", "from", ...), last first;
6. only then a cut with a hash: the start of the name, ``_`` and 6 hex digits of the SHA-1 of
   the full name, the same from one run, machine or Python version to the next.

The words that tell a level from its siblings (``column_words.Siblings``) survive steps 1-5.
Names still equal after all that (identical headers) are numbered ``name_2``, ``name_3``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from datawarp.core.naming import MAX_IDENTIFIER_BYTES
from datawarp.pipeline.extract import column_words as cw
from datawarp.pipeline.extract.name_shortening import Levels, flat, shortened
from datawarp.pipeline.extract.names import NUMBER_PREFIX, header_words, words_name

# PostgreSQL's system columns exist in every table: a header cleaned to one of them is
# numbered like a repeated header ("xmin" -> ``xmin_2``).
SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", "oid"})


def table_names(headers: Sequence[Sequence[object]]) -> list[str]:
    """A unique name for each column, from its header levels (top to bottom)."""
    siblings = cw.Siblings(_column_words(headers))
    names = [_column_name(siblings, index) for index in range(len(headers))]
    return unique_names(names, lambda index, limit: _column_name(siblings, index, limit))


def clean_name(header: object) -> str:
    """One header on its own as a snake_case identifier: ``[a-z][a-z0-9_]*``, ≤ 63 bytes."""
    return _column_name(cw.Siblings([_levels([header], footnotes=True)]), 0)


def fitted(name: str, limit: int) -> str:
    """A column name in ``limit`` bytes by the shortening rules, to make room for a suffix."""
    if len(name) <= limit:
        return name
    return _column_name(cw.Siblings([_levels([name], footnotes=False)]), 0, limit)


def clean_names(headers: Sequence[object]) -> list[str]:
    """One-level headers, named as the columns of one table (unique, numbered repeats)."""
    return table_names([[header] for header in headers])


def unique_names(names: list[str], within: Callable[[int, int], str] | None = None) -> list[str]:
    """Repeats numbered ``name_2``, ``name_3`` ...; a suffix never takes a name another column
    has (names ``a, a, a_2`` give ``a, a_3, a_2``), so each keeps its own wherever it sits.

    ``within(position, limit)`` names a column in fewer bytes, to make room for a suffix by the
    shortening rules rather than by cutting a word.
    """
    claimed = set(names) | SYSTEM_COLUMNS
    used: set[str] = set(SYSTEM_COLUMNS)
    unique = []
    for position, name in enumerate(names):
        number = 1
        while name in used or (number > 1 and name in claimed):
            number += 1
            suffix = f"_{number}"
            limit = MAX_IDENTIFIER_BYTES - len(suffix)
            base = names[position]
            if len(base) > limit:
                base = within(position, limit) if within else base[:limit].rstrip("_")
            name = base + suffix
        used.add(name)
        unique.append(name)
    return unique


# ---------------------------------------------------------------------------------------------
# Words


def _column_words(headers: Sequence[Sequence[object]]) -> list[Levels]:
    """Each column's levels as words, bands the level below spells out left out.

    Footnote marks are dropped, except from headers that would otherwise become one name
    ("Type1" and "Type2" stay ``type1`` and ``type2``).
    """
    columns = [_levels(parts, footnotes=True) for parts in headers]
    by_words: dict[tuple, list[int]] = {}
    for index, levels in enumerate(columns):
        by_words.setdefault(tuple(flat(levels)), []).append(index)
    for indexes in by_words.values():
        if len({tuple(map(str, headers[i])) for i in indexes}) > 1:
            for index in indexes:
                columns[index] = _levels(headers[index], footnotes=False)
    return columns


def _levels(parts: Sequence[object], *, footnotes: bool) -> Levels:
    levels = [words for part in parts if (words := header_words(part, footnotes=footnotes))]
    for words in levels:
        if words[0][0].isdigit():  # janitor's x, kept at each level: type_1_x3_month_average
            words[0] = NUMBER_PREFIX + words[0]
    return [
        words
        for position, words in enumerate(levels)
        if not any(_spells_out(lower, words) for lower in levels[position + 1 :])
    ]


def _spells_out(lower: list[str], band: list[str]) -> bool:
    """Whether the band's words appear, in order and together, in a lower level."""
    wanted, seen = cw.canonical_all(band), cw.canonical_all(lower)
    return any(seen[start : start + len(wanted)] == wanted for start in range(len(seen)))


def _column_name(siblings: cw.Siblings, index: int, limit: int = MAX_IDENTIFIER_BYTES) -> str:
    levels = siblings.columns[index]
    full = words_name(flat(levels))
    if len(full) <= limit:  # ASCII by now, so characters are bytes
        return full
    # The column's own header loses only fillers, which never tell headers apart: only the
    # bands need their telling words (and a wide table has far fewer bands than columns).
    keys = [siblings.keys(index, level) for level in range(len(levels) - 1)] + [set()]
    return shortened(levels, keys, limit)
