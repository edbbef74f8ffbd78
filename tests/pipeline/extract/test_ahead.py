"""Work done on a thread ahead of its caller (``extract/ahead.py``)."""

from __future__ import annotations

import pytest

from datawarp.pipeline.extract.ahead import in_thread


def test_every_item_arrives_in_order_none_included():
    items = [1, None, 2, None]

    def made():
        yield from items

    assert list(in_thread(made, "test-ahead", ahead=1)) == items


def test_a_failure_on_the_thread_is_raised_to_the_caller_after_the_items_before_it():
    def failing():
        yield "first"
        raise ValueError("bad row")

    received = []
    with pytest.raises(ValueError, match="bad row"):
        for item in in_thread(failing, "test-ahead", ahead=2):
            received.append(item)
    assert received == ["first"]
