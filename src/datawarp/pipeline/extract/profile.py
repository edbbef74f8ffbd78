"""Type inference: what PostgreSQL type a column of cells needs, learnt in one streaming pass.

Besides the type, a profile keeps what ``datawarp inspect`` explains: the censored values
(``52+``, ``<5``) a numeric column holds, and the first words that kept a column of numbers
from being numeric (``examples``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable

from datawarp.core.pgtypes import BOOLEAN, DATE, NUMERIC, TEXT, TIMESTAMP, widen
from datawarp.pipeline.extract.examples import EXAMPLES, Examples
from datawarp.pipeline.extract.values import (
    BOOL,
    CENSORED,
    DAY,
    DECIMAL,
    EMPTY,
    INT,
    MARKER,
    MISSING_MARKERS,
    MOMENT,
    WORDS,
    classify,
    integer_type_for,
)

_LONGEST_MARKER = max(map(len, MISSING_MARKERS))
_LOOKED_AT = 4096  # distinct strings a text column remembers having classified
# What a string must start with (once stripped) to be a number at all (values.parse_text).
NUMBER_STARTS = frozenset("0123456789+-.£$€")
NUMBER_TYPES = frozenset({"smallint", "integer", "bigint", NUMERIC})
_NONE_TYPE = type(None)
_FLOAT, _INT, _STR, _INT_AND_FLOAT = {float}, {int}, {str}, {int, float}
_DATE, _DATETIME = {dt.date}, {dt.datetime}


class ColumnProfile:
    """Streaming type inference over every cell of one column, in O(1) memory."""

    __slots__ = (
        "_count", "_empty", "_markers", "_censored", "_low", "_high", "_has_decimal", "_has_day",
        "_has_moment", "_has_bool", "_has_words", "_has_percent", "_has_plain_decimal",
        "max_text_length", "examples", "_looked_at",
    )  # fmt: skip

    def __init__(self, *, examples: bool = True) -> None:
        self._count = self._empty = self._markers = self._censored = self.max_text_length = 0
        # Readers that observe stand-ins for values (the Arrow path) collect examples themselves.
        self.examples = Examples() if examples else None
        self._looked_at: set[str] = set()  # strings of a text column already classified
        self._low, self._high = math.inf, -math.inf  # integer range seen so far
        self._has_decimal = self._has_day = self._has_moment = False
        self._has_bool = self._has_words = self._has_percent = self._has_plain_decimal = False

    def observe(self, value: object) -> None:
        """Take one cell into account."""
        # Called for every cell of million-row files: the common cells never leave this method.
        self._count += 1
        value_type = type(value)
        if value_type is int:
            if value < self._low:
                self._low = value
            if value > self._high:
                self._high = value
        elif value_type is float:
            if value.is_integer():  # Excel stores every count as a float
                self._observe_integer(int(value))
            elif value - value == 0.0:  # finite; NaN and inf give NaN
                self._has_decimal = self._has_plain_decimal = True
            else:
                self._empty += 1
        elif value_type is str:
            if self._has_words:
                self._observe_string_in_text_column(value)
            elif value.isdigit() and value.isascii() and value[0] != "0" and len(value) < 19:
                self._observe_integer(int(value))
                if len(value) > self.max_text_length:
                    self.max_text_length = len(value)
            else:
                self._observe_kind(value)
        elif value is None:
            self._empty += 1
        else:
            self._observe_kind(value)

    def _observe_integer(self, number: int) -> None:
        if number < self._low:
            self._low = number
        if number > self._high:
            self._high = number

    def observe_many(self, values: Iterable[object], kinds: set[type] | None = None) -> None:
        """Take a batch of cells into account (same result as calling ``observe`` for each);
        ``kinds``, when the caller has them, are the types of a list's cells."""
        if type(values) is list and values:
            if self._observe_uniform(values, set(map(type, values)) if kinds is None else kinds):
                return
        observe = self.observe
        for value in values:
            observe(value)

    def _observe_uniform(self, values: list, kinds: set[type]) -> bool:
        """A chunk of whole numbers (Excel's counts, as floats or ints) or of a text column's
        strings, taken in with C-speed builtins rather than a call per cell; False, having
        taken in nothing, for any other chunk."""
        kinds = set(kinds)  # the caller's stay as they are
        empty = 0
        if _NONE_TYPE in kinds:
            kinds.discard(_NONE_TYPE)
            empty = values.count(None)
            values = [value for value in values if value is not None]
        if kinds == _FLOAT and all(map(float.is_integer, values)):  # NaN and inf are not
            low, high = int(min(values)), int(max(values))
        elif kinds == _FLOAT and all(map(math.isfinite, values)):  # figures with decimals
            whole = [value for value in values if value.is_integer()]
            low, high = (int(min(whole)), int(max(whole))) if whole else (None, None)
            self._has_decimal = self._has_plain_decimal = True
        elif kinds == _DATE:  # Excel's dates
            low = high = None
            self._has_day = True
        elif kinds == _DATETIME:
            low = high = None
            self._observe_datetimes(values)
        elif kinds == _INT:
            low, high = min(values), max(values)
        elif kinds == _INT_AND_FLOAT:  # an .xls gives its whole numbers as ints
            if not all(math.isfinite(value) for value in values if type(value) is float):
                return False
            whole = [value for value in values if type(value) is int or value.is_integer()]
            low, high = (int(min(whole)), int(max(whole))) if whole else (None, None)
            if len(whole) < len(values):
                self._has_decimal = self._has_plain_decimal = True
        elif not kinds:
            low = high = None
        elif kinds == _STR and self._has_words and self._observe_text_chunk(values):
            low = high = None
        else:
            return False
        if low is not None:
            self._observe_integer(low)
            self._observe_integer(high)
        self._count += len(values) + empty
        self._empty += empty
        return True

    def _observe_text_chunk(self, values: list[str]) -> bool:
        """Strings of a text column, each distinct one taken in once, in order of first
        appearance, its blanks and markers counted as often as it occurs. That is what a call
        per cell does as long as every string classified can be remembered (a repeat is then
        skipped), so a chunk that might overflow the memory is left to it (False)."""
        occurrences = Counter(values)  # in order of first appearance
        looked_at = self._looked_at
        if len(looked_at) + len(occurrences) > _LOOKED_AT:
            return False
        fresh = [value for value in occurrences if value not in looked_at]  # others tell nothing
        for value in self._beyond_their_length(fresh):
            self._observe_string_in_text_column(value, occurrences[value])
        return True

    def _beyond_their_length(self, values: list[str]) -> list[str]:
        """Takes in the length of each string that can tell nothing more once the examples are
        full (a name or a code: no space at its ends, not a marker, not a number's start
        unless the column holds numbers already); the others, in order, to be looked at one
        by one. A publication's names and codes are mostly distinct: a call each was most of
        pass 1's text work."""
        examples = self.examples
        if examples is not None and len(examples.words) < EXAMPLES:
            return values
        numbers_known = self.holds_numbers
        rest = [value for value in values
                if not value or value[0].isspace() or value[-1].isspace()
                or (len(value) <= _LONGEST_MARKER and value.lower() in MISSING_MARKERS)
                or (value[0] in NUMBER_STARTS and not numbers_known)]  # fmt: skip
        if not rest:
            longest = max(map(len, values), default=0)
        else:
            told = set(rest)
            longest = max((len(value) for value in values if value not in told), default=0)
        self.max_text_length = max(self.max_text_length, longest)
        return rest

    def _observe_datetimes(self, values: list[dt.datetime]) -> None:
        """What ``classify`` makes of each: midnight without a zone is a day, else a moment."""
        midnight = dt.time(0)
        days = [value.tzinfo is None and value.time() == midnight for value in values]
        if any(days):
            self._has_day = True
        if not all(days):
            self._has_moment = True

    def _observe_string_in_text_column(self, value: str, times: int = 1) -> None:
        # Once text, always text: emptiness and length matter, markers (NULL if the column
        # holds numbers), whether it holds numbers, and the first few words.
        length = len(value)
        if length and (value[0].isspace() or value[-1].isspace()):
            value = value.strip()
            length = len(value)
        if length == 0:
            self._empty += times
            return
        if length > self.max_text_length:
            self.max_text_length = length
        if length <= _LONGEST_MARKER and value.lower() in MISSING_MARKERS:
            self._markers += times
            return
        looked_at = self._looked_at
        if value in looked_at:
            return  # classified before: it cannot tell anything new
        examples = self.examples
        if (examples is not None and len(examples.words) < EXAMPLES) or (
            value[0] in NUMBER_STARTS and not self.holds_numbers
        ):
            self._observe_kind(value)
            if len(looked_at) < _LOOKED_AT:
                looked_at.add(value)

    def _observe_kind(self, value: object) -> None:
        kind, parsed = classify(value)
        if type(value) is str and kind != EMPTY:
            self.max_text_length = max(self.max_text_length, len(value.strip()))
            if kind == DECIMAL and value.rstrip().endswith("%"):
                self._has_percent = True
            elif kind == DECIMAL:
                self._has_plain_decimal = True
        if kind == INT:
            self._observe_integer(parsed)
        elif kind == EMPTY:
            self._empty += 1
        elif kind == MARKER:
            self._markers += 1
        elif kind == CENSORED:
            self._censored += 1
            if self.examples is not None:
                self.examples.add(CENSORED, parsed)
        elif kind == DECIMAL:
            self._has_decimal = True
        elif kind == DAY:
            self._has_day = True
        elif kind == MOMENT:
            self._has_moment = True
        elif kind == BOOL:
            self._has_bool = True
        else:
            self._has_words = True
            if self.examples is not None:
                self.examples.add(WORDS, parsed)

    @property
    def pg_type(self) -> str:
        """The narrowest type that every non-empty cell fits (markers fit numbers and dates)."""
        numbers = self._count - self._empty - self._markers - self._censored
        return self.resolve_type(censored=self._censored, numbers=numbers)

    def resolve_type(self, *, censored: int, numbers: int) -> str:
        """The type, given how many cells are censored and how many are numbers (readers that
        observe each distinct value once count cells themselves).

        Censored values keep a column numeric when numbers outnumber them and nothing but
        numbers, markers and blanks is beside them; otherwise they are text as written.
        """
        result = self._type_of_the_rest()
        if censored and not (result in NUMBER_TYPES and numbers > censored):
            return TEXT
        return result

    def _type_of_the_rest(self) -> str:
        if self._has_words:
            return TEXT
        flags = {
            NUMERIC: self._has_decimal,
            DATE: self._has_day,
            TIMESTAMP: self._has_moment,
            BOOLEAN: self._has_bool,
        }
        seen = [integer_type_for(self._low, self._high)] if self._high != -math.inf else []
        seen += [pg_type for pg_type, flag in flags.items() if flag]
        if not seen:
            return NUMERIC if self._markers else TEXT
        if self._markers and seen == [BOOLEAN]:
            return TEXT  # a "yes/no/-" column: the dash is an answer, keep it as written
        result = seen[0]
        for pg_type in seen[1:]:
            result = widen(result, pg_type)
        return result

    @property
    def count(self) -> int:
        """Cells observed."""
        return self._count

    @property
    def only_numbers(self) -> bool:
        """No words, dates or booleans (so far): the column can still be numeric."""
        return not (self._has_words or self._has_day or self._has_moment or self._has_bool)

    @property
    def has_plain_numbers(self) -> bool:
        """Some number was written without a % sign."""
        return self._high != -math.inf or self._has_plain_decimal

    @property
    def holds_numbers(self) -> bool:
        """Whether some cell is a number (censored ones aside)."""
        return self._high != -math.inf or self._has_decimal

    def markers_are_null(self, pg_type: str) -> bool:
        """Markers load as NULL in every column holding numbers or dates; in a text column
        without numbers ("RBD", "X", "00L") they are values as written."""
        return pg_type != TEXT or self.holds_numbers

    @property
    def suppressed_count(self) -> int:
        """Marker cells that will load as NULL."""
        return self._markers if self.markers_are_null(self.pg_type) else 0

    @property
    def censored_count(self) -> int:
        """Censored cells that load as NULL, their text kept aside (none in a text column)."""
        return 0 if self.pg_type == TEXT else self._censored

    @property
    def null_count(self) -> int:
        """Cells that will load as NULL: empty cells plus suppressed and censored ones."""
        return self._empty + self.suppressed_count + self.censored_count

    @property
    def non_null_count(self) -> int:
        """Cells that will load as a value."""
        return self._count - self.null_count

    @property
    def is_fully_suppressed(self) -> bool:
        """True when markers are the only values: the statistic was withheld throughout."""
        return self._markers > 0 and self._markers + self._empty == self._count

    @property
    def has_percent_sign(self) -> bool:
        """True when some numbers were written as percentages (``67.30%`` loads as 0.6730)."""
        return self._has_percent

    @property
    def mixes_percent_and_plain(self) -> bool:
        """Numbers written as percentages (``50%``, stored as 0.5) beside plain ones (``0.125``,
        ``7``, stored as written): maybe two scales in one column."""
        return self._has_percent and self.has_plain_numbers and not self._has_words

    def note_numbers(self, *, percent: bool, plain: bool) -> None:
        """What a vectorised reader saw: numbers with a ``%`` sign, and numbers without."""
        self._has_percent = self._has_percent or percent
        self._has_plain_decimal = self._has_plain_decimal or plain

    def __repr__(self) -> str:
        return (
            f"ColumnProfile(pg_type={self.pg_type!r}, count={self._count}, "
            f"null_count={self.null_count}, suppressed_count={self.suppressed_count})"
        )
