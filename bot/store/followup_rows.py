"""What a customer leaves for after the chat: an email for a follow-up and a rating of
the conversation, for :class:`~bot.store.sql.SqlStore`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.conversation import as_utc, utcnow
from bot.store import tables as t


@dataclass(frozen=True)
class Rating:
    conversation_id: str
    score: int
    comment: str
    agent: str | None
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "score": self.score,
            "comment": self.comment,
            "agent": self.agent,
            "created_at": self.created_at.isoformat(),
        }


class FollowupRows:
    """Mixed into ``SqlStore``."""

    engine: AsyncEngine

    def _write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # provided by SqlStore

    async def set_contact_email(self, conversation_id: str, email: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(t.conversations)
                .where(t.conversations.c.id == conversation_id)
                .values(contact_email=email)
            )

    async def contact_email(self, conversation_id: str) -> str | None:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(t.conversations.c.contact_email).where(
                    t.conversations.c.id == conversation_id
                )
            )
        return str(value) if value else None

    async def rate(
        self, conversation_id: str, score: int, comment: str, agent: str | None
    ) -> Rating:
        """Keep the customer's rating; a second one replaces the first."""
        rating = Rating(conversation_id, score, comment, agent, utcnow())
        async with self._write() as conn:
            await conn.execute(delete(t.csat).where(t.csat.c.conversation_id == conversation_id))
            await conn.execute(
                insert(t.csat).values(
                    conversation_id=conversation_id,
                    score=score,
                    comment=comment,
                    agent=agent,
                    created_at=rating.created_at,
                )
            )
        return rating

    async def rating(self, conversation_id: str) -> Rating | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(t.csat).where(t.csat.c.conversation_id == conversation_id)
                    )
                )
                .mappings()
                .first()
            )
        return _rating(row) if row else None

    async def ratings_since(self, since: datetime) -> list[Rating]:
        """Ratings given since ``since``, newest first."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.csat)
                    .where(t.csat.c.created_at >= since)
                    .order_by(t.csat.c.created_at.desc())
                )
            ).mappings()
            return [_rating(r) for r in rows]


def _rating(row: Any) -> Rating:
    return Rating(
        row["conversation_id"],
        int(row["score"]),
        row["comment"],
        row["agent"],
        as_utc(row["created_at"]),
    )
