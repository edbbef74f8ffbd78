"""The value digest that verifies archive files: pure, no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from datawarp.ops.arrow_digest import ValueDigest

SCHEMA = pa.schema([("n", pa.int32()), ("s", pa.string()), ("b", pa.bool_()),
                    ("d", pa.decimal128(6, 2)), ("day", pa.date32()),
                    ("x", pa.float64())])  # fmt: skip
ROWS = st.lists(
    st.tuples(
        st.none() | st.integers(-(2**31), 2**31 - 1),
        st.none() | st.text(max_size=5),
        st.none() | st.booleans(),
        st.none() | st.decimals(-9999, 9999, places=2, allow_nan=False),
        st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1)),
        st.none() | st.floats(allow_nan=False),
    ),
    max_size=40,
)


def table_of(rows) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in SCHEMA]
    return pa.table([pa.array(list(c), f.type) for c, f in zip(columns, SCHEMA, strict=True)],
                    schema=SCHEMA)  # fmt: skip


def digest(batches) -> str:
    found = ValueDigest(SCHEMA)
    for batch in batches:
        found.add(batch.columns)
    return found.hexdigest()


@given(ROWS, st.integers(1, 7))
def test_the_digest_does_not_depend_on_batch_boundaries(rows, size):
    table = table_of(rows)
    assert digest(table.to_batches(max_chunksize=size)) == digest(table.to_batches())
    pieces = [table.slice(i, size) for i in range(0, table.num_rows, size)]  # offsets into buffers
    assert digest(b for piece in pieces for b in piece.to_batches()) == digest(table.to_batches())


@given(ROWS.filter(lambda rows: len(rows) > 1), st.data())
def test_any_changed_value_or_null_changes_the_digest(rows, data):
    table = table_of(rows)
    row = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.integers(0, len(SCHEMA) - 1))
    values = table.column(column).to_pylist()
    replacement = data.draw(ROWS.filter(bool).map(lambda r: r[0][column]))
    if replacement == values[row] or (values[row] == 0 and replacement == 0):
        return  # the same value (0.0 == -0.0 is checked below)
    values[row] = replacement
    changed = table.set_column(column, SCHEMA.field(column), pa.array(values, SCHEMA[column].type))
    assert digest(changed.to_batches()) != digest(table.to_batches())


def test_row_order_nulls_and_signed_zero_count():
    base = table_of([(1, "a", True, Decimal("1.50"), date(2025, 1, 1), 0.0),
                     (2, "", False, None, None, 1.5)])  # fmt: skip
    swapped = table_of([(2, "", False, None, None, 1.5),
                        (1, "a", True, Decimal("1.50"), date(2025, 1, 1), 0.0)])  # fmt: skip
    empty_for_null = table_of([(1, "a", True, Decimal("1.50"), date(2025, 1, 1), 0.0),
                               (2, None, False, None, None, 1.5)])  # fmt: skip
    negative_zero = table_of([(1, "a", True, Decimal("1.50"), date(2025, 1, 1), -0.0),
                              (2, "", False, None, None, 1.5)])  # fmt: skip
    found = {digest(t.to_batches()) for t in (base, swapped, empty_for_null, negative_zero)}
    assert len(found) == 4
    assert ValueDigest(SCHEMA).rows == 0


def test_bytes_arrow_keeps_behind_a_null_string_do_not_count():
    clean = pa.array(["ab", None, "c"])
    validity = clean.buffers()[0]
    offsets = pa.py_buffer(np.array([0, 2, 5, 6], dtype=np.int32).tobytes())
    hidden = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, pa.py_buffer(b"abxyzc")])
    assert hidden.to_pylist() == clean.to_pylist()
    schema = pa.schema([("s", pa.string())])
    found = []
    for array in (clean, hidden):
        digest = ValueDigest(schema)
        digest.add([array])
        found.append(digest.hexdigest())
    assert found[0] == found[1]
