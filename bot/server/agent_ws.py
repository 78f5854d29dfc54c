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
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from bot.chat.agents import AgentActionRefused, AgentService
from bot.chat.service import QUEUE_TOPIC
from bot.chat.staffing import HEARTBEAT_SECONDS, STATUSES
from bot.core import agent_frames, frames
from bot.core.agent_frames import AgentFrame
from bot.core.conversation import new_id
from bot.core.protocols import Subscription, agent_topic, conversation_topic
from bot.errors import InvalidInput
from bot.server.abuse import TOO_MANY_REQUESTS, client_key
from bot.server.origins import origin_allowed
from bot.server.state import Services
from bot.store.agent_rows import Agent
from bot.store.sql import STORE_ERRORS

log = logging.getLogger(__name__)
HELLO_TIMEOUT = 10.0
POLICY_VIOLATION = 1008
SESSION_CHECK_SECONDS = 5.0  # how stale a revoked session's last action may be


class _AgentSession:
    def __init__(self, websocket: WebSocket, services: Services, agent: Agent, token: str) -> None:
        self.ws = websocket
        self.services = services
        self.agents: AgentService = services.agents
        self.agent = agent
        self.token = token  # checked again before every action: a revoked session stops
        self.checked_at = -SESSION_CHECK_SECONDS  # when the session was last found valid
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
            # A socket that only listens still stops within a heartbeat of a revocation.
            await self.ensure_signed_in()
            await self.present(self.status, announce=False)

    async def ensure_signed_in(self) -> None:
        """End the socket (``unauthorized``, close 1008) when its session expired or was
        revoked (``supportbot agent revoke|remove|passwd``): a store read per action, at
        most one per :data:`SESSION_CHECK_SECONDS` (a typing frame per keystroke would
        read it per keystroke). With the database away the action goes on, and fails or
        not on its own."""
        now = time.monotonic()
        if now - self.checked_at < SESSION_CHECK_SECONDS:
            return
        try:
            agent = await self.agents.authenticate(self.token)
        except STORE_ERRORS:
            return
        if agent is not None:
            self.checked_at = now
            return
        with contextlib.suppress(WebSocketDisconnect):
            await self.send({"type": "error", "code": "unauthorized", "message": "Log in again."})
        with contextlib.suppress(Exception):
            await self.ws.close(code=POLICY_VIOLATION)
        raise WebSocketDisconnect(POLICY_VIOLATION)

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

    async def handle(self, frame: AgentFrame) -> None:
        """One checked frame (:mod:`bot.core.agent_frames`: every field has its type)."""
        await self.ensure_signed_in()
        if isinstance(frame, agent_frames.Presence):
            await self.present(frame.status)  # Staffing.seen checks the status
            return
        cid = frame.conversation_id
        if isinstance(frame, agent_frames.Take):
            await self.agents.take(cid, self.agent)
            if cid not in self.sent_seq:
                self.sent_seq[cid] = 0
                await self.follow(cid)
        elif isinstance(frame, agent_frames.Release):
            await self.agents.release(cid, self.agent, frame.reason or "released")
        elif isinstance(frame, agent_frames.Close):
            await self.agents.close(cid, self.agent)
        elif isinstance(frame, agent_frames.Reply):
            message, event = await self.agents.reply(cid, self.agent, frame.client_id, frame.text)
            await self.send(
                {
                    "type": "ack",
                    "conversation_id": cid,
                    "client_id": frame.client_id,
                    "message_id": message.id,
                    "seq": event.seq,
                }
            )
        elif isinstance(frame, agent_frames.Note):
            await self.agents.note(cid, self.agent, frame.client_id, frame.text)
            await self.send({"type": "ack", "conversation_id": cid, "client_id": frame.client_id})
        elif isinstance(frame, agent_frames.Typing):
            await self.agents.typing(cid, self.agent)


async def agent_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    # The console is served by this server: no other origin may open an agent socket.
    if not origin_allowed(websocket.headers, [], services.settings.public_url):
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    try:
        try:
            hello = frames.decode(await asyncio.wait_for(_text(websocket), HELLO_TIMEOUT))
        except (frames.FrameError, TimeoutError) as exc:
            # Say why before closing (it used to close without a word).
            error = (
                frames.FrameError(exc.code, f"{exc.message} Send a hello with your token.")
                if isinstance(exc, frames.FrameError)
                else frames.FrameError("hello_required", "Send a hello with your token first.")
            )
            await websocket.send_json(error.frame())
            await websocket.close(code=POLICY_VIOLATION)
            return
        token = hello.get("token")
        agent = await services.agents.authenticate(token) if isinstance(token, str) else None
        if agent is None or hello.get("type") != "hello":
            await websocket.send_json(
                {"type": "error", "code": "unauthorized", "message": "Log in again."}
            )
            await websocket.close(code=POLICY_VIOLATION)
            return
        session = _AgentSession(websocket, services, agent, str(token))
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
        address = client_key(websocket)
        guard = services.limits.agent_guard(address)
        try:
            while True:
                raw = await _text(websocket)
                # Every frame spends the frame budget before it is parsed: garbage too.
                if (refusal := guard.admit()) is not None:
                    await session.send(refusal.frame(None))
                    if refusal.close:
                        await websocket.close(code=TOO_MANY_REQUESTS)
                        return
                    continue
                frame: AgentFrame | None = None
                try:
                    frame = agent_frames.parse(raw)
                    await session.handle(frame)
                except frames.FrameError as exc:
                    await session.send(exc.frame())
                except AgentActionRefused as exc:
                    await session.send(_error(exc.code, str(exc), frame))
                except InvalidInput as exc:
                    await session.send(_error("invalid_input", str(exc), frame))
        finally:
            for task in list(session.tasks):
                task.cancel()
            await queue.close()
            await session.leave()
    except (WebSocketDisconnect, TimeoutError, ValueError):
        with contextlib.suppress(Exception):
            await websocket.close()


async def _text(websocket: WebSocket) -> str:
    """The next frame's text; a binary frame is refused like bad JSON (the socket stays)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    return str(text) if text is not None else "\x00 binary frame"


def _error(code: str, message: str, frame: AgentFrame | None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if cid := getattr(frame, "conversation_id", None):
        out["conversation_id"] = cid
    if client_id := getattr(frame, "client_id", None):
        out["client_id"] = client_id
    return out
