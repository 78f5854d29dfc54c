"""The in-process bus and the Redis bus (real Redis), through the same contract."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.bus import memory
from bot.bus.memory import MemoryBus
from bot.bus.redis import RedisBus
from bot.errors import BusUnavailable
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request):
    """Each call is one replica's bus: with Redis a new connection, in memory the same
    bus (in-process delivery only reaches one process)."""
    made: list[MemoryBus] = []
    shared = MemoryBus()

    async def make() -> MemoryBus:
        if request.param == "memory":
            return shared
        bus = RedisBus(REDIS_URL)
        await bus.start()
        made.append(bus)
        return bus

    yield make
    for bus in [shared, *made]:
        await bus.close()


async def next_frame(subscription, timeout=5.0):
    iterator = subscription.__aiter__()
    return await asyncio.wait_for(iterator.__anext__(), timeout)


async def test_a_subscriber_gets_frames_in_order(make_bus):
    bus = await make_bus()
    topic = f"conversation:{uuid.uuid4()}"
    sub = await bus.subscribe(topic)
    for i in range(20):
        await bus.publish(topic, {"type": "delta", "i": i})
    it = sub.__aiter__()
    got = [await asyncio.wait_for(it.__anext__(), 5) for _ in range(20)]
    assert [f["i"] for f in got] == list(range(20))
    await sub.close()


async def test_topics_are_separate_and_every_subscriber_gets_each_frame(make_bus):
    bus_a = await make_bus()
    bus_b = await make_bus()  # another replica with Redis; the same bus in memory
    topic, other = f"conversation:{uuid.uuid4()}", f"conversation:{uuid.uuid4()}"
    sub_a = await bus_a.subscribe(topic)
    sub_b = await bus_b.subscribe(topic)
    sub_other = await bus_b.subscribe(other)
    await bus_a.publish(topic, {"n": 1})
    assert await next_frame(sub_a) == {"n": 1}
    assert await next_frame(sub_b) == {"n": 1}
    with pytest.raises(TimeoutError):
        await next_frame(sub_other, timeout=0.3)
    for sub in (sub_a, sub_b, sub_other):
        await sub.close()


async def test_after_close_nothing_more_arrives(make_bus):
    bus = await make_bus()
    topic = f"conversation:{uuid.uuid4()}"
    sub = await bus.subscribe(topic)
    await sub.close()
    await bus.publish(topic, {"n": 1})
    assert [f async for f in sub] == []


async def test_a_subscriber_that_falls_far_behind_is_cut_off(monkeypatch):
    monkeypatch.setattr(memory, "MAX_PENDING", 5)
    bus = MemoryBus()
    sub = await bus.subscribe("t")
    for i in range(10):
        await bus.publish("t", {"i": i})
    got = [f["i"] async for f in sub]
    assert got == [0, 1, 2, 3, 4] and sub.overflowed


async def test_unreachable_redis_is_reported():
    bus = RedisBus("redis://127.0.0.1:9/0")
    with pytest.raises(BusUnavailable, match="cannot reach Redis"):
        await bus.start()
    await bus.close()
