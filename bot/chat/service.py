"""Drives conversations: persist, decide, answer, escalate, fan out. No web framework.

Channel adapters (the widget's WebSocket, later the phone and the console) call
:class:`ChatService`; it writes to the :class:`~bot.core.protocols.Store` and
publishes to the :class:`~bot.core.protocols.Bus`, and every socket of the
conversation (on any replica) forwards what the bus carries.

A turn runs in a task owned by the service, not by the socket that brought the
message: a customer who drops mid-answer finds the finished answer when they
resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bot.chat.budget import Budget
from bot.chat.recovery import TurnLeases
from bot.chat.staffing import Staffing, check_email
from bot.chat.uploads import UploadService
from bot.core import escalation
from bot.core.attachments import build_query, nothing_to_go_on_reply, unreadable
from bot.core.conversation import Conversation, Event, Message, Role, State, new_id
from bot.core.escalation import Exchange
from bot.core.protocols import Bus, TurnRecord, agent_topic, conversation_topic
from bot.core.turn import (
    ASKED_FOR_HUMAN,
    HUMAN_TIER,
    INTERNAL_ERROR,
    MESSAGES,
    REPEATED_FAILURE,
    Delta,
    Listener,
    Retract,
    Sentence,
    Step,
    TurnEvent,
    TurnOutcome,
)
from bot.errors import InvalidInput, SupportBotError
from bot.models.base import Style
from bot.store.sql import STORE_ERRORS, SqlStore, retrying

log = logging.getLogger(__name__)
QUEUE_TOPIC = "queue"
HISTORY_TURNS = 20
DELTA_INTERVAL = 0.05  # seconds between two delta frames of one answer
MAX_COMMENT = 1000
PHONE = "phone"  # the channel of phone calls: answers in the phone style
INTERRUPTED = "interrupted"  # a caller spoke over the answer being written


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Answerer(Protocol):
    """One turn of the answer path (``Runtime.answer``)."""

    async def __call__(
        self,
        question: str,
        *,
        style: Style = "chat",
        history: Sequence[tuple[str, str]] = (),
        images: Sequence[tuple[str, bytes]] = (),
        listener: Listener | None = None,
        paused: str | None = None,
    ) -> TurnOutcome: ...


class AuthError(SupportBotError):
    """Unknown conversation or wrong token."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ChatService:
    def __init__(
        self,
        store: SqlStore,
        bus: Bus,
        answer: Answerer,
        *,
        max_chars: int = 4000,
        on_turn: Callable[[TurnOutcome, float], None] | None = None,
        uploads: UploadService | None = None,
        notify: Callable[[str, dict[str, Any]], None] | None = None,
        staffing: Staffing | None = None,
        budget: Budget | None = None,
        leases: TurnLeases | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.answer = answer
        self.uploads = uploads
        # Presence and business hours; without it every hand-over says "someone will reply".
        self.staffing = staffing
        # Outgoing events for other systems (the webhook): kind, data.
        self.notify = notify or (lambda kind, data: None)
        self.max_chars = max_chars
        self.on_turn = on_turn
        self.budget = budget
        # Without leases a turn cut by a crash stays unanswered (bot.chat.recovery).
        self.leases = leases
        # Turns of one conversation run one at a time; a lock lives while someone holds it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tasks: set[asyncio.Task[None]] = set()
        self._answering: dict[str, asyncio.Task[TurnOutcome]] = {}

    # -- opening -----------------------------------------------------------------------

    async def start(
        self, channel: str = "web", visitor: dict[str, Any] | None = None
    ) -> tuple[Conversation, str]:
        """A new conversation and its token (the token is shown to the client once)."""
        token = secrets.token_urlsafe(32)
        conversation = await self.store.create_conversation(
            channel=channel, token_hash=hash_token(token), visitor=visitor or {}
        )
        return conversation, token

    async def authenticate(self, conversation_id: str, token: str) -> Conversation:
        stored = await self.store.token_hash(conversation_id)
        # Same answer for "no such conversation" and "wrong token": ids are not secrets.
        if stored is None or not hmac.compare_digest(stored, hash_token(token)):
            raise AuthError("Unknown conversation or wrong token.")
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:  # deleted in between
            raise AuthError("Unknown conversation or wrong token.")
        return conversation

    async def replay(self, conversation_id: str, after_seq: int) -> list[Event]:
        return await self.store.events_after(conversation_id, after_seq)

    # -- customer actions -------------------------------------------------------------

    def validate(self, text: str | None, attachments: Sequence[dict[str, Any]]) -> str:
        body = (text or "").strip()
        if not body and not attachments:
            raise InvalidInput("The message is empty.")
        if len(body) > self.max_chars:
            raise InvalidInput(
                f"The message is {len(body)} characters long; the limit is "
                f"{self.max_chars} characters."
            )
        return body

    async def customer_message(
        self,
        conversation_id: str,
        client_id: str,
        text: str | None,
        attachments: Sequence[dict[str, Any]] = (),
    ) -> tuple[Message, Event, bool]:
        """Store the message (once per ``client_id``), publish it, start the bot's turn.

        ``attachments`` are ``{"upload_id"}`` references; the message is stored once
        each upload has been read, with its transcript or text (PROTOCOL.md).
        """
        body = self.validate(text, attachments)
        stored: list[dict[str, Any]] = []
        if attachments:
            if self.uploads is None:
                raise InvalidInput("This server does not take attachments.")
            ids = [str(a.get("upload_id", "")) for a in attachments]
            stored = await self.uploads.attachments(conversation_id, ids)
        message, event, created = await self.store.add_message(
            conversation_id, Role.CUSTOMER, body, client_id=client_id, attachments=stored
        )
        if not created:
            return message, event, False
        await self._publish(event)
        self._spawn(self._after_customer_message(conversation_id, message))
        return message, event, True

    async def request_human(self, conversation_id: str) -> None:
        """The ``human`` frame: hand over unless a person already has (or is about to)."""
        async with self._lock(conversation_id):
            conversation = await self.store.get_conversation(conversation_id)
            if conversation is None or conversation.state in (State.QUEUED, State.AGENT):
                return
            if conversation.state is State.CLOSED:
                await self._publish(await self.store.set_state(conversation_id, State.BOT))
            history = await self._history(conversation_id)
            question = next((m.text for m in reversed(history) if m.role == "customer"), "")
            await self._escalate(conversation_id, ASKED_FOR_HUMAN, history, question)

    async def feedback(self, conversation_id: str, message_id: str, rating: str) -> None:
        message = await self.store.get_message(message_id)
        if message is None or message.conversation_id != conversation_id:
            raise InvalidInput("There is no such message in this conversation.")
        if message.role is not Role.BOT:
            raise InvalidInput("Only the bot's answers can be rated.")
        await self.store.record_feedback(conversation_id, message_id, rating)

    async def leave_contact(self, conversation_id: str, client_id: str, email: str) -> Message:
        """The customer's email for a follow-up (offered when nobody can answer now)."""
        address = check_email(email)
        await self.store.set_contact_email(conversation_id, address)
        message, event, created = await self.store.add_message(
            conversation_id,
            Role.SYSTEM,
            f"Thanks. We'll write to you at {address} and reply here too.",
            client_id=f"contact:{client_id}",
        )
        if created:
            await self._publish(event)
            await self.bus.publish(
                QUEUE_TOPIC, {"type": "contact", "conversation_id": conversation_id}
            )
        return message

    async def rate(self, conversation_id: str, score: int, comment: str = "") -> dict[str, Any]:
        """The customer's rating (CSAT 1-5) of a conversation an agent closed."""
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None or conversation.state is not State.CLOSED:
            raise InvalidInput("A conversation can be rated once an agent has closed it.")
        if not 1 <= score <= 5:
            raise InvalidInput("A rating is a whole number from 1 to 5.")
        if len(comment) > MAX_COMMENT:
            raise InvalidInput(f"A comment has at most {MAX_COMMENT} characters.")
        rating = await self.store.rate(conversation_id, score, comment.strip(), conversation.agent)
        await self.bus.publish(
            agent_topic(conversation_id),
            {"type": "rating", "conversation_id": conversation_id, "rating": rating.to_wire()},
        )
        return rating.to_wire()

    async def publish_positions(self, only: str | None = None) -> None:
        """Tell waiting customers their place in the queue: everyone after someone left
        it, ``only`` the newcomer when one joined at the end."""
        for place, entry in enumerate(await self.store.queue(), start=1):
            if only is not None and entry["conversation_id"] != only:
                continue
            await self.bus.publish(
                conversation_topic(entry["conversation_id"]),
                {"type": "position", "position": place},
            )

    async def system_note(self, conversation_id: str, text: str, client_id: str) -> Message:
        """A line in the transcript from the system (not the bot): what a channel noticed,
        such as how much of an answer a caller heard. Once per ``client_id``."""
        message, event, created = await self.store.add_message(
            conversation_id, Role.SYSTEM, text, client_id=client_id
        )
        if created:
            await self._publish(event)
        return message

    async def typing(self, conversation_id: str, role: str = "customer") -> None:
        await self.bus.publish(
            conversation_topic(conversation_id), {"type": "typing", "role": role}
        )

    # -- the bot's turn ------------------------------------------------------------------

    def resume_turn(self, conversation_id: str, message: Message) -> None:
        """Answer a stored question whose turn died with another process (the caller
        holds the conversation's lease: bot.chat.recovery)."""
        self._spawn(self._after_customer_message(conversation_id, message))

    async def _after_customer_message(self, conversation_id: str, message: Message) -> None:
        leased = self.leases.held(conversation_id) if self.leases else contextlib.nullcontext()
        async with leased, self._lock(conversation_id):
            # The message is stored: a database that is briefly away delays its answer,
            # it does not drop it (reads are safe to repeat).
            conversation = await retrying(lambda: self.store.get_conversation(conversation_id))
            if conversation is None:
                return
            if conversation.state is State.CLOSED:
                await self._publish(await self.store.set_state(conversation_id, State.BOT))
            elif conversation.state is not State.BOT:
                return  # a person owns the conversation (or will): the bot stays silent
            await self._turn(conversation_id, message, conversation.channel)

    async def interrupt(self, conversation_id: str) -> bool:
        """Stop the answer being written for this conversation (a caller spoke over it);
        whether there was one. The turn is recorded as ``interrupted``, nothing is said."""
        task = self._answering.get(conversation_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _turn(self, conversation_id: str, message: Message, channel: str = "web") -> None:
        started = time.perf_counter()
        earlier = await retrying(lambda: self._history(conversation_id, exclude=message.id))
        # What the customer said in all forms: text, voice-note transcripts, screenshot text.
        said = build_query(message.text, message.attachments)[: self.max_chars]
        history = [*earlier, Exchange("customer", said)]
        if said and escalation.repeated_failure(earlier, said):
            handover = await self._escalate(conversation_id, REPEATED_FAILURE, history, said)
            fired = Step("conversation_rules", 0.0, {"fired": REPEATED_FAILURE})
            outcome = TurnOutcome(
                MESSAGES[REPEATED_FAILURE],
                [],
                True,
                REPEATED_FAILURE,
                HUMAN_TIER,
                None,
                [],
                [fired],
            )
            await self._record(conversation_id, message.id, handover, outcome, started)
            return
        if not message.text and len(unreadable(message.attachments)) == len(message.attachments):
            # Silence, a picture without text: nothing to search for. Ask, don't escalate.
            await self._bot_says(
                conversation_id, nothing_to_go_on_reply(message.attachments), tier=None
            )
            return
        images: list[tuple[str, bytes]] = []
        if self.uploads is not None:
            images = await self.uploads.image_bytes(message.attachments)

        topic = conversation_topic(conversation_id)
        attempt_ids: dict[int, str] = {}
        unsent: dict[int, list[str]] = {}  # text held back since the last delta frame
        last_sent: dict[int, float] = {}

        async def flush(attempt: int) -> None:
            if unsent.get(attempt):
                text = "".join(unsent.pop(attempt))
                last_sent[attempt] = time.monotonic()
                frame = {"type": "delta", "message_id": attempt_ids[attempt], "text": text}
                await self.bus.publish(topic, frame)

        async def listener(event: TurnEvent) -> None:
            attempt_ids.setdefault(event.attempt, new_id())
            if isinstance(event, Delta):
                # The first piece goes out at once; after that, pieces are coalesced into
                # one frame per DELTA_INTERVAL (a frame per token costs every hop).
                unsent.setdefault(event.attempt, []).append(event.text)
                since = time.monotonic() - last_sent.get(event.attempt, -DELTA_INTERVAL)
                if since >= DELTA_INTERVAL:
                    await flush(event.attempt)
            elif isinstance(event, Sentence):
                # Phone calls speak an answer sentence by sentence, each already accepted
                # by the gate together with the ones before it.
                await flush(event.attempt)
                message_id = attempt_ids[event.attempt]
                await self.bus.publish(
                    topic, {"type": "sentence", "message_id": message_id, "text": event.text}
                )
            elif isinstance(event, Retract):
                unsent.pop(event.attempt, None)
                await self.bus.publish(
                    topic,
                    {
                        "type": "retract",
                        "message_id": attempt_ids[event.attempt],
                        "reason": event.reason,
                    },
                )

        await self.bus.publish(topic, {"type": "typing", "role": "bot"})
        budget = self.budget
        paused = await retrying(lambda: budget.paused(conversation_id)) if budget else None
        answering = asyncio.ensure_future(
            self.answer(
                said,
                style="phone" if channel == PHONE else "chat",
                history=[(m.role, m.text) for m in earlier[-HISTORY_TURNS:]],
                images=images,
                listener=listener,
                paused=paused,
            )
        )
        self._answering[conversation_id] = answering
        try:
            outcome = await answering
        except asyncio.CancelledError:
            if not answering.cancelled() or _cancelling():
                raise  # the service itself is being cancelled, not just this answer
            for message_id in attempt_ids.values():
                await self.bus.publish(
                    topic, {"type": "retract", "message_id": message_id, "reason": INTERRUPTED}
                )
            stopped = Step("interrupted", 0.0)
            outcome = TurnOutcome("", [], False, INTERRUPTED, INTERRUPTED, None, [], [stopped])
            await self._record(conversation_id, message.id, None, outcome, started)
            return
        except Exception:
            # Whatever broke, the customer is not left waiting: a person takes over.
            log.exception("turn failed in conversation %s", conversation_id)
            outcome = TurnOutcome(
                MESSAGES[INTERNAL_ERROR],
                [],
                True,
                INTERNAL_ERROR,
                HUMAN_TIER,
                None,
                [],
                [Step("error", 0.0)],
            )
        finally:
            if self._answering.get(conversation_id) is answering:
                del self._answering[conversation_id]
        reply_id: str | None = None
        if outcome.escalated:
            assert outcome.reason is not None
            reply_id = await self._escalate(
                conversation_id, outcome.reason, history, said, outcome=outcome
            )
        else:
            message_id = attempt_ids.get(outcome.attempt or 0, new_id())
            await flush(outcome.attempt or 0)  # the deltas add up to the final text
            # A database that is briefly away must not lose an answer already streamed.
            reply, event, _ = await retrying(
                lambda: self.store.add_message(
                    conversation_id,
                    Role.BOT,
                    outcome.answer,
                    message_id=message_id,
                    citations=[c.to_dict() for c in outcome.citations],
                    tier=outcome.tier,
                )
            )
            await self._publish(event)
            reply_id = reply.id
        await self._record(conversation_id, message.id, reply_id, outcome, started)

    async def _record(
        self,
        conversation_id: str,
        message_id: str,
        reply_id: str | None,
        outcome: TurnOutcome,
        started: float,
    ) -> None:
        """Keep the turn's decision path (the ``turns`` table) and count it in metrics."""
        latency = (time.perf_counter() - started) * 1000
        record = TurnRecord(
            conversation_id=conversation_id,
            message_id=message_id,
            reply_id=reply_id,
            tier=outcome.tier,
            escalated=outcome.escalated,
            reason=outcome.reason,
            confidence=outcome.confidence,
            decision=[{"stage": s.stage, "ms": s.ms, **s.detail} for s in outcome.decision],
            tokens_in=outcome.usage.tokens_in,
            tokens_out=outcome.usage.tokens_out,
            cost_usd=outcome.usage.cost_usd,
            latency_ms=round(latency, 2),
        )
        try:
            await retrying(lambda: self.store.record_turn(record))
        except STORE_ERRORS:
            # The decision path is for operators; the customer's answer is already out.
            log.exception("turn record of conversation %s lost", conversation_id)
        if self.on_turn is not None:
            self.on_turn(outcome, latency)

    async def _escalate(
        self,
        conversation_id: str,
        reason: str,
        history: Sequence[Exchange],
        question: str,
        outcome: TurnOutcome | None = None,
    ) -> str:
        """Tell the customer, hand the conversation to the queue, notify agents."""
        available = await self.staffing.availability() if self.staffing else None
        reply = await self._bot_says(conversation_id, MESSAGES[reason], tier=HUMAN_TIER)
        summary = escalation.summarize(
            history,
            question,
            reason,
            outcome.passages if outcome else (),
            outcome.confidence if outcome else None,
        )
        event = await self.store.set_state(
            conversation_id,
            State.QUEUED,
            reason=reason,
            summary=summary,
            extra={"availability": available.to_wire()} if available else None,
        )
        await self._publish(event)
        if available is not None and not available.open:
            # Said honestly, with a way to be reached; the widget offers the email form.
            await self._bot_says(conversation_id, available.message(), tier=HUMAN_TIER)
        await self.bus.publish(
            QUEUE_TOPIC,
            {
                "type": "queued",
                "conversation_id": conversation_id,
                "reason": reason,
                "summary": summary,
            },
        )
        await self.publish_positions(only=conversation_id)
        self.notify(
            "conversation.escalated",
            {"conversation_id": conversation_id, "reason": reason, "summary": summary},
        )
        return reply

    async def _bot_says(self, conversation_id: str, text: str, tier: str | None) -> str:
        message_id = new_id()  # fixed before the first attempt: a retry finds it, not a twin
        message, event, _ = await retrying(
            lambda: self.store.add_message(
                conversation_id, Role.BOT, text, tier=tier, message_id=message_id
            )
        )
        await self._publish(event)
        return message.id

    async def _history(self, conversation_id: str, exclude: str | None = None) -> list[Exchange]:
        messages = [
            m for m in await self.store.messages(conversation_id, HISTORY_TURNS) if m.id != exclude
        ]
        ratings = await self.store.ratings([m.id for m in messages if m.role is Role.BOT])
        return [
            Exchange(str(m.role), build_query(m.text, m.attachments), ratings.get(m.id))
            for m in messages
        ]

    # -- plumbing ------------------------------------------------------------------------

    async def _publish(self, event: Event) -> None:
        await self.bus.publish(conversation_topic(event.conversation_id), event.frame())

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("conversation task failed", exc_info=task.exception())

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for running turns (graceful shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
