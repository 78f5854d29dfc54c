"""Which ``Host`` names the server answers for (DNS rebinding).

A page on ``evil.example`` whose name the attacker points at this server (127.0.0.1 on
a laptop, an address inside a company network) is, to the browser, same-origin with
itself: it may open ``/ws/chat`` and ``/ws/agent`` with ``Host`` and ``Origin`` both
``evil.example``, and an origin check that compares the two lets it in. So every
request and socket must name a host the server was configured for; the origin checks
(:mod:`bot.server.origins`) then compare with a ``Host`` that can be trusted.

The names are the loopback names, the address the server binds and
``SUPPORTBOT_PUBLIC_URL``'s host, and those listed in ``SUPPORTBOT_ALLOWED_HOSTS``
(``*`` allows any, ``*.example.com`` any subdomain). Health and readiness are exempt
(probes address a replica by its IP), and metrics when they have a token of their own
(``SUPPORTBOT_METRICS_TOKEN``): without one, a rebinding page could read them.

Like Starlette's ``TrustedHostMiddleware``, but a refused socket is closed before it is
accepted (the handshake gets HTTP 403) instead of being sent an HTTP response.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK = ("localhost", "127.0.0.1", "::1")
PROBES = frozenset({"/healthz", "/readyz"})
_ANY_ADDRESS = {"0.0.0.0", "::", ""}  # noqa: S104 (a bind address, not a name asked for)


def default_hosts(bind_host: str, public_url: str | None) -> list[str]:
    """The names a server answers for when none are configured."""
    hosts = list(LOOPBACK)
    if bind_host not in _ANY_ADDRESS:
        hosts.append(bind_host)
    if public_url and (name := urlsplit(public_url).hostname):
        hosts.append(name)
    return hosts


def host_name(header: str) -> str:
    """The name of a ``Host`` header, without its port ("[::1]:8000" → "::1")."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class AllowedHosts:
    """Refuses HTTP requests (400) and sockets (403) that name a host not in ``hosts``."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str], exempt: Iterable[str] = PROBES) -> None:
        self.app = app
        self.exempt = frozenset(exempt)
        # As a Host header is read: a pattern written with a port or brackets still counts.
        self.hosts = [host_name(h) for h in hosts if h.strip()]
        self.any = "*" in self.hosts

    def allowed(self, header: str) -> bool:
        name = host_name(header)
        return any(
            name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:]))
            for pattern in self.hosts
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or self.any
            or scope["path"] in self.exempt
            or self.allowed(Headers(scope=scope).get("host", ""))
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = JSONResponse(
            {
                "code": "bad_host",
                "message": "This server does not answer for that host name; its operator "
                "lists the names it answers for in SUPPORTBOT_ALLOWED_HOSTS.",
            },
            status_code=400,
        )
        await response(scope, receive, send)
