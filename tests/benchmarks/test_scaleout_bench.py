"""Turns per second through nginx with one replica and with two (make bench).

The deployment of tests/e2e/test_scaleout.py: a Chroma server, PostgreSQL, Redis,
`supportbot serve` replicas behind Debian's nginx with deploy/nginx.conf. 16 customers
ask back to back (each turn a new conversation, so no conversation rule interferes),
the stub model answers at once: what is measured is the server's own work (the
question's embedding, retrieval, the gate, the database and Redis). The figure is the
ratio two replicas / one replica on the same machine in the same run.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.benchmarks.conftest import report
from tests.e2e.chaos import QUESTIONS
from tests.e2e.client import Customer, bot_message
from tests.e2e.nginx import Nginx
from tests.e2e.test_scaleout import deployment
from tests.stubs.openai_stub import StubServer

CLIENTS = 16
SECONDS = 30.0


async def _turns_per_second(proxy: Nginx) -> float:
    done = 0
    stop = time.monotonic() + SECONDS

    async def client(i: int) -> None:
        nonlocal done
        n = 0
        while time.monotonic() < stop:
            customer = Customer(proxy.ws_url)
            await customer.connect()
            await customer.say(QUESTIONS[(i + n) % len(QUESTIONS)])
            await customer.until(bot_message, timeout=60)
            await customer.close()
            if time.monotonic() <= stop:
                done += 1
            n += 1

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return done / (time.monotonic() - started)


@pytest.mark.bench
@pytest.mark.postgres
@pytest.mark.redis
def test_turns_per_second_with_one_and_two_replicas(tmp_path, chroma_url):
    with StubServer() as stub, deployment(tmp_path, stub, chroma_url) as (both, servers, _):
        with Nginx(tmp_path / "nginx-one", [servers[0].port]) as one:
            asyncio.run(_turns_per_second(one))  # warm-up: models, caches, pools
            single = asyncio.run(_turns_per_second(one))
        asyncio.run(_turns_per_second(both))  # warm the second replica too
        double = asyncio.run(_turns_per_second(both))
    report(
        "scaleout_turns_per_second",
        {
            "clients": CLIENTS,
            "seconds per measurement": SECONDS,
            "one replica turns/s": round(single, 2),
            "two replicas turns/s": round(double, 2),
            "two / one": round(double / single, 2),
        },
    )
    assert single > 0 and double > 0
