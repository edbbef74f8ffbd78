"""Decimal text as PostgreSQL's binary numeric: the value and the scale ``numeric_in`` gives.

``numeric_binary`` (a column at a time) and ``numeric_bytes`` (one value, through Decimal)
are checked against a decoder of ``numeric_send``'s layout, and both against PostgreSQL
itself: what a binary COPY stores must read back as the text COPY's value, digit for digit.
"""

from __future__ import annotations

import struct
from decimal import Decimal, localcontext

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from datawarp.catalog.pg_numeric import _encoded, numeric_binary, numeric_bytes

AWKWARD = [
    "0", "12", "1200.50", "0.6730", "-0.5", "-1234567.891", "0.002", "1.5e3", "2E-3", "+5",
    None, "-0", "99999999999999999999.123456789", "NaN", "Infinity", "-Infinity", "0.00010",
    "10000", "123456789012345678", "1.234e1", "1.50e3", "-0.0", "5.", "0000.1000",
]  # fmt: skip


def _decoded(data: bytes) -> tuple[Decimal, int]:
    """The value and display scale a ``numeric_send`` layout holds."""
    count, weight, sign, scale = struct.unpack(">hhHH", data[:8])
    digits = struct.unpack(f">{count}H", data[8:])
    assert len(data) == 8 + 2 * count and all(0 <= digit < 10_000 for digit in digits)
    if sign in (0xC000, 0xD000, 0xF000):
        return {0xC000: Decimal("NaN"), 0xD000: Decimal("Infinity")}.get(
            sign, Decimal("-Infinity")
        ), scale
    with localcontext() as exact:
        exact.prec = 1000  # the sum of the groups, every digit kept
        value = sum(Decimal(d) * Decimal(10_000) ** (weight - i) for i, d in enumerate(digits))
        return (-value if sign == 0x4000 else value), scale


def _expected(text: str) -> tuple[Decimal, int]:
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    return value, max(0, -exponent) if isinstance(exponent, int) else 0


def _same(got: tuple[Decimal, int], want: tuple[Decimal, int]) -> bool:
    if want[0].is_nan():
        return got[0].is_nan()
    return got[0] == want[0] and got[1] == want[1]


decimals = st.builds(
    lambda minus, whole, fraction: f"{minus}{whole}{fraction}",
    st.sampled_from(["", "-"]),
    st.from_regex(r"[0-9]{1,25}", fullmatch=True),
    st.one_of(st.just(""), st.from_regex(r"\.[0-9]{0,20}", fullmatch=True)),
)
exponents = st.builds(
    lambda number, exponent: f"{number}e{exponent}", decimals, st.integers(-30, 30)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(decimals, exponents, st.none()), min_size=1, max_size=40))
def test_each_value_keeps_its_digits_and_scale(texts):
    encoded = numeric_binary(pa.array(texts, pa.string())).to_pylist()
    for text, data in zip(texts, encoded, strict=True):
        if text is None:
            assert data is None
            continue
        assert _same(_decoded(data), _expected(text)), text
        assert _same(_decoded(numeric_bytes(text)), _expected(text)), text


def test_a_slice_is_encoded_from_its_own_offset():
    texts = ["1.5", "-20", "0.25", None, "7"]
    whole = numeric_binary(pa.array(texts, pa.string())).to_pylist()
    assert numeric_binary(pa.array(texts, pa.string()).slice(2)).to_pylist()[0] is not None
    assert [_decoded(d) if d else None for d in whole[2:]] == [
        _decoded(d) if d else None for d in numeric_binary(pa.array(texts[2:])).to_pylist()
    ]


def _copy_binary(conn, values: list[bytes | None]) -> list[str | None]:
    conn.execute("CREATE TEMP TABLE numbers (i int, v numeric) ON COMMIT DROP")
    rows = b"".join(
        struct.pack(">hii", 2, 4, i)
        + (struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v)
        for i, v in enumerate(values)
    )
    header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    with conn.cursor().copy("COPY numbers (i, v) FROM STDIN (FORMAT binary)") as copy:
        copy.write(header + rows + b"\xff\xff")
    return [row[0] for row in conn.execute("SELECT v::text FROM numbers ORDER BY i")]


def test_postgresql_reads_what_its_own_text_input_reads(conn):
    want = [
        row[0]
        for row in conn.execute(
            "SELECT v::numeric::text FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i",
            (AWKWARD,),
        )
    ]
    assert _copy_binary(conn, numeric_binary(pa.array(AWKWARD, pa.string())).to_pylist()) == want
    conn.rollback()
    assert _copy_binary(conn, [v and numeric_bytes(v) for v in AWKWARD]) == want


def test_a_column_that_repeats_its_values_encodes_each_once_to_the_same_bytes():
    texts = AWKWARD * 60  # 1,440 values, 24 of them distinct: encoded through the dictionary
    column = pa.array(texts, pa.string())
    encoded = numeric_binary(column)
    assert encoded.equals(_encoded(column))  # value by value, the same bytes
    for text, data in zip(texts, encoded.to_pylist(), strict=True):
        assert data is None if text is None else _same(_decoded(data), _expected(text)), text
