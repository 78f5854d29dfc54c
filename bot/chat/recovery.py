"""Questions whose turn died with its process are answered by another (or the restarted) one.

A turn lives in the memory of the process that runs it: when that process is killed
(a crash, an OOM kill, a deploy without draining), the customer's question is stored
and shown but nothing answers it. So every process holds a *lease* on each conversation
while that conversation's turns are queued or running there, renewed every
``seconds / 3``. Every process also looks, every ``sweep_seconds``, for web
conversations the bot owns whose last message is a question with no turn and whose
lease lapsed; it claims the lease (only one process can) and runs the turn, which
answers that question with the conversation as context.

A question is picked up between ``seconds`` and ``seconds + sweep_seconds`` after its
process died, never while a live process is still answering it. A process blocked for
longer than a whole lease could see its question answered twice (the bound is stated in
docs/security.md). Leases are best effort: a database error while holding or renewing
one is logged and the turn goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from bot.core.conversation import Message, new_id, utcnow
from bot.store.sql import STORE_ERRORS, SqlStore

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0
SWEEP_SECONDS = 5.0
# A question older than this is left alone: after a long outage a person should look.
GIVE_UP_AFTER = timedelta(hours=24)


class TurnLeases:
    """The leases this process holds, one per conversation with turns queued or running."""

    def __init__(self, store: SqlStore, seconds: float = LEASE_SECONDS) -> None:
        self.store = store
        self.seconds = seconds
        self.holder = new_id()
        self._waiting: Counter[str] = Counter()
        self._renewers: dict[str, asyncio.Task[None]] = {}

    @contextlib.asynccontextmanager
    async def held(self, conversation_id: str) -> AsyncIterator[None]:
        """Hold the conversation's lease for the duration of the block (nested blocks of
        one conversation share it)."""
        self._waiting[conversation_id] += 1
        if self._waiting[conversation_id] == 1:
            await self._hold(conversation_id)
            self._renewers[conversation_id] = asyncio.create_task(self._renew(conversation_id))
        try:
            yield
        finally:
            self._waiting[conversation_id] -= 1
            if self._waiting[conversation_id] == 0:
                del self._waiting[conversation_id]
                self._renewers.pop(conversation_id).cancel()
                try:
                    await self.store.release_turns(conversation_id, self.holder)
                except STORE_ERRORS:
                    log.warning("could not release the turn lease of %s", conversation_id)

    async def _hold(self, conversation_id: str) -> None:
        try:
            await self.store.hold_turns(conversation_id, self.holder, self.seconds)
        except STORE_ERRORS:
            log.warning("could not hold the turn lease of %s", conversation_id)

    async def _renew(self, conversation_id: str) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            await self._hold(conversation_id)

    async def claim(self, conversation_id: str) -> bool:
        return await self.store.claim_turns(conversation_id, self.holder, self.seconds)


# Starts the turn for (conversation id, question) in the background.
Answer = Callable[[str, Message], None]


async def sweep(store: SqlStore, leases: TurnLeases, answer: Answer) -> int:
    """Answer every question left without a turn whose lease lapsed; how many were taken."""
    now = utcnow()
    taken = 0
    for question in await store.unanswered(
        asked_before=now - timedelta(seconds=leases.seconds), since=now - GIVE_UP_AFTER
    ):
        if await leases.claim(question.conversation_id):
            log.info(
                "answering a question left without a turn in conversation %s",
                question.conversation_id,
            )
            answer(question.conversation_id, question)
            taken += 1
    return taken


async def recover_forever(
    store: SqlStore, leases: TurnLeases, answer: Answer, every: float = SWEEP_SECONDS
) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await sweep(store, leases, answer)
        except STORE_ERRORS:
            log.warning("the sweep for unanswered questions failed; retrying")
