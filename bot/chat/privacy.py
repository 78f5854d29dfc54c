"""Erasure and retention: a conversation's words, files and transcripts, gone everywhere.

:meth:`Privacy.erase` deletes the conversation's rows in one transaction
(:mod:`bot.store.privacy_rows`), then its uploads folder (the cleaned screenshots and
voice notes; their transcripts and text lived in the rows), then tells every socket
of the conversation and every console on any replica: the customer's socket closes
(the widget starts afresh) and the queue no longer lists it.

Uploads live on the disk of the replica that received them. A replica that did not
erase the conversation removes its folder on its next :meth:`Privacy.sweep` (hourly
in the server), because the folder's conversation no longer exists.

Nothing of what was said is logged: only the conversation id and who erased it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from datetime import timedelta
from pathlib import Path

from bot.chat.service import QUEUE_TOPIC
from bot.core.conversation import utcnow
from bot.core.protocols import Bus, agent_topic, conversation_topic
from bot.store.sql import SqlStore

log = logging.getLogger(__name__)
ERASED = {"type": "erased"}
_ID = re.compile(r"[0-9a-f-]{8,64}")
SWEEP_GRACE = 3600.0  # seconds: a folder younger than this may belong to a new conversation


class Privacy:
    def __init__(self, store: SqlStore, bus: Bus, uploads_dir: Path) -> None:
        self.store = store
        self.bus = bus
        self.uploads_dir = uploads_dir

    async def erase(self, conversation_id: str, by: str) -> bool:
        """Erase one conversation; False when there is no such conversation."""
        paths = await self.store.erase_conversation(conversation_id)
        if paths is None:
            return False
        await asyncio.to_thread(self._remove_folder, conversation_id)
        frame = {**ERASED, "conversation_id": conversation_id}
        await self.bus.publish(conversation_topic(conversation_id), frame)
        await self.bus.publish(agent_topic(conversation_id), frame)
        await self.bus.publish(QUEUE_TOPIC, frame)
        log.info("conversation %s erased by %s", conversation_id, by)
        return True

    async def expire(self, days: float) -> int:
        """Erase every conversation with no message for ``days`` days; how many."""
        before = utcnow() - timedelta(days=days)
        erased = 0
        while batch := await self.store.inactive_conversations(before):
            for conversation_id in batch:
                erased += await self.erase(conversation_id, f"retention ({days:g} days)")
        return erased

    async def sweep(self) -> int:
        """Remove upload folders whose conversation no longer exists (erased on another
        replica); how many."""
        removed = 0
        for folder in await asyncio.to_thread(self._old_folders):
            if await self.store.get_conversation(folder.name) is None:
                await asyncio.to_thread(shutil.rmtree, folder, True)
                removed += 1
        return removed

    def _old_folders(self) -> list[Path]:
        if not self.uploads_dir.is_dir():
            return []
        cutoff = time.time() - SWEEP_GRACE
        return [
            p
            for p in self.uploads_dir.iterdir()
            if p.is_dir() and _ID.fullmatch(p.name) and p.stat().st_mtime < cutoff
        ]

    def _remove_folder(self, conversation_id: str) -> None:
        if _ID.fullmatch(conversation_id):  # never a path outside the uploads folder
            shutil.rmtree(self.uploads_dir / conversation_id, ignore_errors=True)
