"""``WS /ws/agent``: an agent's socket (PROTOCOL.md, Agents).

First frame ``{"type": "hello", "token"}`` (a token from ``POST /api/agent/login``) →
``welcome`` and a ``queue`` snapshot, sent again whenever the queue changes. Actions:
``take``, ``release`` (with ``reason``), ``close``, ``reply`` (``client_id``, ``text``),
``note`` (``client_id``, ``text``; agents only) and ``typing``, each with
``conversation_id``. Once an agent has taken a conversation, its history and then its
live ``message``/``state``/``typing`` frames (and notes) come with ``conversation_id``
added. Only the server's own origin may open this socket; a customer token never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from bot.chat.agents import AgentActionRefused, AgentService
from bot.chat.service import QUEUE_TOPIC
from bot.chat.staffing import HEARTBEAT_SECONDS, STATUSES
from bot.core.conversation import new_id
from bot.core.protocols import Subscription, agent_topic, conversation_topic
from bot.errors import InvalidInput
from bot.server.origins import origin_allowed
from bot.server.state import Services
from bot.store.agent_rows import Agent

log = logging.getLogger(__name__)
HELLO_TIMEOUT = 10.0
POLICY_VIOLATION = 1008


class _AgentSession:
    def __init__(self, websocket: WebSocket, services: Services, agent: Agent) -> None:
        self.ws = websocket
        self.services = services
        self.agents: AgentService = services.agents
        self.agent = agent
        self.send_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sent_seq: dict[str, int] = {}  # conversation -> highest seq sent
        self.staffing = services.chat.staffing
        self.connection_id = new_id()
        self.status = "online"

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.send_lock:
            try:
                await self.ws.send_json(frame)
            except (WebSocketDisconnected, RuntimeError) as exc:
                # The console went away between frames (a dropped network): the same
                # ending as a disconnect seen on receive, not a server error.
                raise WebSocketDisconnect(1006) from exc

    async def queue_snapshot(self) -> None:
        await self.send({"type": "queue", "conversations": await self.services.store.queue()})

    async def team_snapshot(self) -> None:
        if self.staffing is not None:
            await self.send({"type": "team", "agents": await self.staffing.team()})

    async def follow_queue(self, subscription: Subscription) -> None:
        async for frame in subscription:
            if frame.get("type") == "team":
                await self.team_snapshot()
            else:
                await self.queue_snapshot()

    async def present(self, status: str, announce: bool = True) -> None:
        """Refresh this socket's presence row; tell every console when it changed."""
        if self.staffing is None:
            return
        await self.staffing.seen(self.connection_id, self.agent.id, status)
        self.status = status
        if announce:
            await self.services.bus.publish(QUEUE_TOPIC, {"type": "team"})

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.present(self.status, announce=False)

    async def leave(self) -> None:
        if self.staffing is not None:
            await self.staffing.left(self.connection_id)
            await self.services.bus.publish(QUEUE_TOPIC, {"type": "team"})

    async def follow(self, conversation_id: str) -> None:
        """History, then live frames of a conversation this agent took."""
        bus = self.services.bus
        live = await bus.subscribe(conversation_topic(conversation_id))
        notes = await bus.subscribe(agent_topic(conversation_id))
        for event in await self.services.store.events_after(conversation_id, 0):
            await self.forward(conversation_id, event.frame())
        for note in await self.services.store.notes(conversation_id):
            await self.send(
                {"type": "note", "conversation_id": conversation_id, "note": note.to_wire()}
            )
        for sub in (live, notes):
            self.spawn(self.pump(conversation_id, sub))

    async def pump(self, conversation_id: str, subscription: Subscription) -> None:
        try:
            async for frame in subscription:
                await self.forward(conversation_id, frame)
        finally:
            await subscription.close()

    async def forward(self, conversation_id: str, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if isinstance(seq, int):
            if seq <= self.sent_seq.get(conversation_id, 0):
                return  # already sent with the history
            self.sent_seq[conversation_id] = seq
        await self.send({**frame, "conversation_id": conversation_id})

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and not isinstance(task.exception(), WebSocketDisconnect | None):
            log.error("agent socket task failed", exc_info=task.exception())

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        cid = str(frame.get("conversation_id") or "")
        if kind == "take":
            await self.agents.take(cid, self.agent)
            if cid not in self.sent_seq:
                self.sent_seq[cid] = 0
                await self.follow(cid)
        elif kind == "release":
            await self.agents.release(cid, self.agent, str(frame.get("reason") or "released"))
        elif kind == "close":
            await self.agents.close(cid, self.agent)
        elif kind == "reply":
            client_id = str(frame.get("client_id") or "")[:64]
            message, event = await self.agents.reply(
                cid, self.agent, client_id, str(frame.get("text") or "")
            )
            await self.send(
                {
                    "type": "ack",
                    "conversation_id": cid,
                    "client_id": client_id,
                    "message_id": message.id,
                    "seq": event.seq,
                }
            )
        elif kind == "note":
            client_id = str(frame.get("client_id") or "")[:64]
            await self.agents.note(cid, self.agent, client_id, str(frame.get("text") or ""))
            await self.send({"type": "ack", "conversation_id": cid, "client_id": client_id})
        elif kind == "typing":
            await self.agents.typing(cid, self.agent)
        elif kind == "presence":
            await self.present(str(frame.get("status")))  # Staffing.seen checks the status
        else:
            raise InvalidInput(f"Unknown frame type {str(kind)[:40]!r}.")


async def agent_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    # The console is served by this server: no other origin may open an agent socket.
    if not origin_allowed(websocket.headers, [], services.settings.public_url):
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT)
        hello = json.loads(raw)
        token = hello.get("token") if isinstance(hello, dict) else None
        agent = await services.agents.authenticate(token) if isinstance(token, str) else None
        if agent is None or hello.get("type") != "hello":
            await websocket.send_json(
                {"type": "error", "code": "unauthorized", "message": "Log in again."}
            )
            await websocket.close(code=POLICY_VIOLATION)
            return
        session = _AgentSession(websocket, services, agent)
        queue = await services.bus.subscribe(QUEUE_TOPIC)
        status = hello.get("status")
        await session.present(str(status) if status in STATUSES else "online")
        hours = session.staffing.hours_wire() if session.staffing else None
        await session.send(
            {
                "type": "welcome",
                "agent": {"name": agent.name, "role": agent.role},
                "status": session.status,
                "hours": hours,
            }
        )
        await session.queue_snapshot()
        await session.team_snapshot()
        # What this agent owns already (after a reload, on another replica): to reopen.
        await session.send(
            {"type": "assigned", "conversations": await services.store.owned_by(agent.name)}
        )
        session.spawn(session.follow_queue(queue))
        session.spawn(session.heartbeat())
        try:
            while True:
                raw = await websocket.receive_text()
                try:
                    frame = json.loads(raw)
                    if not isinstance(frame, dict) or len(raw) > 64 * 1024:
                        raise InvalidInput("Frames are JSON objects of at most 64 KiB.")
                    await session.handle(frame)
                except AgentActionRefused as exc:
                    await session.send(_error(exc.code, str(exc), frame))
                except (InvalidInput, ValueError) as exc:
                    await session.send(_error("invalid_input", str(exc), None))
        finally:
            for task in list(session.tasks):
                task.cancel()
            await queue.close()
            await session.leave()
    except (WebSocketDisconnect, TimeoutError, ValueError):
        with contextlib.suppress(Exception):
            await websocket.close()


def _error(code: str, message: str, frame: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if frame and frame.get("conversation_id"):
        out["conversation_id"] = frame["conversation_id"]
    if frame and frame.get("client_id"):
        out["client_id"] = frame["client_id"]
    return out
