"""Rendering helpers shared by the commands: JSON for scripts, rich tables for people."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)  # our own colours only; no guessing at numbers


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def print_json(data: Any) -> None:
    """Plain stdout (no rich wrapping or colour) so ``| jq`` always works."""
    sys.stdout.write(json.dumps(data, default=_json_default, indent=2, ensure_ascii=False) + "\n")


def print_result(result: Any, json_output: bool, line: Callable[[Any], str]) -> None:
    """A command's result: JSON for scripts, else the one line ``line`` makes of it."""
    if json_output:
        print_json(result)
    else:
        console.print(line(result))


def local_time(value: datetime | None) -> str:
    """Timestamps are stored in UTC; people read them in their own time zone."""
    if value is None:
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def listing(title: str, *columns: str) -> Table:
    """A table with one header per column, as every list command prints."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


def field_table(title: str) -> Table:
    """A two-column field/value table, as every show command prints."""
    table = Table(show_header=False, title=title)
    table.add_column("field", style="bold")
    table.add_column("value")
    return table
