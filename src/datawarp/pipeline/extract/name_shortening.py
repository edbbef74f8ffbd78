"""Shortening one column's name to a byte limit, by the steps ``column_names`` documents.

Each step works one word (or one band) at a time and stops as soon as the name fits, so a
name loses no more than it must. The words that tell a level from its siblings (``keys``) are
never dropped: a band drops them only where the column's own header says them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from datawarp.pipeline.extract import column_words as cw
from datawarp.pipeline.extract.names import words_name

Levels = list[list[str]]
_HASH_DIGITS = 6


def shortened(levels: Levels, keys: list[set[str]], limit: int) -> str:
    """The name of the levels' words in at most ``limit`` bytes."""
    shortening = _Shortening([list(words) for words in levels], keys, limit)
    for step in shortening.steps():
        if step():
            return shortening.name()
    return hashed(shortening.name(), words_name(flat(levels)), limit)


def flat(levels: Levels) -> list[str]:
    return [word for words in levels for word in words]


def hashed(name: str, full: str, limit: int) -> str:
    """The last resort: the start of the name, ``_`` and 6 hex digits of the SHA-1 of the full
    name, the same from one run, machine or Python version to the next."""
    digest = hashlib.sha1(full.encode(), usedforsecurity=False).hexdigest()[:_HASH_DIGITS]
    return f"{name[: limit - _HASH_DIGITS - 1].rstrip('_')}_{digest}"


class _Shortening:
    def __init__(self, words: Levels, keys: list[set[str]], limit: int):
        self.words, self.keys, self.limit = words, keys, limit
        self.bands = range(len(words) - 1)
        self.own = len(words) - 1  # the column's own header, the last level

    def steps(self) -> list[Callable[[], bool]]:
        return [
            self.drop_band_tails,
            self.drop_repeated_band_words,
            lambda: self.abbreviate(range(len(self.words)), phrases=True),
            lambda: self.abbreviate(self.bands, phrases=False),
            lambda: self.abbreviate([self.own], phrases=False),
            lambda: self.drop_where(self.bands, lambda word: True),
            lambda: self.drop_where([self.own], lambda word: word in cw.FILLERS),
        ]

    def name(self) -> str:
        return words_name(flat(self.words))

    def fits(self) -> bool:
        return len(self.name()) <= self.limit  # ASCII by now, so characters are bytes

    def is_key(self, level: int, word: str) -> bool:
        return cw.is_key(word, self.keys[level])

    def drop(self, level: int, position: int) -> None:
        """Drop one word, then any filler the drop left at either end of its level."""
        own = self.words[level]
        del own[position]
        while own and own[-1] in cw.EDGE_FILLERS:
            own.pop()
        while own and own[0] in cw.EDGE_FILLERS:
            own.pop(0)

    def drop_band_tails(self) -> bool:
        """A band's words after the last that tells it apart: what its siblings share."""
        for level in self.bands:
            words = self.words[level]
            if not any(self.is_key(level, word) for word in words):
                continue  # a band that tells the column from no sibling waits for step 4
            while words and not self.is_key(level, words[-1]):
                self.drop(level, len(words) - 1)
                if self.fits():
                    return True
        return False

    def drop_repeated_band_words(self) -> bool:
        """A band's words that the column's own header says again, where it repeats every word
        that tells the band apart ("less than 4 hours" over "Total Attendances < 4 hours")."""
        # Only the column's own header counts: it loses nothing but fillers, so what it
        # repeats stays in the name.
        below = {cw.canonical(word) for word in self.words[self.own]}
        for level in self.bands:
            if not self.keys[level] <= below:
                continue
            for position in reversed(range(len(self.words[level]))):
                words = self.words[level]
                if position < len(words) and cw.canonical(words[position]) in below:
                    self.drop(level, position)
            if self.fits():
                return True
        return False

    def abbreviate(self, levels: Sequence[int], *, phrases: bool) -> bool:
        """From the start of the name on, so that siblings keep one band prefix."""
        for level in levels:
            position = 0
            while position < len(self.words[level]):
                shorter = cw.abbreviated(self.words[level], position, phrases=phrases)
                if shorter is not None:
                    self.words[level] = shorter
                    if self.fits():
                        return True
                position += 1
        return False

    def drop_where(self, levels: Sequence[int], droppable: Callable[[str], bool]) -> bool:
        """The words that tell the level from no sibling, last first."""
        for level in levels:
            for position in reversed(range(len(self.words[level]))):
                words = self.words[level]
                if position >= len(words):
                    continue
                if droppable(words[position]) and not self.is_key(level, words[position]):
                    self.drop(level, position)
                    if self.fits():
                        return True
        return False
