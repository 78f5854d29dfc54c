"""Turn leases and the questions left without a turn (``bot.chat.recovery``)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.conversation import Message, Role, State, utcnow
from bot.store import tables as t


class LeaseRows:
    """Mixed into ``SqlStore``: the ``turn_leases`` table."""

    engine: AsyncEngine

    def _write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # provided by SqlStore

    async def hold_turns(self, conversation_id: str, holder: str, seconds: float) -> None:
        """``holder`` answers this conversation for the next ``seconds`` (taken over from
        whoever held it: a new message is answered where it arrived)."""
        until = utcnow() + timedelta(seconds=seconds)
        lease = t.turn_leases.c
        async with self._write() as conn:
            changed = await conn.execute(
                update(t.turn_leases)
                .where(lease.conversation_id == conversation_id)
                .values(holder=holder, until=until)
            )
            if changed.rowcount == 0:
                await conn.execute(
                    insert(t.turn_leases).values(
                        conversation_id=conversation_id, holder=holder, until=until
                    )
                )

    async def claim_turns(self, conversation_id: str, holder: str, seconds: float) -> bool:
        """Take the lease only if nobody holds it or it lapsed; whether we got it."""
        now = utcnow()
        lease = t.turn_leases.c
        try:
            async with self._write() as conn:
                changed = await conn.execute(
                    update(t.turn_leases)
                    .where(lease.conversation_id == conversation_id, lease.until < now)
                    .values(holder=holder, until=now + timedelta(seconds=seconds))
                )
                if changed.rowcount == 1:
                    return True
                held = await conn.scalar(
                    select(lease.holder).where(lease.conversation_id == conversation_id)
                )
                if held is not None:
                    return False
                await conn.execute(
                    insert(t.turn_leases).values(
                        conversation_id=conversation_id,
                        holder=holder,
                        until=now + timedelta(seconds=seconds),
                    )
                )
                return True
        except IntegrityError:
            return False  # another replica inserted it first

    async def release_turns(self, conversation_id: str, holder: str) -> None:
        lease = t.turn_leases.c
        async with self._write() as conn:
            await conn.execute(
                delete(t.turn_leases).where(
                    lease.conversation_id == conversation_id, lease.holder == holder
                )
            )

    async def unanswered(self, asked_before: datetime, since: datetime) -> list[Message]:
        """Web conversations the bot owns whose last message is a question asked between
        ``since`` and ``asked_before``, after the conversation came to the bot, that no
        turn took up, and whose lease lapsed (or never was): questions whose turn died
        with its process."""
        from bot.store.sql import _message  # one row shape for every reader

        m, c, lease = t.messages.c, t.conversations.c, t.turn_leases.c
        later = t.messages.alias("later")
        query = (
            select(t.messages)
            .join(t.conversations, c.id == m.conversation_id)
            .outerjoin(t.turn_leases, lease.conversation_id == m.conversation_id)
            .where(
                c.channel == "web",
                c.state.in_([State.BOT.value, State.CLOSED.value]),
                m.role == Role.CUSTOMER.value,
                m.created_at < asked_before,
                m.created_at >= since,
                or_(c.state_since.is_(None), m.created_at >= c.state_since),
                ~exists().where(
                    and_(later.c.conversation_id == m.conversation_id, later.c.seq > m.seq)
                ),
                ~exists().where(t.turns.c.message_id == m.id),
                or_(lease.conversation_id.is_(None), lease.until < utcnow()),
            )
            .order_by(m.created_at)
            .limit(100)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings()
            return [_message(r) for r in rows]
