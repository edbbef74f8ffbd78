"""The inline SVG charts: well-formed, accessible, exact in their titles, escaped, self-contained."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawarp.ops import charts
from datawarp.ops.charts import Series
from datawarp.ops.formatting import format_bytes

HOSTILE = '<b onload="x()">R&D\'s</b>'
# Characters XML can carry (browsers read HTML more leniently; XML parsing is the stricter proof).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "svg" and root.get("role") == "img"
    assert root[0].tag == "title"  # what a screen reader announces first
    return root


def _titles(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("title")]


def _self_contained(svg: str) -> None:
    lowered = svg.lower()
    for forbidden in ("<script", "http:", "https:", "href", "@import", "url(", "<image"):
        assert forbidden not in lowered


def _daily() -> tuple[list[str], list[Series]]:
    labels = ["09-28", "09-29", "09-30"]
    return labels, [
        Series("completed", [3, 0, 2], charts.COMPLETED),
        Series("failed", [1, 0, 0], charts.FAILED),
        Series("rolled back", [0, 0, 1], charts.ROLLED_BACK),
    ]


def test_stacked_bars_draw_one_rect_per_figure_with_its_exact_title():
    labels, series = _daily()
    svg = charts.stacked_bar_chart("Loads per day by status", labels, series)

    root = _parse(svg)
    _self_contained(svg)
    assert _titles(root)[0] == "Loads per day by status"
    bars = [r for r in root.iter("rect") if r.find("title") is not None]
    assert sorted(_titles(r)[0] for r in bars) == [
        "09-28: 1 failed", "09-28: 3 completed", "09-30: 1 rolled back", "09-30: 2 completed",
    ]  # fmt: skip
    assert {r.get("fill") for r in bars} == {charts.COMPLETED, charts.FAILED, charts.ROLLED_BACK}
    heights = {_titles(r)[0]: float(r.get("height")) for r in bars}
    assert heights["09-28: 3 completed"] == pytest.approx(3 * heights["09-28: 1 failed"], 0.01)
    assert [t.text for t in root.iter("text") if t.text in labels] == labels


def test_stacked_bars_with_nothing_to_draw_say_so():
    svg = charts.stacked_bar_chart("Loads", ["09-30"], [Series("completed", [0], "#000")],
                                   empty_message="No loads in this window")  # fmt: skip
    root = _parse(svg)
    assert "No loads in this window" in "".join(root.itertext())
    assert root.find("rect") is None


def test_horizontal_bars_escape_labels_and_mark_highlighted_ones():
    items = [(HOSTILE, 2048.0), ("ae", 1024.0), ("tiny", 0.0)]
    svg = charts.horizontal_bar_chart("Table sizes", items, value_format=format_bytes,
                                      highlight={"ae"})  # fmt: skip

    assert "<b " not in svg and "&lt;b onload=&quot;x()&quot;&gt;R&amp;D&#x27;s&lt;/b&gt;" in svg
    root = _parse(svg)
    _self_contained(svg)
    bars = [r for r in root.iter("rect")]
    assert [_titles(r)[0] for r in bars] == [f"{HOSTILE}: 2.0 kB", "ae: 1.0 kB", "tiny: 0 bytes"]
    assert [r.get("fill") for r in bars] == [charts.BAR, charts.HIGHLIGHT, charts.BAR]
    widths = [float(r.get("width")) for r in bars]
    assert widths[0] == pytest.approx(2 * widths[1], 0.01) and widths[2] == 0


def test_long_labels_are_shortened_but_their_title_is_whole():
    label = "a_very_long_source_code_of_forty_one_chars"
    root = _parse(charts.horizontal_bar_chart("Durations", [(label, 3.5)]))
    shown = [t for t in root.iter("text") if t.find("title") is not None]
    assert shown[0].text.endswith("…") and len(shown[0].text) < len(label)
    assert _titles(shown[0]) == [label]


def test_line_chart_has_a_point_per_value_and_the_extremes_on_its_axis():
    points = [("2025-09-01", 100), ("2025-09-08", 250), ("2025-09-15", 175)]
    svg = charts.line_chart("Rows in staging", points)

    root = _parse(svg)
    _self_contained(svg)
    (line,) = root.iter("polyline")
    assert len(line.get("points").split()) == 3
    assert [_titles(c)[0] for c in root.iter("circle")] == [
        "2025-09-01: 100", "2025-09-08: 250", "2025-09-15: 175",
    ]  # fmt: skip
    texts = [t.text for t in root.iter("text")]
    assert {"100", "250", "2025-09-01", "2025-09-15"} <= set(texts)


def test_a_single_point_and_no_points():
    assert len(list(_parse(charts.line_chart("Rows", [("today", 7)])).iter("circle"))) == 1
    assert "Nothing in this window" in charts.line_chart("Rows", [])


def test_sparkline_is_small_and_captionless_with_its_figures_in_the_title():
    svg = charts.sparkline("Rows of ae: 10 → 30", [10, 20, 30])
    root = _parse(svg)
    assert root.get("width") == "120" and root.find("text") is None
    assert _titles(root) == ["Rows of ae: 10 → 30"]
    points = [tuple(map(float, p.split(","))) for p in root.find("polyline").get("points").split()]
    assert points[0][1] > points[-1][1]  # growing: the line rises (SVG's y grows downwards)


def test_figures_that_are_not_numbers_do_not_break_a_chart():
    items = [("a", float("nan")), ("b", float("inf")), ("c", 2.0)]
    for svg in (charts.horizontal_bar_chart("Odd", items), charts.line_chart("Odd", items)):
        for element in _parse(svg).iter():
            for name in ("x", "y", "width", "height", "cx", "cy"):
                if element.get(name) is not None:
                    assert math.isfinite(float(element.get(name)))


@given(label=TEXT, title=TEXT)
def test_any_label_survives_as_text(label, title):
    for svg in (
        charts.horizontal_bar_chart(title, [(label, 1.0)]),
        charts.stacked_bar_chart(title, [label], [Series(label, [1], "#000")]),
        charts.line_chart(title, [(label, 1.0), (label, 2.0)]),
        charts.sparkline(title, [1, 2]),
    ):
        root = _parse(svg)
        assert _titles(root)[0] == title
        assert all(t == title or t.startswith(label) for t in _titles(root))
