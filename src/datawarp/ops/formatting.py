"""How numbers, sizes and times read on every surface (HTML report, e-mail text, web pages).

Pure functions: the same figure must read the same in the e-mail and on the page.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

_BYTE_UNITS = ("bytes", "kB", "MB", "GB", "TB", "PB")


def format_number(value: float | int | Decimal | None) -> str:
    """Whole numbers with thousands separators; others with up to two decimals."""
    if value is None:
        return "—"
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def format_bytes(value: float | int | None) -> str:
    """Powers of 1024 with the short names people know (kB, MB, GB)."""
    if value is None:
        return "—"
    size = float(value)
    for unit in _BYTE_UNITS:
        if abs(size) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_when(value: datetime | date | None) -> str:
    """Times in UTC, as stored: a report read in another time zone still means one moment."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def format_cell(key: str, value: Any) -> str:
    """A table cell: sizes for ``*_bytes``, ``%`` for rates, yes/no for flags, a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return format_when(value)
    if isinstance(value, int | float | Decimal):
        if key.endswith("bytes"):
            return format_bytes(value)
        return format_number(value) + ("%" if key.endswith(("rate", "percent")) else "")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def heading(key: str) -> str:
    """A column name as a table heading: ``avg_seconds`` → ``Avg seconds``."""
    text = key.replace("_", " ")
    return text[:1].upper() + text[1:]


def criterion_figures(criterion: Any) -> tuple[str, str]:
    """A scorecard criterion's value and target with its unit: ``83.3 %``, ``≥ 95 %``."""
    unit = criterion.unit
    value = "—" if criterion.value is None else f"{format_number(criterion.value)} {unit}"
    target = f"{criterion.target} {unit}" if unit in ("%", "h") else criterion.target
    return value, target
