"""Upload rows of :class:`~bot.store.sql.SqlStore` (kept apart: one concept a module).

An upload is *attached* when a customer message first names it, and *swept* when it
was not attached within the grace period: its result (transcript, text) is cleared and
the row stays, as a tombstone, until :meth:`UploadRows.purge_swept`, so that a late
attach is told the upload expired. Attaching and sweeping are both conditional updates
(an attached upload is never swept, a swept one never attached): whichever commits
first wins, on any replica.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.attachments import Upload, UploadStatus
from bot.core.conversation import as_utc, utcnow
from bot.store import tables as t


def _upload(row: Any) -> Upload:
    return Upload(
        id=row["id"],
        conversation_id=row["conversation_id"],
        kind=row["kind"],
        mime=row["mime"],
        bytes=row["bytes"],
        path=row["path"],
        created_at=as_utc(row["created_at"]),
        meta=dict(row["meta"] or {}),
        status=UploadStatus(row["status"]),
        result=dict(row["result"] or {}),
    )


class UploadRows:
    """Mixed into ``SqlStore``: the ``uploads`` table."""

    engine: AsyncEngine

    def _write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # provided by SqlStore

    async def conversation_by_token(self, token_hash: str) -> str | None:
        """The id of the conversation whose token has this hash."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(t.conversations.c.id).where(t.conversations.c.token_hash == token_hash)
            )
        return str(value) if value is not None else None

    async def add_upload(self, upload: Upload) -> None:
        async with self._write() as conn:
            await conn.execute(
                insert(t.uploads).values(
                    id=upload.id,
                    conversation_id=upload.conversation_id,
                    kind=upload.kind,
                    mime=upload.mime,
                    bytes=upload.bytes,
                    path=upload.path,
                    meta=upload.meta,
                    status=str(upload.status),
                    result=upload.result,
                    created_at=upload.created_at,
                    updated_at=upload.created_at,
                )
            )

    async def get_upload(self, upload_id: str) -> Upload | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(t.uploads).where(t.uploads.c.id == upload_id)))
                .mappings()
                .first()
            )
        return _upload(row) if row else None

    async def finish_upload(
        self, upload_id: str, status: UploadStatus, result: dict[str, Any]
    ) -> None:
        """Store what perception found (or why it failed)."""
        async with self._write() as conn:
            await conn.execute(
                update(t.uploads)
                .where(t.uploads.c.id == upload_id)
                .values(status=str(status), result=result, updated_at=utcnow())
            )

    async def attach_uploads(
        self, conversation_id: str, upload_ids: Sequence[str], now: datetime
    ) -> set[str]:
        """Mark these uploads of the conversation attached (the first time counts); the
        ids among them that are attached. A swept one is not: it expired."""
        u = t.uploads.c
        if not upload_ids:
            return set()
        mine = and_(u.id.in_(list(upload_ids)), u.conversation_id == conversation_id)
        async with self._write() as conn:
            await conn.execute(
                update(t.uploads)
                .where(mine, u.attached_at.is_(None), u.swept_at.is_(None))
                .values(attached_at=now)
            )
            attached = await conn.scalars(select(u.id).where(mine, u.attached_at.is_not(None)))
            return {str(i) for i in attached}

    async def sweep_unattached(
        self, before: datetime, now: datetime, limit: int = 500
    ) -> list[str]:
        """Mark swept (at ``now``) up to ``limit`` uploads stored before ``before`` and never
        attached, clearing what was heard or read in them; their ids, oldest first."""
        u = t.uploads.c
        stale = and_(u.attached_at.is_(None), u.swept_at.is_(None), u.created_at < before)
        oldest = select(u.id).where(stale).order_by(u.created_at).limit(limit)
        async with self._write() as conn:
            swept = await conn.execute(
                update(t.uploads)
                .where(u.id.in_(oldest), stale)  # re-checked: an attach may have won
                .values(swept_at=now, result={}, updated_at=now)
                .returning(u.id, u.created_at)
            )
            rows = sorted(swept.all(), key=lambda row: as_utc(row[1]))
        return [str(row[0]) for row in rows]

    async def purge_swept(self, before: datetime) -> int:
        """Delete the rows of uploads swept before ``before``; how many."""
        async with self._write() as conn:
            result = await conn.execute(delete(t.uploads).where(t.uploads.c.swept_at < before))
        return int(result.rowcount or 0)

    async def live_uploads(self, upload_ids: Sequence[str]) -> set[str]:
        """Of these ids, the uploads that exist and are not swept (their files are kept)."""
        if not upload_ids:
            return set()
        u = t.uploads.c
        query = select(u.id).where(u.id.in_(list(upload_ids)), u.swept_at.is_(None))
        async with self.engine.connect() as conn:
            return {str(i) for i in await conn.scalars(query)}
