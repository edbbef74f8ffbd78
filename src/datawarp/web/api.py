"""The JSON API under ``/api/``: the same reads as the pages, the figures unrounded by layout."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from datawarp.ops.monitoring import DASHBOARDS
from datawarp.web import data


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


class CatalogJSON(JSONResponse):
    """JSON of catalog rows: times in ISO 8601, numerics as numbers, records as objects."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_default, ensure_ascii=False).encode("utf-8")


def dashboards(request: Request) -> CatalogJSON:
    return CatalogJSON({"dashboards": list(DASHBOARDS)})


def dashboard(request: Request) -> CatalogJSON:
    board, _ = data.one_dashboard(request, request.path_params["name"])
    return CatalogJSON(board)


def panel(request: Request) -> CatalogJSON:
    board, _ = data.one_dashboard(request, request.path_params["name"])
    return CatalogJSON(data.one_panel(board, request.path_params["panel"]))


def sources(request: Request) -> CatalogJSON:
    return CatalogJSON({"sources": data.sources(request)})


def source(request: Request) -> CatalogJSON:
    return CatalogJSON(data.source(request, request.path_params["code"]))


def alerts(request: Request) -> CatalogJSON:
    return CatalogJSON(data.alerts(request))


def scorecard(request: Request) -> CatalogJSON:
    return CatalogJSON(data.scorecard(request).to_dict())


def problem(status_code: int, message: str) -> CatalogJSON:
    return CatalogJSON({"error": message, "status": status_code}, status_code=status_code)
