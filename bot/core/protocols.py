"""Seams the core depends on (implementations live outside the core)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.core.attachments import Upload, UploadStatus
from bot.core.conversation import Conversation, Event, Message, Role, State
from bot.core.types import Passage


@runtime_checkable
class KnowledgeBase(Protocol):
    """Where answers come from."""

    def search(self, query: str, k: int) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first, each with a 0..1 score."""
        ...


@dataclass(frozen=True)
class TurnRecord:
    """The decision path of one bot turn, kept for operators (``turns`` table, metrics)."""

    conversation_id: str
    message_id: str | None  # the customer message that started the turn
    reply_id: str | None  # the bot message it produced
    tier: str
    escalated: bool
    reason: str | None
    confidence: float | None
    decision: list[dict[str, Any]]
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0


class Store(Protocol):
    """Conversations, messages and their events. Every write that adds to a conversation's
    history allocates the next ``seq`` in the same transaction."""

    async def create_conversation(
        self, *, channel: str, token_hash: str, visitor: dict[str, Any]
    ) -> Conversation: ...

    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    async def token_hash(self, conversation_id: str) -> str | None: ...

    async def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        client_id: str | None = None,
        message_id: str | None = None,
        citations: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        tier: str | None = None,
    ) -> tuple[Message, Event, bool]:
        """Store a message and its event; ``bool`` is False when ``client_id`` was seen
        before, in which case the first message and its event come back unchanged."""
        ...

    async def set_state(
        self,
        conversation_id: str,
        state: State,
        *,
        reason: str | None = None,
        summary: str | None = None,
        agent: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Event:
        """Change ownership (raises ``TransitionError`` when not allowed); ``extra`` fields
        go into the state event."""
        ...

    async def events_after(self, conversation_id: str, seq: int) -> list[Event]: ...

    async def messages(self, conversation_id: str, limit: int = 50) -> list[Message]:
        """The latest ``limit`` messages, oldest first."""
        ...

    async def get_message(self, message_id: str) -> Message | None: ...

    async def record_turn(self, record: TurnRecord) -> None: ...

    async def record_feedback(self, conversation_id: str, message_id: str, rating: str) -> None: ...

    async def ratings(self, message_ids: list[str]) -> dict[str, str]:
        """The latest rating of each of these messages that has one."""
        ...

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...


class UploadStore(Protocol):
    """Uploads and what was perceived in them (the files live under the data directory)."""

    async def conversation_by_token(self, token_hash: str) -> str | None: ...

    async def add_upload(self, upload: Upload) -> None: ...

    async def get_upload(self, upload_id: str) -> Upload | None: ...

    async def finish_upload(
        self, upload_id: str, status: UploadStatus, result: dict[str, Any]
    ) -> None: ...


class Subscription(Protocol):
    """Frames published on one topic, in order, from the moment of subscribing."""

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


class Bus(Protocol):
    """Fan-out of live frames (history events and transient ones such as ``delta``)."""

    async def publish(self, topic: str, frame: dict[str, Any]) -> None: ...

    async def subscribe(self, topic: str) -> Subscription:
        """Returns once the subscription is active: nothing published after it is missed."""
        ...


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def agent_topic(conversation_id: str) -> str:
    """Agents-only frames of a conversation (notes, ratings); no customer socket
    subscribes to it."""
    return f"agents:{conversation_id}"
