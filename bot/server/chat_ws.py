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
from bot.server.abuse import (
    MESSAGE_TOO_BIG,
    TOO_MANY_REQUESTS,
    Refusal,
    SocketGuard,
    client_key,
)
from bot.server.origins import origin_allowed
from bot.server.state import Services
from bot.store.sql import STORE_ERRORS

log = logging.getLogger(__name__)
HELLO_TIMEOUT = 10.0
OUTBOX_LIMIT = 1000
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
NORMAL_CLOSURE = 1000
CLOSING_FLUSH = 5.0  # seconds to send what is queued before a deliberate close
UNAVAILABLE_RETRY = 2.0  # seconds a client waits before resending when the database failed


class _Close(Exception):
    """The reader ends the connection on purpose: ``frame`` says why, then ``code``."""

    def __init__(self, code: int, frame: dict[str, Any]) -> None:
        super().__init__(frame.get("message", ""))
        self.code = code
        self.frame = frame


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
    limits = services.limits
    address = client_key(websocket)
    await websocket.accept()
    if not limits.sockets.acquire(address):
        refusal = frames.FrameError(
            "too_many_connections",
            f"Too many open chat connections from your network: the limit is "
            f"{limits.sockets.limit}. Close another chat window and try again.",
        )
        with contextlib.suppress(Exception):
            await websocket.send_json(refusal.frame())
            await websocket.close(code=TOO_MANY_REQUESTS)
        return
    services.metrics.connections.labels("chat").inc()
    try:
        await _serve(websocket, services, limits.guard(address))
    except WebSocketDisconnect:
        pass
    finally:
        limits.sockets.release(address)
        services.metrics.connections.labels("chat").dec()


async def _fatal(websocket: WebSocket, error: frames.FrameError) -> None:
    await websocket.send_json(error.frame())
    await websocket.close(code=POLICY_VIOLATION)


async def _first_text(websocket: WebSocket) -> str:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", NORMAL_CLOSURE))
    text = message.get("text")
    if text is None:
        raise frames.FrameError("hello_required", "The first frame must be a JSON hello text.")
    return str(text)


async def _serve(websocket: WebSocket, services: Services, guard: SocketGuard) -> None:
    service = services.chat
    try:
        hello = frames.parse(await asyncio.wait_for(_first_text(websocket), HELLO_TIMEOUT))
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
        if refusal := guard.limits.new_conversation(guard.address):
            # 4429: the widget comes back later (it has nothing to lose yet).
            await websocket.send_json(refusal.frame(None))
            await websocket.close(code=TOO_MANY_REQUESTS)
            return
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
            asyncio.create_task(_read(websocket, service, conversation.id, outbox, guard)),
            asyncio.create_task(forwarder.run(subscription)),
            asyncio.create_task(_write(websocket, outbox)),
        ]
        closing: _Close | None = None
        try:
            # The customer left (reader), or this socket fell too far behind (forwarder,
            # writer): either way the connection is over; a client resumes with last_seq.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if isinstance(error, _Close):
                    closing = error
                elif error is not None and not isinstance(error, WebSocketDisconnect):
                    log.error("chat socket failed", exc_info=error)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                if closing is None:
                    await websocket.close(code=TRY_AGAIN_LATER)
                else:
                    # What was queued before the reason, then the reason, then the close.
                    await asyncio.wait_for(_flush(websocket, outbox, closing), CLOSING_FLUSH)
                    await websocket.close(code=closing.code)
    finally:
        await subscription.close()


async def _flush(websocket: WebSocket, outbox: _Outbox, closing: _Close) -> None:
    while not outbox.queue.empty():
        frame = outbox.queue.get_nowait()
        if frame is not None:
            await websocket.send_json(frame)
    await websocket.send_json(closing.frame)


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
        if frame.get("type") == "erased":
            # The conversation no longer exists: say so and end the connection; on 1008
            # the widget forgets it and starts a new one.
            erased = frames.FrameError(
                "erased", "This conversation was erased at your or our request."
            )
            raise _Close(POLICY_VIOLATION, erased.frame())
        if frame.get("type") == "resync":
            # The bus lost frames (Redis was away): take what was missed from the store.
            await self._fill()
            return
        seq = frame.get("seq")
        if not isinstance(seq, int):
            if frame.get("type") == "typing" and frame.get("role") == "customer":
                return  # the customer's own typing
            await self.outbox.put(frame)
            return
        if seq < self.expected:
            return
        if seq > self.expected:
            await self._fill()
            return
        await self.outbox.put(frame)
        self.expected += 1

    async def _fill(self) -> None:
        """Send the stored events from ``expected`` on, in order and once each."""
        missing: list[Event] = await self.services.store.events_after(
            self.conversation_id, self.expected - 1
        )
        for event in missing:
            if event.seq == self.expected:
                await self.outbox.put(event.frame())
                self.expected += 1


async def _read(
    websocket: WebSocket,
    service: ChatService,
    conversation_id: str,
    outbox: _Outbox,
    guard: SocketGuard,
) -> None:
    idle = guard.limits.idle_seconds
    while websocket.application_state is WebSocketState.CONNECTED:
        try:
            message = await asyncio.wait_for(websocket.receive(), idle)
        except TimeoutError:
            minutes = f"{idle / 60:g} minutes" if idle >= 60 else f"{idle:g} seconds"
            raise _Close(
                NORMAL_CLOSURE,
                frames.FrameError(
                    "idle",
                    f"Closed after {minutes} without activity. Your conversation is saved; "
                    "it reconnects when you write again.",
                ).frame(),
            ) from None
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        # Every frame spends the frame budget before anything else is done with it:
        # garbage, binary and unknown types too (a flood of them was answered in full).
        if (refusal := guard.admit()) is not None:
            await _refuse(outbox, refusal, _client_id(raw))
            continue
        if raw is None:
            await outbox.put(
                frames.FrameError("bad_frame", "Send JSON text frames, not binary.").frame()
            )
            continue
        try:
            frame = frames.parse(raw)
            refusal = guard.check(frame)
            client_id = getattr(frame, "client_id", None)
            if refusal is not None:
                await _refuse(outbox, refusal, client_id)
                continue
            try:
                await _handle(frame, service, conversation_id, outbox)
            except STORE_ERRORS:
                log.warning(
                    "the database failed a %s frame; the client is asked to retry", frame.type
                )
                unavailable = Refusal(
                    "unavailable",
                    "We couldn't save that just now. It will be sent again in a moment; "
                    "nothing is lost.",
                    UNAVAILABLE_RETRY,
                )
                await outbox.put(unavailable.frame(client_id))
                continue
            except InvalidInput as exc:
                raise frames.FrameError("invalid_input", str(exc), client_id=client_id) from exc
        except frames.FrameError as exc:
            if exc.code == "too_large":
                # Text frames are small; media goes through uploads. Nothing of it is kept.
                raise _Close(MESSAGE_TOO_BIG, exc.frame()) from None
            await outbox.put(exc.frame())


async def _refuse(outbox: _Outbox, refusal: Refusal, client_id: str | None) -> None:
    if refusal.close:
        raise _Close(TOO_MANY_REQUESTS, refusal.frame(client_id))
    await outbox.put(refusal.frame(client_id))


def _client_id(raw: str | None) -> str | None:
    """The client_id of a frame refused unread, so that the widget sends it again later
    (decoding costs little, and refusals are few: the strikes close the socket)."""
    if raw is None:
        return None
    with contextlib.suppress(frames.FrameError):
        return frames.client_id_of(frames.decode(raw))
    return None


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
