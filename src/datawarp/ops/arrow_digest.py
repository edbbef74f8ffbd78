"""A digest of Arrow values in row order, the same however the rows are cut into batches.

An archive is verified by reading its Parquet file back and comparing this digest of the values
read with the digest of the values the table's COPY produced on the way in (``parquet_export``).
Each column feeds three streams, so batch boundaries cannot change the result: the positions of
its NULLs, its values as fixed-width bytes (NULL slots as zero), and for strings the value
lengths and the bytes. Equal values give equal bytes because both sides hold the same Arrow
types; -0.0 and 0.0 differ, as they do in the file.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_STREAMS = ("nulls", "values", "lengths")


class ValueDigest:
    """Feed batches in file order with ``add``; ``hexdigest`` names the whole sequence."""

    def __init__(self, schema: pa.Schema):
        self.types = list(schema.types)
        self.rows = 0
        self._hashes = [{s: hashlib.sha256() for s in _STREAMS} for _ in schema]

    def add(self, columns: list[pa.Array]) -> None:
        """One batch's columns, in schema order (extra trailing columns are not part of it)."""
        for column, kind, hashes in zip(columns, self.types, self._hashes, strict=False):
            if column.type != kind:
                raise ValueError(f"column of type {column.type} where {kind} was written")
            nulls = None
            if column.null_count:
                nulls = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
                hashes["nulls"].update((nulls + self.rows).astype("<i8").tobytes())
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                filled = column if nulls is None else pc.fill_null(column, pa.scalar("", kind))
                _string_bytes(filled, hashes)
            else:
                hashes["values"].update(_fixed_width_bytes(column, nulls))
        self.rows += len(columns[0]) if columns else 0

    def hexdigest(self) -> str:
        total = hashlib.sha256()
        for hashes in self._hashes:
            for stream in _STREAMS:
                total.update(hashes[stream].digest())
        return total.hexdigest()


def _fixed_width_bytes(column: pa.Array, nulls: np.ndarray | None) -> memoryview:
    """The values' bytes; NULL slots, whose bytes Arrow leaves undefined, as zeros."""
    if pa.types.is_boolean(column.type):  # bits: one byte each, free of the bit offset
        column = pc.cast(column, pa.uint8())
    width = column.type.bit_width // 8
    start = column.offset * width
    values = memoryview(column.buffers()[1])[start : start + len(column) * width]
    if nulls is None:
        return values
    rows = np.frombuffer(values, dtype=np.uint8).reshape(len(column), width).copy()
    rows[nulls] = 0
    return memoryview(rows).cast("B")


def _string_bytes(column: pa.Array, hashes: dict) -> None:
    kind = np.int64 if pa.types.is_large_string(column.type) else np.int32
    _, offsets_buffer, data = column.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=kind, count=len(column) + 1, offset=column.offset * kind().itemsize
    )
    hashes["lengths"].update(np.diff(offsets).astype("<i8").tobytes())
    if data is not None and len(column):
        hashes["values"].update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
