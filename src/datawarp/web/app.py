"""The dashboard application: routes, error pages and the headers every response carries.

Read-only by construction: only GET (and HEAD) routes, and a pool whose connections the
server itself holds read-only. Any trouble is one line on a page with the right status: 404
for an unknown page, dashboard, panel or source, 400 for a bad ``?days``, 503 when the
database is down, slow or outdated; never a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from jinja2 import PackageLoader
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datawarp.catalog.pool import PoolLimits, open_pool
from datawarp.core.clock import SYSTEM_CLOCK, Clock
from datawarp.core.errors import BadInputError, DatabaseError, DataWarpError, NotFoundError
from datawarp.ops.presentation import template_environment
from datawarp.web import api, pages
from datawarp.web.data import Site
from datawarp.web.metrics import metrics

if TYPE_CHECKING:
    from datawarp.catalog.database import Database
    from datawarp.core.settings import Settings

# Nothing but the page itself: no script, no fetched style, font or image, no framing.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline';"
     b" img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]  # fmt: skip

ROUTES = [
    Route("/", pages.index),
    Route("/dashboards/{name}", pages.dashboard),
    Route("/dashboards/{name}/panels/{panel}", pages.panel),
    Route("/sources", pages.sources),
    Route("/sources/{code}", pages.source),
    Route("/alerts", pages.alerts),
    Route("/scorecard", pages.scorecard),
    Route("/api/dashboards", api.dashboards),
    Route("/api/dashboards/{name}", api.dashboard),
    Route("/api/dashboards/{name}/panels/{panel}", api.panel),
    Route("/api/sources", api.sources),
    Route("/api/sources/{code}", api.source),
    Route("/api/alerts", api.alerts),
    Route("/api/scorecard", api.scorecard),
    Route("/metrics", metrics),
]


class SecurityHeaders:
    """Pure ASGI middleware adding ``SECURITY_HEADERS`` to every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _status_of(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, HTTPException):
        messages = {404: "No such page in this DataWarp dashboard",
                    405: "This dashboard only reads: use GET"}  # fmt: skip
        return exc.status_code, messages.get(exc.status_code, str(exc.detail))
    if isinstance(exc, NotFoundError):
        return 404, exc.message
    if isinstance(exc, BadInputError):
        return 400, exc.message
    if isinstance(exc, DatabaseError):
        return 503, exc.message
    if isinstance(exc, DataWarpError):
        return 500, exc.message
    return 500, f"Unexpected error ({type(exc).__name__}); the server log has the details"


async def problem(request: Request, exc: Exception) -> Response:
    """Every error, in the form the client asked for: a page, JSON, or text for Prometheus."""
    status, message = _status_of(exc)
    path = request.url.path
    if path.startswith("/api/"):
        return api.problem(status, message)
    if path == "/metrics":
        return PlainTextResponse(f"# {message}\n", status_code=status)
    return pages.problem(request, status, message)


def create_app(
    database: Database | str,
    settings: Settings,
    *,
    limits: PoolLimits | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Starlette:
    """The dashboard over ``database`` (a resolved ``Database`` or a URL); nothing connects
    until the first request, so the server starts even while the database is down."""
    pool = open_pool(database, limits)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        pool.close()

    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={Exception: problem, HTTPException: problem, DataWarpError: problem},
        lifespan=lifespan,
    )
    templates = template_environment(PackageLoader("datawarp.web", "templates"))
    app.state.site = Site(pool=pool, settings=settings, templates=templates, clock=clock)
    return app
