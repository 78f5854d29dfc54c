"""Conversations, messages, events and who owns a conversation. Pure values, no I/O.

Ownership is a small state machine: exactly one owner at a time.

::

    bot ──► queued ──► agent ──► bot
     │  ╲      │  ╲       │
     │   ╲     ▼   ╲      ▼
     │    ╲► closed ◄──── (any) ; closed ──► bot when the customer writes again
     └──────► agent (an agent may step in without a queue)

Everything that belongs to a conversation's history (a message, an ownership
change) is an :class:`Event` with a ``seq`` that grows by one per conversation,
so a client that reconnects asks for ``seq > last_seq`` and misses nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class State(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    CLOSED = "closed"


class Role(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.BOT: frozenset({State.QUEUED, State.AGENT, State.CLOSED}),
    State.QUEUED: frozenset({State.AGENT, State.BOT, State.CLOSED}),
    State.AGENT: frozenset({State.BOT, State.QUEUED, State.CLOSED}),
    # A customer who writes into a closed conversation reopens it with the bot.
    State.CLOSED: frozenset({State.BOT}),
}


class TransitionError(ValueError):
    """An ownership change that the state machine does not allow."""


class OwnershipConflict(TransitionError):
    """The conversation is not in the state (or not with the owner) the change assumed:
    another agent took it first, or it was handed back or closed meanwhile."""


def check_transition(current: State, new: State) -> None:
    if new not in TRANSITIONS[current]:
        raise TransitionError(f"a conversation cannot go from {current} to {new}")


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back naive ones)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Conversation:
    id: str
    state: State
    channel: str
    created_at: datetime
    last_seq: int = 0
    reason: str | None = None
    summary: str | None = None
    agent: str | None = None
    visitor: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    role: Role
    text: str
    created_at: datetime
    citations: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    tier: str | None = None
    client_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``message`` object of PROTOCOL.md."""
        wire: dict[str, Any] = {
            "id": self.id,
            "role": str(self.role),
            "text": self.text,
            "citations": self.citations,
            "attachments": self.attachments,
            "created_at": self.created_at.isoformat(),
        }
        if self.tier is not None:
            wire["tier"] = self.tier
        if self.client_id is not None:
            # The sender's id: a client that lost the ack still recognises its message.
            wire["client_id"] = self.client_id
        return wire


@dataclass(frozen=True)
class Event:
    """One history event of a conversation; ``frame()`` is what clients receive."""

    conversation_id: str
    seq: int
    type: str  # "message" | "state"
    payload: dict[str, Any]

    def frame(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, **self.payload}


def message_payload(message: Message) -> dict[str, Any]:
    return {"message": message.to_wire()}


def state_payload(
    state: State, reason: str | None = None, agent: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"state": str(state)}
    if reason is not None:
        payload["reason"] = reason
    if agent is not None:
        payload["agent"] = {"name": agent}
    return payload
