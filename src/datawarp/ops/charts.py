"""Charts as inline SVG strings: no script, no font or image to fetch, readable in an e-mail.

Each chart starts with a ``<title>`` (what a screen reader announces) and every bar or point
carries its own ``<title>`` with its exact figure (a tooltip on hover). Labels are escaped:
source codes, table names and periods come from users and files. The SVG has no ``xmlns``:
inside an HTML page it needs none, and the page then holds no external reference at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from html import escape

from datawarp.ops.formatting import format_number

COMPLETED = "#2e7d32"
FAILED = "#c62828"
ROLLED_BACK = "#ef6c00"
BAR = "#1565c0"
HIGHLIGHT = "#c62828"
_GRID = "#d0d7de"
_INK = "#24292f"

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One layer of a stacked bar chart."""

    name: str
    values: Sequence[float]
    color: str


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate: short, and never in exponent notation."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(title: str, width: int, height: int, body: list[str], *, caption: bool = True) -> str:
    """The chart's frame; with ``caption`` its title also shows above the drawing."""
    shown = ""
    if caption:
        shown = f'<text x="2" y="14" font-size="12" font-weight="600">{_e(title)}</text>'
        body = ['<g transform="translate(0 22)">', *body, "</g>"]
        height += 22
    return (
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}"'
        f' height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif"'
        f' font-size="11" fill="{_INK}"><title>{_e(title)}</title>{shown}'
        + "".join(body)
        + "</svg>"
    )


def _empty(title: str, width: int, message: str, *, caption: bool = True) -> str:
    body = [f'<text x="8" y="20" fill="#57606a">{_e(message)}</text>']
    return _svg(title, width, 30, body, caption=caption)


def _nice_ceiling(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _finite(value: float | None) -> float:
    number = float(value) if value is not None else 0.0
    return number if math.isfinite(number) else 0.0


def _legend(series: Sequence[Series], x: float) -> list[str]:
    parts = []
    for s in series:
        parts.append(f'<rect x="{_n(x)}" y="2" width="10" height="10" fill="{s.color}"/>')
        parts.append(f'<text x="{_n(x + 14)}" y="11">{_e(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return parts


def _y_axis(left: float, right: float, top: float, bottom: float, top_value: float) -> list[str]:
    parts = []
    for fraction in (0, 0.5, 1):
        y = bottom - fraction * (bottom - top)
        parts.append(f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y)}" y2="{_n(y)}"'
                     f' stroke="{_GRID}"/>')  # fmt: skip
        label = format_number(top_value * fraction)
        parts.append(f'<text x="{_n(left - 4)}" y="{_n(y + 4)}" text-anchor="end">{label}</text>')
    return parts


def stacked_bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 240,
    empty_message: str = "Nothing in this window",
) -> str:
    """Vertical bars, one per label, each stacked from ``series`` (e.g. loads per day by status)."""
    totals = [sum(_finite(s.values[i]) for s in series) for i in range(len(labels))]
    if not labels or not any(totals):
        return _empty(title, width, empty_message)
    left, right, top, bottom = 40.0, width - 8.0, 22.0, height - 22.0
    top_value = _nice_ceiling(max(totals))
    band = (right - left) / len(labels)
    bar = max(band * 0.7, 1.0)
    every = math.ceil(len(labels) / 12)  # keep the axis labels from overlapping
    body = [*_legend(series, left), *_y_axis(left, right, top, bottom, top_value)]
    for i, label in enumerate(labels):
        x = left + i * band + (band - bar) / 2
        base = bottom
        for s in series:
            value = _finite(s.values[i])
            if value <= 0:
                continue
            h = value / top_value * (bottom - top)
            base -= h
            body.append(
                f'<rect x="{_n(x)}" y="{_n(base)}" width="{_n(bar)}" height="{_n(h)}"'
                f' fill="{s.color}"><title>{_e(label)}: {format_number(value)}'
                f" {_e(s.name)}</title></rect>"
            )
        if i % every == 0:
            body.append(f'<text x="{_n(x + bar / 2)}" y="{_n(bottom + 14)}"'
                        f' text-anchor="middle">{_e(label)}</text>')  # fmt: skip
    return _svg(title, width, height, body)


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def horizontal_bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    value_format: Formatter = format_number,
    highlight: Collection[str] = (),
    width: int = 640,
    empty_message: str = "Nothing to show",
) -> str:
    """One bar per (label, value), longest first as given; ``highlight`` labels stand out."""
    if not items:
        return _empty(title, width, empty_message)
    row, label_width, value_width = 20, 170.0, 80.0
    height = row * len(items) + 8
    top_value = max(_finite(v) for _, v in items) or 1.0
    span = width - label_width - value_width
    body = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        w = max(_finite(value) / top_value * span, 1.0 if _finite(value) else 0.0)
        color = HIGHLIGHT if label in highlight else BAR
        figure = value_format(_finite(value))
        body.append(
            f'<text x="{_n(label_width - 6)}" y="{y + 14}" text-anchor="end">{_e(_short(label))}'
            f"<title>{_e(label)}</title></text>"
            f'<rect x="{_n(label_width)}" y="{y + 3}" width="{_n(w)}" height="{row - 6}"'
            f' fill="{color}"><title>{_e(label)}: {_e(figure)}</title></rect>'
            f'<text x="{_n(label_width + w + 4)}" y="{y + 14}">{_e(figure)}</text>'
        )
    return _svg(title, width, height, body)


