"""The fast UTF-8 / Windows-1252 decision agrees with Python's own decoder on any bytes."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawarp.pipeline.extract.utf8_scan import utf8_or_cp1252


def _reference(data: bytes) -> str:
    """The rule in one decode: UTF-8 if valid, or if valid non-ASCII UTF-8 precedes the first
    bad byte; Windows-1252 otherwise."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return "utf-8" if not data[: error.start].isascii() else "cp1252"
    return "utf-8"


def _scan(data: bytes, chunk: int) -> str:
    stream = io.BytesIO(data)
    return utf8_or_cp1252(stream.read(chunk), stream, chunk)


# Text with multi-byte characters, with bytes that are never valid UTF-8 mixed in.
_TEXT = st.text(alphabet=st.sampled_from("ab,\n£é€😀ñ"), max_size=60).map(str.encode)
_BYTES = st.lists(st.one_of(_TEXT, st.binary(max_size=6)), max_size=8).map(b"".join)


@given(data=_BYTES, chunk=st.integers(min_value=1, max_value=9))
def test_agrees_with_pythons_decoder_at_every_chunk_size(data: bytes, chunk: int) -> None:
    assert _scan(data, chunk) == _reference(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Trust,£5\n".encode() * 3, "utf-8"),
        (b"Trust,\xa35\n", "cp1252"),  # a Windows-1252 pound sign
        ("Caf\u00e9\n".encode() + b"\x96\n", "utf-8"),  # UTF-8 text, then one stray byte
        (b"a\xed\xa0\x80b", "cp1252"),  # an encoded surrogate is not UTF-8
        (b"a\xc0\xafb", "cp1252"),  # an overlong '/'
        (b"a\xf4\x90\x80\x80", "cp1252"),  # past U+10FFFF
        ("x€".encode()[:-1], "cp1252"),  # a character cut short by the end of the file
    ],
)
def test_known_cases_at_a_chunk_size_that_splits_characters(data: bytes, expected: str) -> None:
    assert _reference(data) == expected
    for chunk in (1, 2, 3, 1 << 20):
        assert _scan(data, chunk) == expected


class _CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def test_stops_reading_once_valid_utf8_text_has_decided_it():
    """Nothing after valid UTF-8 text can make the file Windows-1252 (a stray byte later is
    still UTF-8 by the rule), so a large file with an accent in its first lines is not read
    to its end; an ASCII start is read on until something decides it."""
    accented = "Café,1\n".encode() + b"a,2\n" * 1000 + b"\x96\n"
    stream = _CountingStream(accented)
    assert utf8_or_cp1252(stream.read(64), stream, 64) == "utf-8"
    assert stream.reads == 1
    ascii_start = b"a,2\n" * 1000 + b"\xa3\n"
    stream = _CountingStream(ascii_start)
    assert utf8_or_cp1252(stream.read(64), stream, 64) == "cp1252"
    assert stream.reads > len(ascii_start) // 64
