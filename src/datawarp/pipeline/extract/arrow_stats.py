"""Pass 1 of the CSV fast path for one column: ``columns.ColumnStats`` on Arrow batches.

The type comes from a real ``ColumnProfile`` fed one representative of each kind seen (and
the extreme integers), so the inference rules are the ones the Python path uses; the counts
(blanks, markers, censored values), the examples, the rows of each number form and the sizes
of numbers come from vectorised kernels, in the file's order, so they match too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.pipeline.extract.arrow_rules import (
    PERCENT_SIGN,
    blanks_among,
    markers_among,
    number_candidates,
    texts_of,
)
from datawarp.pipeline.extract.arrow_values import (
    Analysis,
    BufferFacts,
    PlainNumbers,
    analyse,
    any_true,
    count_true,
    plain_numbers,
)
from datawarp.pipeline.extract.examples import Examples
from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.scales import PERCENT_SIGN as SIGNED
from datawarp.pipeline.extract.scales import PLAIN, ScaleFacts
from datawarp.pipeline.extract.values import (
    BOOL,
    CENSORED,
    DAY,
    DECIMAL,
    EMPTY,
    INT,
    MARKER,
    MOMENT,
    TEXT,
    WORDS,
)

_NOT_INTEGER = {DECIMAL, DAY, MOMENT, BOOL, WORDS}  # with these, integer ranges do not matter
_REPRESENTATIVES: dict[int, object] = {
    EMPTY: None,
    MARKER: "*",
    DECIMAL: Decimal("0.5"),
    DAY: dt.date(2000, 1, 1),
    MOMENT: dt.datetime(2000, 1, 1, 12),
    BOOL: True,
    WORDS: "words",
    CENSORED: "<5",
}


class ArrowColumnStats:
    """``columns.ColumnStats`` for Arrow batches: same type, counts, examples and scale facts."""

    def __init__(self, *, percent_header: bool = False) -> None:
        self.profile = ColumnProfile(examples=False)
        self.examples = Examples()
        self.scale = ScaleFacts(percent_header=percent_header)
        self.cells = 0
        self._counts = {EMPTY: 0, MARKER: 0, CENSORED: 0}
        self._seen: set[int] = set()
        self._low: int | None = None
        self._high: int | None = None
        self._memo: dict[str, tuple[int, object]] = {}

    def observe(self, column: pa.Array, facts: BufferFacts, first_row: int = 0) -> None:
        """One batch's column; ``first_row`` is the row number of its first value."""
        self.cells += len(column)
        if WORDS in self._seen:
            self._observe_text(column, facts)
            return
        ranged = not self._seen & _NOT_INTEGER
        plain = plain_numbers(column, facts, extremes=ranged)
        if plain is not None:
            self._observe_plain(column, plain, ranged, first_row)
            return
        distinct = pc.unique(column)
        analysis = analyse(distinct, self._memo)
        present = analysis.present()
        for kind in present - self._seen:
            self._seen.add(kind)
            if kind != INT:  # integers are observed by their extremes
                self.profile.observe(_REPRESENTATIVES[kind])
        if INT in present:
            self._observe_range(analysis)
        for kind in (EMPTY, MARKER, CENSORED):
            if kind in present:
                values = pc.filter(distinct, analysis.where(kind))
                self._counts[kind] += count_true(pc.is_in(column, value_set=values))
        for kind in (WORDS, CENSORED):
            if kind in present:
                self._note_examples(analysis, kind)
        if present & {INT, DECIMAL}:
            self._observe_numbers(column, analysis, first_row)

    def _observe_plain(
        self, column: pa.Array, plain: PlainNumbers, ranged: bool, first_row: int
    ) -> None:
        """Every value a number without a sign, % or separator (``plain_numbers``)."""
        self.profile.note_numbers(percent=False, plain=True)
        for kind, flag in ((INT, plain.integral), (DECIMAL, plain.decimal)):
            if flag and kind not in self._seen:
                self._seen.add(kind)
                if kind == DECIMAL or not ranged:  # unranged, an integer only says "a number"
                    self.profile.observe(_REPRESENTATIVES[DECIMAL] if kind == DECIMAL else 0)
        if plain.integral and ranged and not plain.decimal:
            self._observe_extremes(0, plain.high)  # the bucket is all that matters
        scale = self.scale
        if scale.wants_rows(PLAIN) and self.profile.only_numbers:
            scale.note_rows(PLAIN, list(range(first_row, first_row + min(4, len(column)))))
        if scale.percent_header:
            scale.note_size(pc.max(pc.cast(column, pa.float64())).as_py())

    def _observe_numbers(self, column: pa.Array, analysis: Analysis, first_row: int) -> None:
        """Which numbers carry a % sign: the profile's flags, rows of each form, sizes."""
        numeric = pc.or_(analysis.where(INT), analysis.where(DECIMAL))
        signed = pc.and_(numeric, pc.match_substring_regex(analysis.values, PERCENT_SIGN))
        unsigned = pc.and_(numeric, pc.invert(signed))
        self.profile.note_numbers(percent=any_true(signed), plain=any_true(unsigned))
        scale = self.scale
        if self.profile.only_numbers:
            for form, mask in ((PLAIN, unsigned), (SIGNED, signed)):
                if scale.wants_rows(form) and any_true(mask):
                    where = pc.is_in(column, value_set=pc.filter(analysis.values, mask))
                    rows = pc.indices_nonzero(where).slice(0, 4).to_pylist()
                    scale.note_rows(form, [first_row + row for row in rows])
        if scale.percent_header and any_true(unsigned):
            for size in _sizes(analysis, unsigned):
                scale.note_size(size)

    def _observe_text(self, column: pa.Array, facts: BufferFacts) -> None:
        """A text column: blanks, markers, whether it holds numbers, its first words. Each
        rule looks at the distinct values once (in the order they first occur), each weighed
        by how often it occurs: one hash of the column instead of a kernel over every cell
        per rule (a text column repeats its codes, names and periods)."""
        counted = pc.value_counts(column)
        values, counts = counted.field("values"), counted.field("counts")
        self._counts[EMPTY] += _weighed(counts, blanks_among(values, facts))
        self._counts[MARKER] += _weighed(counts, markers_among(values, facts))
        if not self.examples.wants_words:
            if self.profile.holds_numbers:
                return
            values = number_candidates(values, facts)
        if values is None:
            return
        analysis = analyse(values, self._memo)
        present = analysis.present()
        if WORDS in present:
            self._note_examples(analysis, WORDS)
        if INT in present:
            self.profile.observe(0)
        if DECIMAL in present:
            self.profile.observe(_REPRESENTATIVES[DECIMAL])

    def _note_examples(self, analysis: Analysis, kind: int) -> None:
        examples = self.examples
        if examples.wants_words if kind == WORDS else examples.wants_censored:
            for text in texts_of(analysis, analysis.where(kind)):
                examples.add(kind, text)

    def _observe_range(self, analysis: Analysis) -> None:
        numbers = []
        if analysis.ints is not None:
            extremes = pc.min_max(analysis.ints).as_py()
            numbers += [extremes["min"], extremes["max"]]
        numbers += [value for value in analysis.parsed.values() if type(value) is int]
        numbers = [number for number in numbers if number is not None]
        if numbers:
            self._observe_extremes(min(numbers), max(numbers))

    def _observe_extremes(self, low: int, high: int) -> None:
        if self._low is None or low < self._low:
            self._low = low
            self.profile.observe(low)
        if self._high is None or high > self._high:
            self._high = high
            self.profile.observe(high)

    @property
    def pg_type(self) -> str:
        counts = self._counts
        numbers = self.cells - counts[EMPTY] - counts[MARKER] - counts[CENSORED]
        return self.profile.resolve_type(censored=counts[CENSORED], numbers=numbers)

    @property
    def suppressed_count(self) -> int:
        return self._counts[MARKER] if self.profile.markers_are_null(self.pg_type) else 0

    @property
    def censored_count(self) -> int:
        return 0 if self.pg_type == TEXT else self._counts[CENSORED]

    @property
    def null_count(self) -> int:
        return self._counts[EMPTY] + self.suppressed_count + self.censored_count

    @property
    def is_fully_suppressed(self) -> bool:
        markers, empty = self._counts[MARKER], self._counts[EMPTY]
        return markers > 0 and markers + empty == self.cells


def _sizes(analysis: Analysis, mask: pa.Array) -> list[float]:
    """The numbers ``mask`` selects as floats (as ``float(parsed)`` in the Python path)."""
    parsed = [
        float(value)  # type: ignore[arg-type]
        for position, value in analysis.parsed.items()
        if mask[position].as_py()
    ]
    vectorised = mask
    if analysis.parsed:
        python = [position in analysis.parsed for position in range(len(analysis.values))]
        vectorised = pc.and_(mask, pc.invert(pa.array(python, pa.bool_())))
    if any_true(vectorised):
        text = pc.replace_substring_regex(pc.filter(analysis.trimmed, vectorised), r"[$,+]", "")
        parsed.append(pc.max(pc.abs(pc.cast(text, pa.float64()))).as_py())
    return parsed


def _weighed(counts: pa.Array, mask: pa.Array) -> int:
    """How many cells the distinct values ``mask`` selects stand for."""
    return int(pc.sum(pc.filter(counts, mask)).as_py() or 0)
