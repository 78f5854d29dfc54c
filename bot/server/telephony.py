"""Twilio's routes: the Voice webhook, the media stream, and the end of the stream.

Every HTTP request must carry a valid ``X-Twilio-Signature`` (HMAC-SHA1 of the URL
Twilio called and the form parameters, keyed with the account's auth token), checked
with the ``twilio`` package's ``RequestValidator``; anything else gets 403 and changes
nothing. The URL Twilio called is ``SUPPORTBOT_PUBLIC_URL`` + the path (required with
telephony on, checked at start-up), never one rebuilt from the request's ``Host``: a
client chooses that header, and it would also be written into the TwiML's stream and
action URLs. Without ``SUPPORTBOT_TWILIO_AUTH_TOKEN`` the routes answer 503: an unsigned
phone line is never open by accident.

The stream socket is opened by Twilio with the TwiML of one call; it proves which call
it belongs to with that call's single-use, short-lived token (a ``<Parameter>`` Twilio
sends back in ``start``). A Voice webhook replayed once the call's stream has begun gets
409 and no TwiML: Twilio itself never repeats a webhook whose answer it used, so only a
replay (or a copy of a signed request) can see it. Stream sockets count against the
per-address socket cap of the chat socket (``SUPPORTBOT_SOCKETS_PER_IP``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from twilio.request_validator import RequestValidator

from bot.server.abuse import TOO_MANY_REQUESTS, client_key
from bot.server.state import Services
from bot.server.uploads import error
from bot.telephony import twiml
from bot.telephony.calls import CallAlreadyStreamed
from bot.telephony.session import CallSession

log = logging.getLogger(__name__)
MAX_FORM_BYTES = 16 * 1024  # Twilio's webhook parameters are a few hundred bytes
CALL_SID = re.compile(r"[A-Za-z0-9]{2,64}")
XML = "application/xml"


def _public(services: Services, path: str) -> str:
    """The absolute URL Twilio uses for ``path`` on this server (never from ``Host``)."""
    return (services.settings.public_url or "").rstrip("/") + path


async def _signed_form(request: Request, services: Services) -> dict[str, str] | JSONResponse:
    """The webhook's parameters, if Twilio signed them; else the response to give."""
    token = services.settings.twilio_auth_token
    if not token or not services.settings.public_url:  # Settings refuses the latter
        return error(
            "telephony_not_configured",
            "Phone calls are off: set SUPPORTBOT_TWILIO_AUTH_TOKEN (and "
            "SUPPORTBOT_PUBLIC_URL) to take them.",
        )
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return error("too_large", f"Webhook bodies are limited to {MAX_FORM_BYTES} bytes.")
    try:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return error("invalid_input", "The body is not form-encoded text.")
    url = _public(services, request.url.path)
    if request.url.query:
        url += f"?{request.url.query}"
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not RequestValidator(token).validate(url, params, signature):
        log.warning("refused an unsigned or wrongly signed request to %s", request.url.path)
        return error("bad_signature", "The request is not signed by Twilio.")
    call_sid = params.get("CallSid", "")
    if not CALL_SID.fullmatch(call_sid):
        return error("invalid_input", "CallSid is missing or malformed.")
    return params


async def voice(request: Request) -> Response:
    """``POST /telephony/twilio/voice``: greet, and connect the call to our stream."""
    services: Services = request.app.state.services
    params = await _signed_form(request, services)
    if isinstance(params, JSONResponse):
        return params
    caller = params.get("From", "")[:64] or "unknown"
    try:
        _, token = await services.calls.answer(
            params["CallSid"], caller, services.settings.phone_stream_token_ttl
        )
    except CallAlreadyStreamed as exc:
        log.warning("refused a repeated Voice webhook of a call that already streamed")
        return JSONResponse({"code": "call_already_streamed", "message": str(exc)}, 409)
    stream = _public(services, "/telephony/twilio/stream")
    stream = re.sub(r"^http", "ws", stream)  # http→ws, https→wss
    body = twiml.connect(
        services.settings.phone_greeting,
        stream,
        _public(services, "/telephony/twilio/after-stream"),
        {"token": token},
    )
    return Response(body, media_type=XML)


async def after_stream(request: Request) -> Response:
    """``POST /telephony/twilio/after-stream``: put the call through, or hang up."""
    services: Services = request.app.state.services
    params = await _signed_form(request, services)
    if isinstance(params, JSONResponse):
        return params
    return Response(await services.calls.after_stream(params["CallSid"]), media_type=XML)


class _Socket:
    """Starlette's WebSocket as the session's :class:`~bot.telephony.session.Line`."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False

    async def receive(self) -> str | None:
        if self.closed:
            return None
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            return None
        if message.get("text") is not None:
            return str(message["text"])
        return bytes(message.get("bytes") or b"").decode("utf-8", "replace")

    async def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            await self.websocket.send_text(json.dumps(message))
        except (WebSocketDisconnect, RuntimeError):
            self.closed = True  # the caller hung up; what is left to say goes nowhere

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self.websocket.close(code, reason)


async def stream(websocket: WebSocket) -> None:
    """``WS /telephony/twilio/stream``: one call's audio, both ways."""
    services: Services = websocket.app.state.services
    if not services.settings.twilio_auth_token:
        await websocket.close(code=1008)  # before accept: the handshake gets 403
        return
    address = client_key(websocket)
    sockets = services.limits.sockets  # shared with /ws/chat: one cap per address
    await websocket.accept()
    if not sockets.acquire(address):
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(TOO_MANY_REQUESTS, "too many sockets from this address")
        return
    services.metrics.connections.labels("phone").inc()
    try:
        session = CallSession(
            _Socket(websocket),
            calls=services.calls,
            chat=services.chat,
            bus=services.bus,
            voice=services.voice,
        )
        await session.run()
    except WebSocketDisconnect:
        pass
    finally:
        sockets.release(address)
        services.metrics.connections.labels("phone").dec()
