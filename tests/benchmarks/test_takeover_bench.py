"""Customer message on replica A → visible on an agent's socket on replica B.

Two server processes share PostgreSQL and Redis. N conversations (50, then 500) are
escalated by their customers on A and taken over by agents on B (10 agent sockets),
so every customer message is stored on A, published through Redis and forwarded by B.
Customers then send messages at a steady 25 per second, round robin, and the time
from a customer's send to the frame arriving on the owning agent's socket is recorded.
Beside it, in the same run: a bare Redis PUBLISH → subscriber round trip with a payload
of the same size, from this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid

import pytest
import redis.asyncio as aioredis

from tests.benchmarks.conftest import percentile, report
from tests.conftest import REDIS_URL, fresh_postgres_database
from tests.e2e.client import AgentClient, Customer, queued
from tests.e2e.server import ServerProcess

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.redis]
AGENTS = 10
SAMPLES = 300
RATE = 25.0  # customer messages per second, all conversations together


async def bare_redis(samples: int, payload: str) -> list[float]:
    client = aioredis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    channel = f"bench:{uuid.uuid4()}"
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await client.publish(channel, payload)
        while (await pubsub.get_message(timeout=1)) is None:
            pass
        times.append(time.perf_counter() - started)
        await asyncio.sleep(1 / RATE)
    await pubsub.aclose()
    await client.aclose()
    return times


async def run(a: ServerProcess, b: ServerProcess, n: int) -> list[float]:
    agents = [AgentClient(b.url) for _ in range(AGENTS)]
    for i, agent in enumerate(agents):
        await agent.login(f"agent{i}", "bench password")
    customers = []
    for i in range(n):
        customer = Customer(a.ws_url)
        await customer.connect()
        await customer.send({"type": "human", "client_id": "h"})
        await customer.until(queued)
        agent = agents[i % AGENTS]
        await agent.send({"type": "take", "conversation_id": customer.conversation_id})
        await agent.until(
            lambda f, cid=customer.conversation_id: (
                f.get("conversation_id") == cid and f.get("state") == "agent"
            )
        )
        customers.append((customer, agent))
    pending: dict[str, float] = {}
    latencies: list[float] = []

    async def listen(agent: AgentClient) -> None:
        while True:
            frame = json.loads(await agent.ws.recv())
            if frame.get("type") == "message" and frame["message"]["text"] in pending:
                latencies.append(time.perf_counter() - pending.pop(frame["message"]["text"]))

    listeners = [asyncio.create_task(listen(agent)) for agent in agents]
    for k in range(SAMPLES):
        customer, _ = customers[k % n]
        text = f"sample {k} {uuid.uuid4()}"
        pending[text] = time.perf_counter()
        await customer.say(text)
        await asyncio.sleep(1 / RATE)
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in listeners:
        task.cancel()
    for customer, _ in customers:
        await customer.close()
    for agent in agents:
        await agent.close()
    assert not pending, f"{len(pending)} messages never reached an agent"
    return latencies


def test_customer_on_a_to_agent_on_b(tmp_path_factory):
    with fresh_postgres_database() as database, contextlib.ExitStack() as stack:
        env = {"SUPPORTBOT_DATABASE_URL": database, "SUPPORTBOT_REDIS_URL": REDIS_URL}
        a, b = (
            stack.enter_context(ServerProcess(tmp_path_factory.mktemp(f"r{i}"), env))
            for i in range(2)
        )
        for i in range(AGENTS):
            a.add_agent(f"agent{i}", "bench password")
        figures: dict[str, float | int | str] = {"samples": SAMPLES, "rate_per_s": RATE}
        payload = json.dumps({"type": "message", "seq": 9, "message": {"text": "x" * 120}})
        for n in (50, 500):
            ours = asyncio.run(run(a, b, n))
            bare = asyncio.run(bare_redis(SAMPLES, payload))
            figures[f"{n}_p50_ms"] = round(percentile(ours, 50) * 1000, 2)
            figures[f"{n}_p99_ms"] = round(percentile(ours, 99) * 1000, 2)
            figures[f"{n}_bare_redis_p50_ms"] = round(percentile(bare, 50) * 1000, 3)
            figures[f"{n}_bare_redis_p99_ms"] = round(percentile(bare, 99) * 1000, 3)
            figures[f"{n}_p99_ratio"] = round(percentile(ours, 99) / percentile(bare, 99), 1)
    report("takeover_latency", figures)
