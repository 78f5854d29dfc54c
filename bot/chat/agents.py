"""Agents taking over conversations: accounts, sessions, take / release / close, replies
and internal notes. No web framework.

Ownership is decided by the database: a take is a state change that expects the
conversation to be ``queued`` or ``bot``, checked under the row lock of the transaction
that changes it, so of two agents on two replicas exactly one gets it.

Internal notes are stored in their own table and published on an agents-only topic
(:func:`agent_topic`); customer sockets never subscribe to it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.chat.service import QUEUE_TOPIC, ChatService, hash_token
from bot.core.conversation import Event, OwnershipConflict, Role, State
from bot.core.names import check_name
from bot.core.protocols import agent_topic, conversation_topic
from bot.errors import InvalidInput, SupportBotError
from bot.store.agent_rows import Agent, Note
from bot.store.sql import SqlStore

SESSION_LIFETIME = timedelta(hours=12)
_HASHER = PasswordHasher()  # argon2id with the library's current parameters
# Verifying against this keeps "no such agent" as slow as "wrong password".
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class AgentActionRefused(SupportBotError):
    """An agent's action cannot be done; ``code`` is stable (``already_taken``,
    ``not_owner``, ``not_found``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise InvalidInput("A password has at least 8 characters.")
    return _HASHER.hash(password)


async def create_agent(store: SqlStore, name: str, password: str, role: str = "agent") -> Agent:
    """A new account (``supportbot agent add``, an admin in the console). A name that is
    taken, or that mixes scripts or looks like a taken one (:mod:`bot.core.names`), is
    refused with ``InvalidInput`` or ``ValueError`` saying why."""
    name = check_name(name)
    if role not in ("agent", "admin"):
        raise InvalidInput("The role is agent or admin.")
    return await store.add_agent(name, hash_password(password), role)


async def reset_password(store: SqlStore, name: str, password: str) -> Agent:
    """A new password for the agent called ``name``; its sessions end (``ValueError``
    when there is no such agent)."""
    agent = await store.agent_by_name(name)
    if agent is None:
        raise ValueError(f"no agent named {name!r}")
    await store.set_password(agent.id, hash_password(password))
    return agent


class AgentService:
    def __init__(self, store: SqlStore, chat: ChatService) -> None:
        self.store = store
        self.chat = chat
        self.bus = chat.bus

    # -- accounts ----------------------------------------------------------------------

    async def login(self, name: str, password: str) -> str | None:
        """A new session token, or None for wrong credentials (same time either way)."""
        agent = await self.store.agent_by_name(name)
        try:
            _HASHER.verify(agent.password_hash if agent else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if agent is None:
            return None
        token = secrets.token_urlsafe(32)
        await self.store.add_session(agent.id, hash_token(token), SESSION_LIFETIME)
        return token

    async def authenticate(self, token: str) -> Agent | None:
        return await self.store.agent_for_session(hash_token(token))

    # -- ownership -----------------------------------------------------------------------

    async def take(self, conversation_id: str, agent: Agent) -> Event | None:
        """Become the owner; None when this agent owns it already (a console reload)."""
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            raise AgentActionRefused("not_found", "There is no such conversation.")
        if conversation.state is State.AGENT and conversation.agent == agent.name:
            return None
        try:
            event = await self.store.set_state(
                conversation_id,
                State.AGENT,
                agent=agent.name,
                expect=frozenset({State.QUEUED, State.BOT}),
            )
        except OwnershipConflict as exc:
            raise AgentActionRefused(
                "already_taken", f"Someone else has this conversation ({exc})."
            ) from exc
        await self._announce(event, "taken", agent.name)
        await self.chat.publish_positions()
        self.chat.notify(
            "conversation.taken", {"conversation_id": conversation_id, "agent": agent.name}
        )
        return event

    async def release(self, conversation_id: str, agent: Agent, reason: str) -> Event:
        """Hand the conversation back to the bot."""
        event = await self._owned_change(conversation_id, agent, State.BOT, reason[:64] or None)
        await self._announce(event, "released", agent.name)
        self.chat.notify(
            "conversation.released",
            {"conversation_id": conversation_id, "agent": agent.name, "reason": reason[:64]},
        )
        return event

    async def close(self, conversation_id: str, agent: Agent) -> Event:
        """Close, and ask the customer to rate the conversation (``rate: true``); the
        closing agent's name stays with it for the rating."""
        event = await self._owned_change(
            conversation_id, agent, State.CLOSED, None, keep_agent=True, extra={"rate": True}
        )
        await self._announce(event, "closed", agent.name)
        self.chat.notify(
            "conversation.closed", {"conversation_id": conversation_id, "agent": agent.name}
        )
        return event

    async def _owned_change(
        self,
        conversation_id: str,
        agent: Agent,
        state: State,
        reason: str | None,
        *,
        keep_agent: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> Event:
        try:
            return await self.store.set_state(
                conversation_id,
                state,
                reason=reason,
                agent=agent.name if keep_agent else None,
                expect=frozenset({State.AGENT}),
                expect_agent=agent.name,
                extra=extra,
            )
        except OwnershipConflict as exc:
            raise AgentActionRefused(
                "not_owner", f"You do not own this conversation ({exc})."
            ) from exc
        except KeyError as exc:
            raise AgentActionRefused("not_found", "There is no such conversation.") from exc

    async def _announce(self, event: Event, what: str, agent: str) -> None:
        await self.bus.publish(conversation_topic(event.conversation_id), event.frame())
        await self.bus.publish(
            QUEUE_TOPIC, {"type": what, "conversation_id": event.conversation_id, "agent": agent}
        )

    # -- talking ---------------------------------------------------------------------------

    async def reply(
        self, conversation_id: str, agent: Agent, client_id: str, text: str
    ) -> tuple[Any, Event]:
        """A message to the customer, live (idempotent on ``client_id``)."""
        await self._require_owner(conversation_id, agent)
        body = self.chat.validate(text, ())
        message, event, created = await self.store.add_message(
            conversation_id, Role.AGENT, body, client_id=f"agent:{client_id}"
        )
        if created:
            await self.bus.publish(conversation_topic(conversation_id), event.frame())
        return message, event

    async def note(self, conversation_id: str, agent: Agent, client_id: str, text: str) -> Note:
        """An internal note: agents only, never the customer."""
        body = self.chat.validate(text, ())
        if await self.store.get_conversation(conversation_id) is None:
            raise AgentActionRefused("not_found", "There is no such conversation.")
        note, created = await self.store.add_note(conversation_id, agent.name, body, client_id)
        if created:
            await self.bus.publish(
                agent_topic(conversation_id),
                {"type": "note", "conversation_id": conversation_id, "note": note.to_wire()},
            )
        return note

    async def typing(self, conversation_id: str, agent: Agent) -> None:
        await self._require_owner(conversation_id, agent)
        await self.chat.typing(conversation_id, role="agent")

    async def _require_owner(self, conversation_id: str, agent: Agent) -> None:
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            raise AgentActionRefused("not_found", "There is no such conversation.")
        if conversation.state is not State.AGENT or conversation.agent != agent.name:
            raise AgentActionRefused("not_owner", "Take the conversation over first.")
