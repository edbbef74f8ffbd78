"""Decimal text as PostgreSQL's binary ``numeric``, for ``COPY ... (FORMAT binary)``.

The extract step hands numeric columns over as the text of the value (any precision, each
value with its own scale: '1200.50' keeps its two places, '12' none), which a text COPY would
have the server parse. The binary COPY wants ``numeric_send``'s layout instead: four int16s
(digit count, weight, sign, display scale) then the digits in base 10,000, every int16 big
endian. PostgreSQL strips leading and trailing zero digits itself (``make_result``), so a
value may carry zero groups; the display scale is the number of digits written after the
point, exactly as ``numeric_in`` sets it.

Plain decimals (``-?digits[.digits]``, nearly every value) are encoded a whole column at a
time with Arrow kernels: the integer parts are left-padded and the fractions right-padded to
whole groups of four, cut into groups, laid side by side a row at a time (``take``) and
byte-swapped. Anything else (an exponent, a '+'
sign, digits enough for more than ``MAX_GROUPS`` groups) goes through ``Decimal``, one value
at a time.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

_POSITIVE, _NEGATIVE = 0x0000, 0x4000
_PLAIN = r"^(?P<minus>-?)(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]*))?$"
_U16 = pa.uint16()
_BYTE = pa.scalar(8, _U16)
MAX_GROUPS = 64  # a batch whose plain values need more digit groups goes through Decimal
_REPEATS_FROM, _REPEATS = 1024, 4  # columns this long whose values repeat 4 times on average


def numeric_binary(text: pa.Array) -> pa.Array:
    """Each value's ``numeric_send`` bytes (binary); NULL stays NULL. A column that repeats
    its values (percentages, rates: most) has each distinct value encoded once."""
    if len(text) >= _REPEATS_FROM:
        distinct = pc.dictionary_encode(text)
        if len(distinct.dictionary) * _REPEATS <= len(text):
            return pc.take(_encoded(distinct.dictionary), distinct.indices)
    return _encoded(text)


def _encoded(text: pa.Array) -> pa.Array:
    parts = pc.extract_regex(text, _PLAIN)
    encoded = _plain(parts)
    if encoded is None:  # no plain value, or one too long for a column at a time
        encoded, odd = pa.nulls(len(text), pa.binary()), pc.is_valid(text)
    else:
        odd = pc.and_(pc.is_valid(text), pc.is_null(parts))
    if pc.any(odd).as_py():
        values = pc.filter(text, odd).to_pylist()
        encoded = pc.replace_with_mask(
            encoded, odd, pa.array([numeric_bytes(value) for value in values], pa.binary())
        )
    return encoded


def _plain(parts: pa.StructArray) -> pa.Array | None:
    if parts.null_count == len(parts):
        return None
    whole, fraction = pc.struct_field(parts, "whole"), pc.struct_field(parts, "fraction")
    whole_groups = _groups(pc.max(pc.binary_length(whole)).as_py() or 1)
    fraction_groups = _groups(pc.max(pc.binary_length(fraction)).as_py() or 0)
    if whole_groups + fraction_groups > MAX_GROUPS:
        return None
    digits = pc.binary_join_element_wise(
        pc.utf8_lpad(whole, width=4 * whole_groups, padding="0"),
        pc.utf8_rpad(fraction, width=4 * fraction_groups, padding="0"),
        "",
    )
    count = len(parts)
    negative = pc.equal(pc.struct_field(parts, "minus"), "-")
    fields = [
        pa.repeat(pa.scalar(whole_groups + fraction_groups, _U16), count),  # ndigits
        pa.repeat(pa.scalar(whole_groups - 1, _U16), count),  # weight of the first group
        pc.if_else(negative, pa.scalar(_NEGATIVE, _U16), pa.scalar(_POSITIVE, _U16)),
        pc.cast(pc.binary_length(fraction), _U16),  # display scale: the digits written
        *(
            pc.cast(pc.utf8_slice_codeunits(digits, 4 * group, 4 * group + 4), _U16)
            for group in range(whole_groups + fraction_groups)
        ),
    ]
    return pc.cast(_rows_of(fields, pc.is_valid(parts)), pa.binary())


def _groups(digits: int) -> int:
    return -(-digits // 4)


def _rows_of(fields: list[pa.Array], valid: pa.Array) -> pa.Array:
    """uint16 columns side by side, each value big endian: one fixed-size value a row, NULL
    where ``valid`` is false."""
    count, width = len(valid), len(fields)
    stacked = pa.concat_arrays([pc.cast(field, _U16) for field in fields])
    rows = pc.take(stacked, _interleaving(count, width))
    swapped = pc.bit_wise_or(pc.shift_left(rows, _BYTE), pc.shift_right(rows, _BYTE))
    valid = pa.concat_arrays([pc.fill_null(valid, False)])  # its own bitmap, from bit 0
    validity = None if valid.true_count == count else valid.buffers()[1]
    return pa.Array.from_buffers(
        pa.binary(2 * width), count, [validity, swapped.buffers()[1]], offset=0
    )


_INTERLEAVING: dict[tuple[int, int], pa.Array] = {}


def _interleaving(count: int, width: int) -> pa.Array:
    """``take`` indices that lay ``width`` stacked columns of ``count`` values out as rows."""
    key = (count, width)
    if key not in _INTERLEAVING:
        if len(_INTERLEAVING) > 16:  # a few batch sizes and widths at a time
            _INTERLEAVING.clear()
        position = pa.array(range(count * width), pa.int64())
        row = pc.divide(position, width)
        field = pc.subtract(position, pc.multiply(row, width))
        _INTERLEAVING[key] = pc.add(pc.multiply(field, count), row)
    return _INTERLEAVING[key]


def numeric_bytes(text: str) -> bytes:
    """One value's ``numeric_send`` bytes, through ``Decimal`` (the reference)."""
    sign, coefficient, exponent = Decimal(text).as_tuple()
    if not isinstance(exponent, int):  # NaN, sNaN or an infinity, as numeric_in reads them
        special = 0xC000 if exponent != "F" else (0xF000 if sign else 0xD000)
        return b"".join(value.to_bytes(2, "big") for value in (0, 0, special, 0))
    written = "".join(map(str, coefficient))
    if exponent >= 0:
        whole, fraction = written + "0" * exponent, ""
    else:
        written = written.zfill(1 - exponent)
        whole, fraction = written[:exponent], written[exponent:]
    scale = len(fraction)
    whole = whole.zfill(4 * _groups(len(whole)))
    fraction = fraction.ljust(4 * _groups(scale), "0")
    joined = whole + fraction
    groups = [int(joined[i : i + 4]) for i in range(0, len(joined), 4)]
    header = [len(groups), len(whole) // 4 - 1, _NEGATIVE if sign else _POSITIVE, scale]
    return b"".join(value.to_bytes(2, "big") for value in [*header, *groups])
