"""``POST /api/uploads`` and ``GET /api/uploads/{id}`` (PROTOCOL.md, Uploads).

The conversation is named by its token alone (``Authorization: Bearer``). A refusal
is a 4xx JSON ``{"code", "message"}`` whose message names the limit; the body is
read as a stream and reading stops at the limit.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse

from bot.chat.service import hash_token
from bot.chat.uploads import BUSY_RETRY_SECONDS
from bot.core.attachments import Upload
from bot.errors import UploadRefused
from bot.media.receive import mib
from bot.server.abuse import client_key
from bot.server.state import Services
from bot.store.agent_rows import Agent

log = logging.getLogger(__name__)
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file

STATUS = {
    "unauthorized": 401,
    "no_file": 400,
    "too_many_files": 400,
    "too_large": 413,
    "unsupported_type": 415,
    "malformed": 422,
    "too_long": 422,
    "too_many_pixels": 422,
    "not_found": 404,
    "forbidden": 403,
    "invalid_input": 400,
    "bad_signature": 403,
    "telephony_not_configured": 503,
    "rate_limited": 429,
    "busy": 503,
}


def error(code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=STATUS[code])


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _conversation(request: Request, services: Services) -> str | JSONResponse:
    """The conversation whose token is the bearer token, or the 401 to answer."""
    token = bearer(request)
    found = await services.store.conversation_by_token(hash_token(token)) if token else None
    if found is None:
        return error(
            "unauthorized", "Send the conversation's token as 'Authorization: Bearer TOKEN'."
        )
    return found


async def agent_from_bearer(request: Request, services: Services) -> Agent | None:
    token = bearer(request)
    return await services.agents.authenticate(token) if token else None


def describe(upload: Upload) -> dict[str, Any]:
    """The answer to an accepted upload: PROTOCOL's fields, then what was kept."""
    return {
        "upload_id": upload.id,
        "kind": upload.kind,
        "bytes": upload.bytes,
        "mime": upload.mime,
        **upload.meta,
    }


async def create_upload(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    conversation_id = await _conversation(request, services)
    if isinstance(conversation_id, JSONResponse):
        return conversation_id
    address = client_key(request)
    if refusal := services.limits.upload(conversation_id, address):
        services.metrics.uploads.labels("unknown", refusal.code).inc()
        wait = str(max(1, round(refusal.retry_after)))
        response = error(refusal.code, refusal.message)
        response.headers["Retry-After"] = wait
        return response
    limits = services.uploads.limits
    cap = limits.bytes_for(None)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap + MULTIPART_OVERHEAD:
        # Refused before a byte of the body is read.
        services.metrics.uploads.labels("unknown", "too_large").inc()
        return error(
            "too_large",
            f"The upload is {mib(int(declared))}; files are limited to "
            f"{mib(limits.image_bytes)} for images and {mib(limits.audio_bytes)} for audio.",
        )
    try:
        upload = await services.uploads.receive(
            conversation_id, request.stream(), request.headers.get("content-type", "")
        )
    except UploadRefused as exc:
        services.metrics.uploads.labels("unknown", exc.code).inc()
        log.info("upload refused (%s) in conversation %s", exc.code, conversation_id)
        response = error(exc.code, str(exc))
        if exc.code == "busy":
            response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
    services.metrics.uploads.labels(upload.kind, "accepted").inc()
    return JSONResponse(describe(upload))


async def get_upload(request: Request) -> Any:
    """The cleaned file, to the conversation it belongs to, and to agents (who see
    everything a customer sent)."""
    services: Services = request.app.state.services
    agent = await agent_from_bearer(request, services)
    conversation_id = None if agent else await _conversation(request, services)
    if isinstance(conversation_id, JSONResponse):
        return conversation_id
    upload = await services.store.get_upload(request.path_params["upload_id"])
    if upload is None or (agent is None and upload.conversation_id != conversation_id):
        return error("not_found", "There is no such upload in this conversation.")
    path = services.uploads.path(upload)
    if not path.is_file():
        return error("not_found", "This upload's file is not on this server.")
    return FileResponse(
        path,
        media_type=upload.mime,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
