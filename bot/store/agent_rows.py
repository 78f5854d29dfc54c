"""Agents, their sessions, internal notes and the queue, for :class:`~bot.store.sql.SqlStore`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.conversation import State, as_utc, new_id, utcnow
from bot.core.names import confusable, name_key
from bot.store import tables as t
from bot.store.call_rows import CALLBACK


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    role: str  # agent | admin
    password_hash: str = ""


@dataclass(frozen=True)
class Note:
    id: str
    conversation_id: str
    agent: str
    text: str
    created_at: datetime
    client_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agent": self.agent,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }


class AgentRows:
    """Mixed into ``SqlStore``."""

    engine: AsyncEngine
    dialect: str

    def _write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # provided by SqlStore

    async def add_agent(self, name: str, password_hash: str, role: str = "agent") -> Agent:
        """Raises ``ValueError`` when the name is taken, or looks like a name that is
        (:func:`bot.core.names.confusable`; compared on read, so rows stored before the
        rule count too)."""
        agent = Agent(new_id(), name, role, password_hash)
        try:
            async with self._write() as conn:
                if self.dialect == "postgresql":
                    # Two replicas adding "carol" and "Carol" at once: one waits for the other.
                    await conn.execute(text("LOCK TABLE agents IN SHARE ROW EXCLUSIVE MODE"))
                for (existing,) in await conn.execute(select(t.agents.c.name)):
                    if name_key(existing) == name_key(name):
                        raise ValueError(f"an agent named {existing!r} exists already")
                    if confusable(existing, name):
                        raise ValueError(
                            f"{name!r} looks like the existing agent {existing!r}: "
                            "choose a name that cannot be mistaken for it"
                        )
                await conn.execute(
                    insert(t.agents).values(
                        id=agent.id,
                        name=name,
                        password_hash=password_hash,
                        role=role,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError as exc:
            raise ValueError(f"an agent named {name!r} exists already") from exc
        return agent

    async def agent_by_name(self, name: str) -> Agent | None:
        """The agent called ``name`` exactly, else the one whose :func:`name_key` matches
        (``CAROL`` signs in as ``carol``); None when none or, for rows stored before names
        were normalised, more than one does."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(t.agents))).mappings().all()
        found = [r for r in rows if r["name"] == name] or [
            r for r in rows if name_key(r["name"]) == name_key(name)
        ]
        if len(found) != 1:
            return None
        row = found[0]
        return Agent(row["id"], row["name"], row["role"], row["password_hash"])

    async def agents(self) -> list[tuple[Agent, int]]:
        """Every agent (without its password hash) and its number of live sessions."""
        s = t.agent_sessions.c
        live = (
            select(s.agent_id, func.count().label("n"))
            .where(s.expires_at >= utcnow())
            .group_by(s.agent_id)
            .subquery()
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.agents.c.id, t.agents.c.name, t.agents.c.role, live.c.n)
                .select_from(t.agents.outerjoin(live, live.c.agent_id == t.agents.c.id))
                .order_by(t.agents.c.name)
            )
            return [(Agent(r[0], r[1], r[2]), int(r[3] or 0)) for r in rows]

    async def remove_agent(self, agent_id: str) -> None:
        """Delete the account and its sessions (conversations keep the name they show)."""
        async with self._write() as conn:
            await conn.execute(
                delete(t.agent_sessions).where(t.agent_sessions.c.agent_id == agent_id)
            )
            await conn.execute(delete(t.agents).where(t.agents.c.id == agent_id))

    async def revoke_sessions(self, agent_id: str) -> int:
        """Sign the agent out everywhere; the number of sessions ended."""
        async with self._write() as conn:
            result = await conn.execute(
                delete(t.agent_sessions).where(t.agent_sessions.c.agent_id == agent_id)
            )
            return int(result.rowcount or 0)

    async def set_password(self, agent_id: str, password_hash: str) -> None:
        """A new password; every session of the old one ends with it."""
        async with self._write() as conn:
            await conn.execute(
                update(t.agents)
                .where(t.agents.c.id == agent_id)
                .values(password_hash=password_hash)
            )
            await conn.execute(
                delete(t.agent_sessions).where(t.agent_sessions.c.agent_id == agent_id)
            )

    async def add_session(self, agent_id: str, token_hash: str, lifetime: timedelta) -> None:
        now = utcnow()
        async with self._write() as conn:
            await conn.execute(
                insert(t.agent_sessions).values(
                    token_hash=token_hash,
                    agent_id=agent_id,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )

    async def agent_for_session(self, token_hash: str) -> Agent | None:
        """The agent of a live session (expired sessions are removed on the way)."""
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(t.agents, t.agent_sessions.c.expires_at)
                        .join(t.agent_sessions, t.agent_sessions.c.agent_id == t.agents.c.id)
                        .where(t.agent_sessions.c.token_hash == token_hash)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        if as_utc(row["expires_at"]) < utcnow():
            async with self._write() as conn:
                await conn.execute(
                    delete(t.agent_sessions).where(t.agent_sessions.c.token_hash == token_hash)
                )
            return None
        return Agent(row["id"], row["name"], row["role"])

    async def queue(self) -> list[dict[str, Any]]:
        """Conversations waiting for a person, oldest first (PROTOCOL's queue entries)."""
        c = t.conversations.c
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        c.id,
                        c.reason,
                        c.summary,
                        c.channel,
                        c.state_since,
                        c.updated_at,
                        c.contact_email,
                        t.calls.c.caller,
                        t.calls.c.outcome,
                    )
                    .select_from(t.conversations.outerjoin(t.calls))
                    .where(c.state == str(State.QUEUED))
                    .order_by(c.state_since, c.id)
                )
            ).mappings()
            return [
                {
                    "conversation_id": r["id"],
                    "reason": r["reason"],
                    "summary": r["summary"],
                    "channel": r["channel"],
                    "waiting_since": as_utc(r["state_since"] or r["updated_at"]).isoformat(),
                    "email": r["contact_email"],
                    # Phone calls: who called, and whether they asked to be called back.
                    "phone": r["caller"],
                    "callback": r["outcome"] == CALLBACK,
                }
                for r in rows
            ]

    async def set_presence(
        self,
        connection_id: str,
        agent_id: str,
        status: str,
        stale_before: datetime,
        now: datetime | None = None,
    ) -> None:
        """Say (again) that this agent socket is open with ``status``; rows not refreshed
        since ``stale_before`` (a replica that died) are removed on the way."""
        p = t.agent_presence.c
        async with self._write() as conn:
            await conn.execute(
                delete(t.agent_presence).where(
                    (p.connection_id == connection_id) | (p.seen_at < stale_before)
                )
            )
            await conn.execute(
                insert(t.agent_presence).values(
                    connection_id=connection_id,
                    agent_id=agent_id,
                    status=status,
                    seen_at=now or utcnow(),
                )
            )

    async def drop_presence(self, connection_id: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                delete(t.agent_presence).where(t.agent_presence.c.connection_id == connection_id)
            )

    async def team(self, fresh_after: datetime) -> list[dict[str, str]]:
        """Agents with an open socket, by name: ``online`` if any of their sockets is."""
        p = t.agent_presence.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.agents.c.name, p.status)
                .join(t.agent_presence, p.agent_id == t.agents.c.id)
                .where(p.seen_at >= fresh_after)
            )
            status: dict[str, str] = {}
            for name, state in rows:
                if status.get(name) != "online":
                    status[name] = state
        return [{"name": n, "status": status[n]} for n in sorted(status)]

    async def owned_by(self, agent: str) -> list[str]:
        """The conversations this agent owns now, longest-owned first."""
        c = t.conversations.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(c.id)
                .where(c.state == str(State.AGENT), c.agent == agent)
                .order_by(c.state_since, c.id)
            )
            return [str(r[0]) for r in rows]

    async def add_note(
        self, conversation_id: str, agent: str, text: str, client_id: str | None
    ) -> tuple[Note, bool]:
        """Store an internal note once per ``client_id``; ``bool`` says it is new."""
        note = Note(new_id(), conversation_id, agent, text, utcnow(), client_id)
        try:
            async with self._write() as conn:
                await conn.execute(
                    insert(t.notes).values(
                        id=note.id,
                        conversation_id=conversation_id,
                        agent=agent,
                        text=text,
                        client_id=client_id,
                        created_at=note.created_at,
                    )
                )
        except IntegrityError:
            seen = [n for n in await self.notes(conversation_id) if n.client_id == client_id]
            if not seen or client_id is None:
                raise
            return seen[0], False
        return note, True

    async def notes(self, conversation_id: str) -> list[Note]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.notes)
                    .where(t.notes.c.conversation_id == conversation_id)
                    .order_by(t.notes.c.created_at, t.notes.c.id)
                )
            ).mappings()
            return [
                Note(
                    r["id"],
                    r["conversation_id"],
                    r["agent"],
                    r["text"],
                    as_utc(r["created_at"]),
                    r["client_id"],
                )
                for r in rows
            ]
