"""``_level`` on the CSV fast path: ``row_levels`` applied to Arrow batches, once per class.

A batch's plan columns are dictionary-encoded and their indices combined into one key per row,
so the rules (``LevelPlan.classify``, the very function the Python path calls) run once per
distinct combination of values, not once per row: a file of 200 providers over 36 months
classifies 200 keys per batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from datawarp.pipeline.extract.level_rules import NATIONAL
from datawarp.pipeline.extract.row_levels import Class, LevelDecision, LevelPlan, LevelTracker

_KEY_ROOM = 1 << 62  # combined keys stay within int64


def encode(column: pa.Array) -> pa.DictionaryArray:
    """A batch's column dictionary-encoded as the levels (and the totals rule) read it."""
    return pc.dictionary_encode(column, null_encoding="encode")


def batch_classes(
    plan: LevelPlan, columns: Sequence[pa.Array], encoded_columns: dict[int, pa.Array] | None = None
) -> tuple[pa.Array, list[Class]]:
    """(for each row an index into the classes, the batch's distinct classes).
    ``encoded_columns``: columns the caller has already put through ``encode``, by position."""
    arrays = [columns[position] for position in plan.positions]
    known = encoded_columns or {}
    encoded = [
        known[position] if position in known else encode(array)
        for position, array in zip(plan.positions, arrays, strict=True)
    ]
    dictionaries = [array.dictionary.to_pylist() for array in encoded]
    key, strides, room = None, [], 1
    for array, dictionary in zip(encoded, dictionaries, strict=True):
        strides.append(room)
        part = pc.multiply(pc.cast(array.indices, pa.int64()), pa.scalar(room, pa.int64()))
        key = part if key is None else pc.add(key, part)
        room *= max(len(dictionary), 1)
        if room > _KEY_ROOM:
            return _python_classes(plan, arrays)
    distinct = pc.unique(key)
    rows = pc.index_in(key, value_set=distinct)
    sizes = [max(len(dictionary), 1) for dictionary in dictionaries]
    keys = [
        tuple(
            dictionary[(value // stride) % size]
            for dictionary, stride, size in zip(dictionaries, strides, sizes, strict=True)
        )
        for value in distinct.to_pylist()
    ]
    return rows, [plan.classify(one) for one in keys]


def _python_classes(plan: LevelPlan, arrays: list[pa.Array]) -> tuple[pa.Array, list[Class]]:
    """The rare batch with too many distinct values to combine: keys made in Python."""
    found: dict[tuple, int] = {}
    keys = zip(*(array.to_pylist() for array in arrays), strict=True)
    rows = [found.setdefault(key, len(found)) for key in keys]
    return pa.array(rows, pa.int32()), [plan.classify(key) for key in found]


def observe(
    tracker: LevelTracker,
    columns: Sequence[pa.Array],
    first_row: int,
    encoded_columns: dict[int, pa.Array] | None = None,
) -> tuple[pa.Array, list[Class]]:
    """Pass 1: count a batch's classes, and remember the rows placed national by their values;
    the batch's classes (``batch_classes``), which ``level_array`` can take again."""
    rows, classes = batch_classes(tracker.plan, columns, encoded_columns)
    counts = pc.value_counts(rows)
    for index, count in zip(
        counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
    ):
        tracker.classes[classes[index]] += count
    national = [index for index, found in enumerate(classes) if found[0] == NATIONAL]
    if national:
        hits = pc.indices_nonzero(pc.is_in(rows, value_set=pa.array(national, rows.type)))
        tracker.national_rows.extend(number + first_row for number in hits.to_pylist())
    return rows, classes


def level_array(
    decision: LevelDecision | None,
    columns: Sequence[pa.Array],
    count: int,
    found: tuple[pa.Array, list[Class]] | None = None,
) -> pa.Array:
    """Pass 2: the ``_level`` column of a batch (all NULL unless the file mixes levels);
    ``found``: the batch's classes, if pass 1 has just made them (``observe``)."""
    if decision is None or not decision.mixed:
        return pa.nulls(count, pa.string())
    rows, classes = found or batch_classes(decision.plan, columns)
    levels = pa.array([decision.level(one) for one in classes], pa.string())
    return pc.take(levels, rows)
