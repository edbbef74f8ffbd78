"""What the pages and the JSON API read: one place, so a page and its ``/api`` twin agree.

Every read goes through ``reading``: a pooled, read-only connection, and a catalog that is
current (the same refusal, word for word, as the reading commands of the CLI).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datawarp.catalog import registry, report_queries
from datawarp.catalog.alerts import list_alerts
from datawarp.catalog.database import require_current
from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.ops.monitoring import DASHBOARDS, Dashboard, dashboard
from datawarp.ops.presentation import DashboardView, dashboard_view
from datawarp.ops.report import window_dashboards
from datawarp.ops.scorecard import Scorecard
from datawarp.ops.scorecard import scorecard as measure

if TYPE_CHECKING:
    import psycopg
    from jinja2 import Environment
    from starlette.requests import Request

    from datawarp.catalog.pool import ReadPool
    from datawarp.core.clock import Clock
    from datawarp.core.settings import Settings


@dataclass(frozen=True)
class Site:
    """What every request needs; kept on ``app.state.site``."""

    pool: ReadPool
    settings: Settings
    templates: Environment
    clock: Clock


def site(request: Request) -> Site:
    return request.app.state.site


@contextmanager
def reading(pool: ReadPool) -> Iterator[psycopg.Connection]:
    with pool.connection() as conn:
        require_current(conn)
        yield conn


def days_param(request: Request) -> int | None:
    """``?days=N``: the dashboard's window (freshness: its staleness threshold)."""
    given = request.query_params.get("days")
    if given in (None, ""):
        return None
    if not given.isdigit() or not 1 <= int(given) <= 3650:
        raise BadInputError(f"Invalid days {given!r}: use a whole number from 1 to 3650")
    return int(given)


def one_dashboard(request: Request, name: str) -> tuple[Dashboard, DashboardView]:
    if name not in DASHBOARDS:
        raise NotFoundError(f"No dashboard {name!r}: DataWarp has {', '.join(DASHBOARDS)}")
    s = site(request)
    with reading(s.pool) as conn:
        board = dashboard(
            conn, name, s.settings.monitoring, days=days_param(request), clock=s.clock
        )
        history = (
            report_queries.row_history(conn, board.as_of, board.days) if name == "storage" else []
        )
    return board, dashboard_view(board, history)


def one_panel(board: Dashboard, panel: str) -> list[dict[str, Any]]:
    if panel not in board.panels:
        raise NotFoundError(
            f"No panel {panel!r} on the {board.title} dashboard: it has {', '.join(board.panels)}"
        )
    return board.panels[panel]


def overview(request: Request) -> dict[str, Any]:
    """The index: each dashboard's headline, open alerts by severity, the sources' count."""
    s = site(request)
    with reading(s.pool) as conn:
        boards = window_dashboards(conn, s.settings, None, s.clock)
        alerts = report_queries.open_alerts_by_severity(conn)
        sources = len(registry.list_sources(conn))
    return {"dashboards": boards, "open_alerts": alerts, "sources": sources}


def sources(request: Request) -> list[dict[str, Any]]:
    """Every registered source with its freshness (archived ones have none)."""
    s = site(request)
    with reading(s.pool) as conn:
        records = registry.list_sources(conn)
        fresh = dashboard(conn, "freshness", s.settings.monitoring, clock=s.clock)
    by_code = {r["source_code"]: r for r in fresh.panels["sources"]}
    return [
        {
            "source_code": r.source_code,
            "publication": r.publication,
            "domain": r.domain,
            "owner": r.owner,
            "status": r.status,
            "last_loaded_at": by_code.get(r.source_code, {}).get("last_loaded_at"),
            "days_since_load": by_code.get(r.source_code, {}).get("days_since_load"),
            "stale": by_code.get(r.source_code, {}).get("stale"),
        }
        for r in records
    ]


def source(request: Request, code: str) -> dict[str, Any]:
    """One source: its record and freshness, recent loads, gate results, changes, alerts."""
    s = site(request)
    with reading(s.pool) as conn:
        record = registry.get_source(conn, code)  # NotFoundError: the page is a 404
        fresh = dashboard(conn, "freshness", s.settings.monitoring, clock=s.clock)
        return {
            "source": record,
            "freshness": next(
                (r for r in fresh.panels["sources"] if r["source_code"] == code), None
            ),
            "loads": report_queries.source_loads(conn, code),
            "validation": report_queries.source_validation(conn, code),
            "schema_changes": report_queries.source_schema_changes(conn, code),
            "alerts": list_alerts(conn, source_code=code, limit=50),
            "columns": report_queries.source_columns(conn, code),
        }


def alerts(request: Request) -> dict[str, Any]:
    """Open and acknowledged alerts; ``?all=true`` adds the resolved ones."""
    everything = request.query_params.get("all", "").lower() in ("1", "true", "yes")
    with reading(site(request).pool) as conn:
        shown = list_alerts(conn, open_only=not everything)
    return {"alerts": shown, "open": sum(a.status != "resolved" for a in shown)}


def scorecard(request: Request) -> Scorecard:
    s = site(request)
    with reading(s.pool) as conn:
        return measure(conn, s.settings.monitoring, clock=s.clock)
