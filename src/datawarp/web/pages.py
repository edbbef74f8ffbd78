"""The HTML pages: each reads through ``web.data`` and renders a template of its own."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from datawarp.web import data


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    page = data.site(request).templates.get_template(template).render(**context)
    return HTMLResponse(page, status_code=status_code)


def index(request: Request) -> HTMLResponse:
    return render(request, "index.html", title="DataWarp overview", **data.overview(request))


def dashboard(request: Request) -> HTMLResponse:
    board, view = data.one_dashboard(request, request.path_params["name"])
    return render(request, "dashboard.html", title=board.title, view=view)


def panel(request: Request) -> HTMLResponse:
    board, view = data.one_dashboard(request, request.path_params["name"])
    name = request.path_params["panel"]
    data.one_panel(board, name)  # a 404 for a panel the dashboard does not have
    (shown,) = [p for p in view.panels if p.name == name]
    return render(request, "panel.html", title=f"{board.title}: {shown.title}",
                  view=view, panel=shown)  # fmt: skip


def sources(request: Request) -> HTMLResponse:
    return render(request, "sources.html", title="Sources", sources=data.sources(request))


def source(request: Request) -> HTMLResponse:
    detail = data.source(request, request.path_params["code"])
    return render(request, "source.html", title=f"Source {detail['source'].source_code}",
                  **detail)  # fmt: skip


def alerts(request: Request) -> HTMLResponse:
    return render(request, "alerts.html", title="Alerts", **data.alerts(request))


def scorecard(request: Request) -> HTMLResponse:
    return render(request, "scorecard.html", title="Scorecard", card=data.scorecard(request))


def problem(request: Request, status_code: int, message: str) -> HTMLResponse:
    """The error page: one line naming the problem, never a traceback."""
    titles = {404: "Not found", 400: "Bad request", 503: "Database unavailable"}
    return render(request, "error.html", status_code, message=message,
                  title=titles.get(status_code, "Something went wrong"))  # fmt: skip
