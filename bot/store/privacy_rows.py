"""Erasure and retention, and what the model budgets count, for ``SqlStore``.

Erasing a conversation deletes every row that holds what the customer or anyone else
said in it: messages (with transcripts and screenshot text in their attachments),
history events (their frames repeat the text), turns (decision paths), notes,
feedback, ratings, uploads and the call row (the caller's number), then the
conversation itself (its summary and email). Child rows are deleted explicitly, not
left to ``ON DELETE CASCADE``, which SQLite enforces only with a pragma.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store import tables as t

# Every table with a conversation_id, children before the conversation.
_CHILDREN = (
    t.turn_leases,
    t.events,
    t.turns,
    t.feedback,
    t.notes,
    t.csat,
    t.calls,
    t.uploads,
    t.messages,
)


class PrivacyRows:
    """Mixed into ``SqlStore``."""

    engine: AsyncEngine

    def _write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # provided by SqlStore

    async def erase_conversation(self, conversation_id: str) -> list[str] | None:
        """Delete the conversation and everything in it, in one transaction; the stored
        upload paths (relative to the uploads directory) for the caller to delete, or
        None when there was no such conversation."""
        c = t.conversations.c
        async with self._write() as conn:
            found = await conn.scalar(select(c.id).where(c.id == conversation_id))
            if found is None:
                return None
            paths = list(
                await conn.scalars(
                    select(t.uploads.c.path).where(t.uploads.c.conversation_id == conversation_id)
                )
            )
            for table in _CHILDREN:
                await conn.execute(delete(table).where(table.c.conversation_id == conversation_id))
            await conn.execute(delete(t.conversations).where(c.id == conversation_id))
        return [str(p) for p in paths]

    async def inactive_conversations(self, before: datetime, limit: int = 500) -> list[str]:
        """Conversations started before ``before`` with no message since (oldest first)."""
        c, m = t.conversations.c, t.messages.c
        recent = exists().where(m.conversation_id == c.id, m.created_at >= before)
        query = (
            select(c.id).where(c.created_at < before, ~recent).order_by(c.created_at).limit(limit)
        )
        async with self.engine.connect() as conn:
            return [str(i) for i in await conn.scalars(query)]

    async def upload_paths(self) -> set[str]:
        """Every stored upload path (files on disk without a row are left-overs)."""
        async with self.engine.connect() as conn:
            return {str(p) for p in await conn.scalars(select(t.uploads.c.path))}

    async def conversation_tokens(self, conversation_id: str) -> int:
        """Model tokens (in + out) the conversation's turns have spent."""
        tu = t.turns.c
        async with self.engine.connect() as conn:
            total = await conn.scalar(
                select(func.coalesce(func.sum(tu.tokens_in + tu.tokens_out), 0)).where(
                    tu.conversation_id == conversation_id
                )
            )
        return int(total or 0)

    async def cost_since(self, since: datetime) -> float:
        """USD spent on models by all turns since ``since``."""
        tu = t.turns.c
        async with self.engine.connect() as conn:
            total = await conn.scalar(
                select(func.coalesce(func.sum(tu.cost_usd), 0.0)).where(tu.created_at >= since)
            )
        return float(total or 0.0)
