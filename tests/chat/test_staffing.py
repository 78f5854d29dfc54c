"""Presence, business hours, the customer's email, queue positions and ratings, on a
real SQLite store and the in-process bus."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.bus.memory import MemoryBus
from bot.chat.agents import AgentService, create_agent
from bot.chat.service import ChatService
from bot.chat.staffing import Staffing
from bot.core.hours import BusinessHours
from bot.core.protocols import agent_topic, conversation_topic
from bot.errors import InvalidInput
from bot.store.sql import SqlStore

MONDAY_NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
SATURDAY = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def parts(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    bus = MemoryBus()
    clock = Clock(MONDAY_NOON)
    staffing = Staffing(
        store, BusinessHours.parse("mon-fri 09:00-17:00", "Europe/Berlin"), clock=clock
    )

    async def never(*args, **kwargs):
        raise AssertionError("no bot turn in these tests")

    chat = ChatService(store, bus, never, staffing=staffing)
    agents = AgentService(store, chat)
    dana = await create_agent(store, "dana", "correct horse")
    yield chat, agents, store, bus, clock, dana
    await chat.drain()
    await bus.close()
    await store.close()


async def until(subscription, stop, timeout=10.0):
    got, iterator = [], subscription.__aiter__()
    while True:
        got.append(await asyncio.wait_for(iterator.__anext__(), timeout))
        if stop(got[-1]):
            return got


async def escalate(chat, bus):
    conversation, _ = await chat.start()
    sub = await bus.subscribe(conversation_topic(conversation.id))
    await chat.request_human(conversation.id)
    return conversation, sub


def texts(frames):
    return [f["message"]["text"] for f in frames if f["type"] == "message"]


async def test_nobody_online_the_customer_is_told_and_can_leave_an_email(parts):
    chat, _, store, bus, _, _ = parts
    conversation, sub = await escalate(chat, bus)
    got = await until(sub, lambda f: f["type"] == "position")
    state = next(f for f in got if f["type"] == "state")
    assert state["availability"] == {"status": "nobody_online", "next_open": None}
    assert "Nobody from our support team is online" in texts(got)[-1]
    assert got[-1]["position"] == 1
    await chat.leave_contact(conversation.id, "c1", " ana@example.com ")
    await chat.leave_contact(conversation.id, "c1", "ana@example.com")  # a resend
    thanks = await until(sub, lambda f: f["type"] == "message")
    assert "ana@example.com" in thanks[-1]["message"]["text"]
    assert thanks[-1]["message"]["role"] == "system"
    assert (await store.queue())[0]["email"] == "ana@example.com"
    events = await store.events_after(conversation.id, 0)
    assert sum("ana@example.com" in str(e.payload) for e in events) == 1
    for bad in ("ana", "ana@example", "a b@example.com", "x" * 250 + "@example.com"):
        with pytest.raises(InvalidInput):
            await chat.leave_contact(conversation.id, "c2", bad)


async def test_an_online_agent_means_someone_will_reply_and_away_does_not(parts):
    chat, _, _, bus, _, dana = parts
    await chat.staffing.seen("socket-1", dana.id, "online")
    _, sub = await escalate(chat, bus)
    got = await until(sub, lambda f: f["type"] == "position")
    assert next(f for f in got if f["type"] == "state")["availability"]["status"] == "open"
    assert not any("online right now" in t or "away" in t for t in texts(got))
    await chat.staffing.seen("socket-1", dana.id, "away")
    _, sub = await escalate(chat, bus)
    got = await until(sub, lambda f: f["type"] == "position")
    assert next(f for f in got if f["type"] == "state")["availability"]["status"] == (
        "nobody_online"
    )


async def test_after_hours_the_customer_hears_when_the_team_is_back(parts):
    chat, _, _, bus, clock, dana = parts
    await chat.staffing.seen("socket-1", dana.id, "online")  # online, but it is Saturday
    clock.now = SATURDAY
    _, sub = await escalate(chat, bus)
    got = await until(sub, lambda f: f["type"] == "position")
    availability = next(f for f in got if f["type"] == "state")["availability"]
    assert availability == {"status": "after_hours", "next_open": "2026-11-30T09:00:00+01:00"}
    assert "back Monday at 09:00 (Europe/Berlin)" in texts(got)[-1]


async def test_positions_move_up_when_an_agent_takes_the_first(parts):
    chat, agents, _, bus, _, dana = parts
    first, _ = await escalate(chat, bus)
    _, sub2 = await escalate(chat, bus)
    _, sub3 = await escalate(chat, bus)
    assert (await until(sub3, lambda f: f["type"] == "position"))[-1]["position"] == 3
    await until(sub2, lambda f: f["type"] == "position")
    await agents.take(first.id, dana)
    assert (await until(sub2, lambda f: f["type"] == "position"))[-1]["position"] == 1
    assert (await until(sub3, lambda f: f["type"] == "position"))[-1]["position"] == 2


async def test_closing_asks_for_a_rating_that_agents_see_and_the_store_keeps(parts):
    chat, agents, store, bus, _, dana = parts
    conversation, sub = await escalate(chat, bus)
    with pytest.raises(InvalidInput, match="once an agent has closed"):
        await chat.rate(conversation.id, 5)
    await agents.take(conversation.id, dana)
    notes = await bus.subscribe(agent_topic(conversation.id))
    await agents.close(conversation.id, dana)
    closed = (await until(sub, lambda f: f.get("state") == "closed"))[-1]
    assert closed["rate"] is True and closed["agent"] == {"name": "dana"}
    with pytest.raises(InvalidInput, match="1 to 5"):
        await chat.rate(conversation.id, 6)
    await chat.rate(conversation.id, 4, "  quick, thanks  ")
    frame = (await until(notes, lambda f: f["type"] == "rating"))[-1]
    assert frame["rating"]["score"] == 4 and frame["rating"]["comment"] == "quick, thanks"
    stored = await store.rating(conversation.id)
    assert (stored.score, stored.agent) == (4, "dana")
