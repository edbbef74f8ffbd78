"""A digest of Arrow values in row order, the same however the rows are cut into batches.

An archive is verified by reading its Parquet file back and comparing this digest of the values
read with the digest of the values the table's COPY produced on the way in (``parquet_export``).
Each column feeds three streams, so batch boundaries cannot change the result: the positions of
its NULLs, its values as fixed-width bytes (NULL slots as zeros), and for strings the value
lengths and the bytes. Equal values give equal bytes because both sides hold the same Arrow
types; -0.0 and 0.0 differ, as they do in the file.

Each stream is summed by CRC-32, the check Parquet, ZIP and gzip use against accidental change:
a wrong value, a lost or moved row, a truncated column. It is not a defence against someone
editing the file on purpose; the file's SHA-256, recorded with it, is. CRC-32 runs at memory
speed, outside the GIL, which halves the verification's cost against SHA-256 (measured).
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULLS, VALUES, LENGTHS = range(3)


class ValueDigest:
    """Feed batches in file order with ``add``; ``hexdigest`` names the whole sequence."""

    def __init__(self, schema: pa.Schema):
        self.types = list(schema.types)
        self.rows = 0
        self._crcs = [[0, 0, 0] for _ in schema]

    def add(self, columns: list[pa.Array]) -> None:
        """One batch's columns, in schema order (extra trailing columns are not part of it)."""
        for column, kind, crcs in zip(columns, self.types, self._crcs, strict=False):
            if column.type != kind:
                raise ValueError(f"column of type {column.type} where {kind} was written")
            nulls = None
            if column.null_count:
                nulls = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
                crcs[NULLS] = zlib.crc32((nulls + self.rows).astype("<i8"), crcs[NULLS])
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                _add_strings(column, nulls, crcs)
            else:
                crcs[VALUES] = zlib.crc32(_fixed_width_bytes(column, nulls), crcs[VALUES])
        self.rows += len(columns[0]) if columns else 0

    def hexdigest(self) -> str:
        packed = np.array(self._crcs, dtype="<u4").tobytes()
        return hashlib.sha256(packed + self.rows.to_bytes(8, "little")).hexdigest()


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


def _string_offsets(column: pa.Array) -> tuple[np.ndarray, pa.Buffer | None]:
    kind = np.int64 if pa.types.is_large_string(column.type) else np.int32
    _, offsets, data = column.buffers()
    start = column.offset * np.dtype(kind).itemsize
    return np.frombuffer(offsets, dtype=kind, count=len(column) + 1, offset=start), data


def _add_strings(column: pa.Array, nulls: np.ndarray | None, crcs: list[int]) -> None:
    offsets, data = _string_offsets(column)
    lengths = np.diff(offsets)
    if nulls is not None and lengths[nulls].any():  # Arrow allows bytes behind a NULL: drop them
        offsets, data = _string_offsets(pc.fill_null(column, pa.scalar("", column.type)))
        lengths = np.diff(offsets)
    crcs[LENGTHS] = zlib.crc32(lengths.astype("<i8"), crcs[LENGTHS])
    if data is not None and len(column):
        values = memoryview(data)[int(offsets[0]) : int(offsets[-1])]
        crcs[VALUES] = zlib.crc32(values, crcs[VALUES])
