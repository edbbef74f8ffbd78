"""The first few distinct words and censored values of a column, in the order the file has them.

``datawarp inspect`` names them: the words that kept a column of numbers from being numeric
("Insufficient records"), and the censored values a numeric column holds ("52+", "<5"). Every
reader (cell by cell, by distinct values, Arrow) collects them in file order, so all agree.
"""

from __future__ import annotations

from datawarp.pipeline.extract.values import CENSORED, WORDS

EXAMPLES = 3  # of each kind


class Examples:
    __slots__ = ("words", "censored")

    def __init__(self) -> None:
        self.words: list[str] = []
        self.censored: list[str] = []

    @property
    def wants_words(self) -> bool:
        return len(self.words) < EXAMPLES

    @property
    def wants_censored(self) -> bool:
        return len(self.censored) < EXAMPLES

    def add(self, kind: int, text: str) -> None:
        """One value (stripped) of kind ``WORDS`` or ``CENSORED``; repeats are ignored."""
        found = self.words if kind == WORDS else self.censored if kind == CENSORED else None
        if found is not None and len(found) < EXAMPLES and text not in found:
            found.append(text)
