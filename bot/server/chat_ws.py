"""``WS /ws/chat``: the customer's socket (PROTOCOL.md, Widget WebSocket).

One reader (client frames → the service), one forwarder (bus → outbox) and one
writer (outbox → socket), so frames are never sent from two tasks at once.

Exactly-once, in-order history: history events carry ``seq``; the forwarder
sends them strictly in sequence. A duplicate (already replayed) is skipped; a
gap (an event published before an earlier one) is filled from the store, which
already holds every earlier event because events of one conversation commit in
``seq`` order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from bot.chat.service import AuthError, ChatService
from bot.core import frames
from bot.core.conversation import Event
from bot.core.protocols import Subscription, conversation_topic
from bot.errors import InvalidInput
from bot.server.origins import origin_allowed
from bot.server.state import Services

log = logging.getLogger(__name__)
HELLO_TIMEOUT = 10.0
OUTBOX_LIMIT = 1000
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


class _Outbox:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(OUTBOX_LIMIT)

    async def put(self, frame: dict[str, Any]) -> None:
        await self.queue.put(frame)


async def chat_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    settings = services.settings
    if not origin_allowed(websocket.headers, settings.origins, settings.public_url):
        # Closing before accept answers the handshake with HTTP 403.
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    services.metrics.connections.labels("chat").inc()
    try:
        await _serve(websocket, services)
    except WebSocketDisconnect:
        pass
    finally:
        services.metrics.connections.labels("chat").dec()


async def _fatal(websocket: WebSocket, error: frames.FrameError) -> None:
    await websocket.send_json(error.frame())
    await websocket.close(code=POLICY_VIOLATION)


async def _serve(websocket: WebSocket, services: Services) -> None:
    service = services.chat
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT)
        hello = frames.parse(raw)
    except TimeoutError:
        await _fatal(websocket, frames.FrameError("hello_required", "Send a hello frame first."))
        return
    except frames.FrameError as exc:
        await _fatal(websocket, exc)
        return
    if not isinstance(hello, frames.Hello):
        await _fatal(
            websocket, frames.FrameError("hello_required", "The first frame must be a hello.")
        )
        return

    if hello.conversation_id:
        if not hello.token:
            await _fatal(websocket, frames.FrameError("unauthorized", "A token is required."))
            return
        try:
            conversation = await service.authenticate(hello.conversation_id, hello.token)
        except AuthError as exc:
            await _fatal(websocket, frames.FrameError("unauthorized", str(exc)))
            return
        token = hello.token
    else:
        conversation, token = await service.start("web", hello.visitor)

    # Subscribe before reading history: nothing published from now on can be missed.
    subscription = await services.bus.subscribe(conversation_topic(conversation.id))
    outbox = _Outbox()
    try:
        fresh = await services.store.get_conversation(conversation.id)
        current = fresh or conversation
        after = min(hello.last_seq, current.last_seq)
        replay = await service.replay(conversation.id, after)
        high = max([after, *(e.seq for e in replay)])
        await websocket.send_json(
            {
                "type": "welcome",
                "conversation_id": conversation.id,
                "token": token,
                "state": str(current.state),
                "last_seq": high,
            }
        )
        for event in replay:
            await websocket.send_json(event.frame())
        forwarder = _Forwarder(services, conversation.id, high + 1, outbox)
        tasks = [
            asyncio.create_task(_read(websocket, service, conversation.id, outbox)),
            asyncio.create_task(forwarder.run(subscription)),
            asyncio.create_task(_write(websocket, outbox)),
        ]
        try:
            # The customer left (reader), or this socket fell too far behind (forwarder,
            # writer): either way the connection is over; a client resumes with last_seq.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if error is not None and not isinstance(error, WebSocketDisconnect):
                    log.error("chat socket failed", exc_info=error)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code=TRY_AGAIN_LATER)
    finally:
        await subscription.close()


async def _write(websocket: WebSocket, outbox: _Outbox) -> None:
    while True:
        frame = await outbox.queue.get()
        if frame is None:
            return
        await websocket.send_json(frame)


class _Forwarder:
    """Bus frames → outbox; history events exactly once and in ``seq`` order."""

    def __init__(
        self, services: Services, conversation_id: str, expected: int, outbox: _Outbox
    ) -> None:
        self.services = services
        self.conversation_id = conversation_id
        self.expected = expected
        self.outbox = outbox

    async def run(self, subscription: Subscription) -> None:
        async for frame in subscription:
            await self.forward(frame)
        # The bus cut us off (this socket is too slow). Say so if there is room; the
        # connection is closed either way and the client resumes with last_seq.
        with contextlib.suppress(asyncio.QueueFull):
            self.outbox.queue.put_nowait(
                {"type": "error", "code": "overloaded", "message": "Please reconnect."}
            )

    async def forward(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if not isinstance(seq, int):
            if frame.get("type") == "typing" and frame.get("role") == "customer":
                return  # the customer's own typing
            await self.outbox.put(frame)
            return
        if seq < self.expected:
            return
        if seq > self.expected:
            missing: list[Event] = await self.services.store.events_after(
                self.conversation_id, self.expected - 1
            )
            for event in missing:
                if event.seq == self.expected:
                    await self.outbox.put(event.frame())
                    self.expected += 1
            return
        await self.outbox.put(frame)
        self.expected += 1


async def _read(
    websocket: WebSocket, service: ChatService, conversation_id: str, outbox: _Outbox
) -> None:
    while websocket.application_state is WebSocketState.CONNECTED:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            await outbox.put(
                frames.FrameError("bad_frame", "Send JSON text frames, not binary.").frame()
            )
            continue
        try:
            frame = frames.parse(raw)
            try:
                await _handle(frame, service, conversation_id, outbox)
            except InvalidInput as exc:
                client_id = getattr(frame, "client_id", None)
                raise frames.FrameError("invalid_input", str(exc), client_id=client_id) from exc
        except frames.FrameError as exc:
            await outbox.put(exc.frame())


async def _handle(frame: Any, service: ChatService, conversation_id: str, outbox: _Outbox) -> None:
    if isinstance(frame, frames.CustomerMessage):
        # With uploads this waits until they are read (usually done by now: reading
        # starts when an upload arrives), so the stored message carries the transcript.
        message, event, _ = await service.customer_message(
            conversation_id,
            frame.client_id,
            frame.text,
            [a.model_dump() for a in frame.attachments],
        )
        # Also on a resend: the client learns that its message is stored, and where.
        await outbox.put(
            {
                "type": "ack",
                "client_id": frame.client_id,
                "message_id": message.id,
                "seq": event.seq,
            }
        )
    elif isinstance(frame, frames.Human):
        await service.request_human(conversation_id)
        await outbox.put({"type": "ack", "client_id": frame.client_id})
    elif isinstance(frame, frames.Typing):
        await service.typing(conversation_id)
    elif isinstance(frame, frames.Feedback):
        await service.feedback(conversation_id, frame.message_id, frame.rating)
    elif isinstance(frame, frames.Contact):
        await service.leave_contact(conversation_id, frame.client_id, frame.email)
        await outbox.put({"type": "ack", "client_id": frame.client_id})
    elif isinstance(frame, frames.Rating):
        await service.rate(conversation_id, frame.score, frame.comment)
        await outbox.put({"type": "ack", "client_id": frame.client_id})
    elif isinstance(frame, frames.Hello):
        raise frames.FrameError("already_started", "This connection already said hello.")
