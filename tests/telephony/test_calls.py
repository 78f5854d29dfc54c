"""CallService: one conversation per call, one media stream per call, and stream tokens
that are spent by their stream and lapse after their TTL (issue 19, item 7)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.bus.memory import MemoryBus
from bot.chat.service import AuthError, ChatService
from bot.core.conversation import utcnow
from bot.store import tables as t
from bot.store.call_rows import RETRY_WINDOW
from bot.store.sql import SqlStore
from bot.telephony.calls import CallAlreadyStreamed, CallService


def sid() -> str:
    """A call no other test uses (the PostgreSQL database lasts the whole session)."""
    return "CA" + uuid.uuid4().hex


class Clock:
    """Wall time the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(database_url):
    s = SqlStore(database_url)
    await s.start()
    yield s
    await s.close()


@pytest.fixture
async def calls(store, clock):
    async def answerer(question, **kwargs):
        raise AssertionError("no question is asked in these tests")

    bus = MemoryBus()
    yield CallService(store, ChatService(store, bus, answerer), clock=clock)
    await bus.close()


async def test_a_token_opens_one_stream_and_a_replay_then_gets_none(calls):
    call_sid = sid()
    conversation, token = await calls.answer(call_sid, "+15550001111")
    call = await calls.open_stream(call_sid, token)
    assert call.conversation_id == conversation
    with pytest.raises(AuthError):
        await calls.open_stream(call_sid, token)  # a second socket with the same token
    with pytest.raises(CallAlreadyStreamed):
        await calls.answer(call_sid, "+15550001111")  # the webhook replayed


async def test_twilios_retry_before_the_stream_replaces_the_token(calls):
    call_sid = sid()
    conversation, first = await calls.answer(call_sid, "+15550001111")
    again, second = await calls.answer(call_sid, "+15550001111")
    assert again == conversation and second != first
    with pytest.raises(AuthError):
        await calls.open_stream(call_sid, first)  # the answer Twilio never got
    assert (await calls.open_stream(call_sid, second)).conversation_id == conversation


async def test_a_token_lapses_after_its_ttl(calls, clock):
    late_sid = sid()
    prompt_sid = sid()
    _, late = await calls.answer(late_sid, "+15550001111", ttl=60)
    _, prompt = await calls.answer(prompt_sid, "+15550001111", ttl=60)
    clock.now += 59
    await calls.open_stream(prompt_sid, prompt)
    clock.now += 2
    with pytest.raises(AuthError, match="expired"):
        await calls.open_stream(late_sid, late)


async def test_concurrent_streams_with_the_token_open_once(calls):
    call_sid = sid()
    _, token = await calls.answer(call_sid, "+15550001111")
    opened = await asyncio.gather(
        *(calls.open_stream(call_sid, token) for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(o, BaseException) for o in opened) == 1
    assert all(isinstance(o, AuthError) for o in opened if isinstance(o, BaseException))


async def test_a_late_repeat_of_a_call_that_never_streamed_gets_no_token(calls, store):
    call_sid = sid()
    await calls.answer(call_sid, "+15550001111")
    async with store.engine.begin() as conn:
        await conn.execute(
            update(t.calls)
            .where(t.calls.c.call_sid == call_sid)
            .values(created_at=utcnow() - RETRY_WINDOW - timedelta(seconds=1))
        )
    with pytest.raises(CallAlreadyStreamed):
        await calls.answer(call_sid, "+15550001111")
