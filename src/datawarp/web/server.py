"""Running the dashboard: a socket bound first (a clear error when the port is taken), then
uvicorn serving the application on it until Ctrl+C."""

from __future__ import annotations

import errno
import ipaddress
import socket

import uvicorn
from starlette.applications import Starlette

from datawarp.core.errors import BadInputError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one), or a one-line error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise BadInputError(
            f"Cannot listen on {host}:{port}: unknown host ({exc.strerror})"
        ) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = "the port is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise BadInputError(f"Cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server(app: Starlette) -> uvicorn.Server:
    """A uvicorn server for ``app``: ``run(sockets=[...])`` it; ``should_exit`` stops it."""
    return uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=True, lifespan="on"))


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve on ``sock`` until interrupted (Ctrl+C, SIGTERM)."""
    try:
        server(app).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully, then re-raises the Ctrl+C it caught: a normal stop.
        return
