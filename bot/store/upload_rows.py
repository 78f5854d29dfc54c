"""Upload rows of :class:`~bot.store.sql.SqlStore` (kept apart: one concept a module)."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import insert, select, update
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