def _scale(values: Sequence[float], low: float, high: float) -> list[float]:
    """Map values onto [high, low] (SVG's y grows downwards); a flat line sits in the middle."""
    lo, hi = min(values), max(values)
    if hi == lo:
        return [(low + high) / 2] * len(values)
    return [high - (v - lo) / (hi - lo) * (high - low) for v in values]


def line_chart(
    title: str,
    points: Sequence[tuple[str, float]],
    *,
    value_format: Formatter = format_number,
    width: int = 640,
    height: int = 200,
    empty_message: str = "Nothing in this window",
) -> str:
    """A line through (label, value) points in order, e.g. total rows after each load."""
    if not points:
        return _empty(title, width, empty_message)
    left, right, top, bottom = 70.0, width - 12.0, 12.0, height - 22.0
    values = [_finite(v) for _, v in points]
    ys = _scale(values, top, bottom)
    step = (right - left) / max(len(points) - 1, 1)
    xs = [left + i * step for i in range(len(points))] if len(points) > 1 else [(left + right) / 2]
    body = [f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(bottom)}" y2="{_n(bottom)}"'
            f' stroke="{_GRID}"/>']  # fmt: skip
    for y, value in ((min(ys), max(values)), (max(ys), min(values))):
        body.append(f'<text x="{_n(left - 6)}" y="{_n(y + 4)}" text-anchor="end">'
                    f"{_e(value_format(value))}</text>")  # fmt: skip
    path = " ".join(f"{_n(x)},{_n(y)}" for x, y in zip(xs, ys, strict=True))
    body.append(f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    for x, y, (label, value) in zip(xs, ys, points, strict=True):
        body.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{BAR}"><title>{_e(label)}:'
                    f" {_e(value_format(_finite(value)))}</title></circle>")  # fmt: skip
    for x, (label, _), anchor in ((xs[0], points[0], "start"), (xs[-1], points[-1], "end")):
        body.append(f'<text x="{_n(x)}" y="{_n(bottom + 15)}" text-anchor="{anchor}">'
                    f"{_e(label)}</text>")  # fmt: skip
    return _svg(title, width, height, body)


def sparkline(title: str, values: Sequence[float], *, width: int = 120, height: int = 24) -> str:
    """A small line without axes for a table cell; the title carries the figures."""
    numbers = [_finite(v) for v in values]
    if not numbers:
        return _empty(title, width, "—", caption=False)
    ys = _scale(numbers, 3.0, height - 3.0)
    step = (width - 6) / max(len(numbers) - 1, 1)
    xs = [3 + i * step for i in range(len(numbers))] if len(numbers) > 1 else [width / 2]
    path = " ".join(f"{_n(x)},{_n(y)}" for x, y in zip(xs, ys, strict=True))
    body = [
        f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="1.5"/>',
        f'<circle cx="{_n(xs[-1])}" cy="{_n(ys[-1])}" r="2" fill="{BAR}"/>',
    ]
    return _svg(title, width, height, body, caption=False)
