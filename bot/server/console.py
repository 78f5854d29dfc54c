"""The staff console: its page, and what it reads besides ``/ws/agent``.

``GET /console`` serves the page (``static/console.html`` + ``console.js``, built from
``widget/console`` like the widget). ``GET /api/agent/conversations/{id}/turns`` gives
the decision path of each bot turn (tier, retrieval scores, gate verdicts, reason,
latency, tokens, cost) to a logged-in agent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.chat.agents import create_agent
from bot.chat.service import hash_token
from bot.core.conversation import utcnow
from bot.core.report import summarize
from bot.errors import InvalidInput
from bot.server.assets import read_static
from bot.server.state import Services
from bot.server.uploads import agent_from_bearer, bearer, error

# The console runs only its own script; connections to this server alone.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' blob:; media-src 'self' blob:; frame-ancestors 'none'"
)


async def console_page() -> HTMLResponse:
    return HTMLResponse(read_static("console.html"), headers={"Content-Security-Policy": CSP})


async def console_assets(request: Request) -> Response:
    name = request.path_params["name"]
    kinds = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css"}
    if name not in kinds:
        return error("not_found", "No such file.")
    return Response(
        read_static(name), media_type=kinds[name], headers={"Cache-Control": "no-cache"}
    )


async def create_agent_account(request: Request) -> Any:
    """``POST /api/agent/agents`` ``{"name", "password", "role"?}``: admins add agents."""
    services: Services = request.app.state.services
    admin = await agent_from_bearer(request, services)
    if admin is None:
        return error("unauthorized", "Log in to the console first.")
    if admin.role != "admin":
        return JSONResponse(
            {"code": "forbidden", "message": "Only an admin can add agents."}, status_code=403
        )
    try:
        body = await request.json()
        agent = await create_agent(
            services.store,
            str(body.get("name", "")),
            str(body.get("password", "")),
            str(body.get("role", "agent")),
        )
    except (ValueError, InvalidInput, AttributeError) as exc:
        message = str(exc) if isinstance(exc, (ValueError, InvalidInput)) else "Send JSON."
        return JSONResponse({"code": "invalid_input", "message": message}, status_code=422)
    return JSONResponse({"name": agent.name, "role": agent.role}, status_code=201)


async def report(request: Request) -> Any:
    """``GET /api/agent/report?days=30``: the support report of the last ``days`` days
    (1-365): resolution, escalations by reason, first agent reply, cost, ratings."""
    services: Services = request.app.state.services
    if await agent_from_bearer(request, services) is None:
        return error("unauthorized", "Log in to the console first.")
    try:
        days = int(request.query_params.get("days", "30"))
        if not 1 <= days <= 365:
            raise ValueError
    except ValueError:
        return JSONResponse(
            {"code": "invalid_input", "message": "days is a whole number from 1 to 365."},
            status_code=422,
        )
    until = utcnow()
    since = until - timedelta(days=days)
    facts = await services.store.report_facts(since, until)
    ratings = await services.store.ratings_since(since)
    out = summarize(facts, [r.score for r in ratings], since, until)
    out["recent_comments"] = [r.to_wire() for r in ratings if r.comment][:20]
    return JSONResponse(out)


async def conversation_turns(request: Request) -> Any:
    """The decision path of each bot turn; 404 for a conversation that does not exist (or
    was erased), so "no turns yet" and "no such conversation" read differently."""
    services: Services = request.app.state.services
    if await agent_from_bearer(request, services) is None:
        return error("unauthorized", "Log in to the console first.")
    conversation_id = request.path_params["conversation_id"]
    if await services.store.get_conversation(conversation_id) is None:
        return error("not_found", "No such conversation.")
    turns = await services.store.turns(conversation_id)
    out: list[dict[str, Any]] = []
    for turn in turns:
        row = {k: v for k, v in turn.items() if k not in ("id", "conversation_id")}
        row["created_at"] = turn["created_at"].isoformat()
        out.append(row)
    return JSONResponse({"turns": out})


async def erase_conversation(request: Request) -> Any:
    """``DELETE /api/conversations/{id}``: erase a conversation everywhere.

    Allowed to the customer (the conversation's own token as bearer) and to admins.
    """
    services: Services = request.app.state.services
    conversation_id = request.path_params["conversation_id"]
    token = bearer(request)
    if token is None:
        return error("unauthorized", "Send the conversation's token or an admin's token.")
    by = "the customer"
    found = await services.store.conversation_by_token(hash_token(token))
    if found != conversation_id:
        agent = await services.agents.authenticate(token)
        if agent is None:
            return error("unauthorized", "Send the conversation's token or an admin's token.")
        if agent.role != "admin":
            return error("forbidden", "Only an admin can erase conversations.")
        by = f"admin {agent.name}"
    if not await services.privacy.erase(conversation_id, by):
        return error("not_found", "No such conversation.")
    return Response(status_code=204)
