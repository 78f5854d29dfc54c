"""Phone calls, for :class:`~bot.store.sql.SqlStore`: which conversation a Twilio call
is, who called, what its media stream must present, and how it left the bot."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.conversation import utcnow
from bot.store import tables as t

TRANSFER = "transfer"  # handed to a person: after the stream, <Dial> or <Enqueue>
CALLBACK = "callback"  # nobody could answer: we call the caller back
# ``stream_token_hash`` once the call's one media stream has begun: no token hashes to it,
# so the spent token, and any later one, is refused.
STREAM_OPENED = "opened"
# How long after the first webhook a repeat may still replace the stream token: Twilio
# retries a webhook it got no answer to within seconds; later, it is a replay.
RETRY_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Call:
    call_sid: str
    conversation_id: str | None  # None for an instant while the first request creates it
    caller: str
    stream_token_hash: str
    outcome: str | None


class CallRows:
    """Mixed into ``SqlStore``."""

    engine: AsyncEngine

    def _write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # provided by SqlStore

    async def claim_call(self, call_sid: str, caller: str, stream_token_hash: str) -> bool:
        """Record a call the first time its webhook comes; ``False`` for a repeat (Twilio
        retries, replays), which only replaces the stream token, and only while the call's
        stream has not begun and within :data:`RETRY_WINDOW` of the first."""
        try:
            async with self._write() as conn:
                await conn.execute(
                    insert(t.calls).values(
                        call_sid=call_sid,
                        caller=caller,
                        stream_token_hash=stream_token_hash,
                        created_at=utcnow(),
                    )
                )
            return True
        except IntegrityError:
            async with self._write() as conn:
                await conn.execute(
                    update(t.calls)
                    .where(
                        t.calls.c.call_sid == call_sid,
                        t.calls.c.stream_token_hash != STREAM_OPENED,
                        t.calls.c.created_at >= utcnow() - RETRY_WINDOW,
                    )
                    .values(stream_token_hash=stream_token_hash)
                )
            return False

    async def open_call_stream(self, call_sid: str, stream_token_hash: str) -> bool:
        """Spend the call's stream token: ``True`` for exactly one stream of the call,
        across replicas (the row changes once)."""
        async with self._write() as conn:
            result = await conn.execute(
                update(t.calls)
                .where(
                    t.calls.c.call_sid == call_sid,
                    t.calls.c.stream_token_hash == stream_token_hash,
                )
                .values(stream_token_hash=STREAM_OPENED)
            )
            return bool(result.rowcount == 1)

    async def attach_call(self, call_sid: str, conversation_id: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(t.calls)
                .where(t.calls.c.call_sid == call_sid)
                .values(conversation_id=conversation_id)
            )

    async def get_call(self, call_sid: str) -> Call | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(t.calls).where(t.calls.c.call_sid == call_sid)))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return Call(
            row["call_sid"],
            row["conversation_id"],
            row["caller"],
            row["stream_token_hash"],
            row["outcome"],
        )

    async def set_call_outcome(self, call_sid: str, outcome: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(t.calls).where(t.calls.c.call_sid == call_sid).values(outcome=outcome)
            )
