"""Which page origins may open a socket (PROTOCOL.md, Security settings)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers


def is_own_origin(origin: str, headers: Headers, public_url: str | None = None) -> bool:
    """Same host (and port) as the request, or as the configured public URL. The scheme is
    not compared: behind a TLS proxy the server sees http while the page is https."""
    netloc = urlsplit(origin).netloc.lower()
    if netloc and netloc == headers.get("host", "").lower():
        return True
    return bool(public_url) and netloc == urlsplit(public_url or "").netloc.lower()


def origin_allowed(
    headers: Headers,
    allowed: Iterable[str],
    public_url: str | None = None,
    *,
    own_only: bool = False,
) -> bool:
    """Browsers always send ``Origin`` on a WebSocket handshake; a client without one
    (a script, a phone provider) is not a web page that another site could abuse."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if is_own_origin(origin, headers, public_url):
        return True
    return not own_only and origin.rstrip("/").lower() in {a.lower() for a in allowed}
