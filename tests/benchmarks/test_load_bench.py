"""Load on one server process: 2,000 idle widget sockets, then 200 conversations asking at
once with the OpenAI stub as ``mini`` (time to first token D = 200 ms), beside a bare
``websockets`` echo server measured in the same run with the same clients.

Figures: memory per idle connection (server RSS growth / sockets, next to the echo
server's), p50/p99 of send → ack and send → first delta at 200 conversations, and the
ratios against the echo round trip (ack) and the echo round trip + D (first delta).

``test_soak`` (``make soak``, 20 minutes by default) keeps conversations going and
reports memory growth.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import websockets

from tests.benchmarks.conftest import percentile, report
from tests.conftest import fresh_postgres_database
from tests.e2e.client import Customer, bot_message
from tests.e2e.server import ServerProcess
from tests.stubs.openai_stub import StubServer, free_port

IDLE = 2000
ACTIVE = 200
D = 0.2
QUESTION = "how long do I have to ask for a refund on a yearly plan?"

ECHO = """
import asyncio, json, sys, websockets

async def echo(ws):
    async for raw in ws:
        frame = json.loads(raw)
        await ws.send(json.dumps({"type": "ack", "client_id": frame.get("client_id")}))

async def main():
    async with websockets.serve(echo, "127.0.0.1", int(sys.argv[1]), max_size=2**20):
        await asyncio.Future()

asyncio.run(main())
"""


def _env(stub: StubServer) -> dict[str, str]:
    """The stub as the only model tier; warnings only (a log line per turn costs CPU)."""
    return {
        "SUPPORTBOT_MINI": "openai:stub-mini",
        "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
        "SUPPORTBOT_LARGE": "none",
        "SUPPORTBOT_LOG_LEVEL": "WARNING",
    }


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def open_idle(url: str, count: int, hello: bool) -> list[websockets.ClientConnection]:
    sockets: list[websockets.ClientConnection] = []
    for start in range(0, count, 100):
        batch = await asyncio.gather(
            *(websockets.connect(url, max_queue=None) for _ in range(min(100, count - start)))
        )
        if hello:  # a widget on a page: a conversation, then silence
            await asyncio.gather(*(ws.send(json.dumps({"type": "hello"})) for ws in batch))
            await asyncio.gather(*(ws.recv() for ws in batch))
        sockets += batch
    return sockets


async def ask(customer: Customer) -> tuple[float, float | None]:
    """Seconds from sending to the ack and to the first delta."""
    started = time.perf_counter()
    client_id = await customer.say(QUESTION)
    ack = first = None
    while True:
        frame = await customer.recv(120)
        now = time.perf_counter() - started
        if frame["type"] == "ack" and frame["client_id"] == client_id and ack is None:
            ack = now
        if frame["type"] == "delta" and first is None:
            first = now
        if bot_message(frame):
            assert ack is not None
            return ack, first


async def echo_round_trips(url: str, count: int) -> list[float]:
    sockets = [await websockets.connect(url) for _ in range(count)]

    async def one(ws: websockets.ClientConnection) -> float:
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "client_id": str(uuid.uuid4())}))
        await ws.recv()
        return time.perf_counter() - started

    samples = await asyncio.gather(*(one(ws) for ws in sockets))
    await asyncio.gather(*(ws.close() for ws in sockets))
    return list(samples)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    """The conversation database: SQLite in the data dir, or a fresh PostgreSQL one."""
    if request.param == "sqlite":
        yield "sqlite", {}
        return
    with fresh_postgres_database() as url:
        yield "postgres", {"SUPPORTBOT_DATABASE_URL": url}


@pytest.mark.bench
async def test_idle_sockets_and_a_burst_of_conversations(tmp_path, database):
    kind, database_env = database
    echo_port = free_port()
    echo = subprocess.Popen([sys.executable, "-c", ECHO, str(echo_port)])
    try:
        with StubServer() as stub:
            stub.script(ttft=D)
            with ServerProcess(tmp_path / "server", _env(stub) | database_env) as server:
                assert server.process is not None
                await asyncio.sleep(2)
                echo_url = f"ws://127.0.0.1:{echo_port}"
                # Memory: the same number of idle sockets on each server.
                base = rss_mib(server.process.pid)
                idle = await open_idle(server.ws_url, IDLE, hello=True)
                await asyncio.sleep(3)
                per_socket = (rss_mib(server.process.pid) - base) * 1024 / IDLE
                echo_base = rss_mib(echo.pid)
                echo_idle = await open_idle(echo_url, IDLE, hello=False)
                await asyncio.sleep(3)
                echo_per_socket = (rss_mib(echo.pid) - echo_base) * 1024 / IDLE
                # A burst: 200 conversations ask at once while the idle ones stay open.
                customers = [Customer(server.ws_url) for _ in range(ACTIVE)]
                await asyncio.gather(*(c.connect() for c in customers))
                results = await asyncio.gather(*(ask(c) for c in customers))
                await asyncio.gather(*(c.close() for c in customers))
                acks = [a for a, _ in results]
                firsts = [f for _, f in results if f is not None]
                bare = await echo_round_trips(echo_url, ACTIVE)
                await asyncio.gather(*(ws.close() for ws in idle + echo_idle))
    finally:
        echo.terminate()
        echo.wait(10)
    assert len(firsts) == ACTIVE  # every conversation was answered by the stub
    figures: dict[str, float | int | str] = {
        "database": kind,
        "idle sockets": IDLE,
        "server KiB per idle socket": round(per_socket, 1),
        "echo server KiB per idle socket": round(echo_per_socket, 1),
        "active conversations": ACTIVE,
        "ack p50 ms": round(percentile(acks, 50) * 1000, 1),
        "ack p99 ms": round(percentile(acks, 99) * 1000, 1),
        "echo round trip p50 ms": round(percentile(bare, 50) * 1000, 1),
        "echo round trip p99 ms": round(percentile(bare, 99) * 1000, 1),
        "first delta p50 ms": round(percentile(firsts, 50) * 1000, 1),
        "first delta p99 ms": round(percentile(firsts, 99) * 1000, 1),
        "first delta p50 / (echo p50 + D)": round(
            percentile(firsts, 50) / (percentile(bare, 50) + D), 2
        ),
        "first delta p99 / (echo p99 + D)": round(
            percentile(firsts, 99) / (percentile(bare, 99) + D), 2
        ),
        "ack p50 / echo p50": round(percentile(acks, 50) / percentile(bare, 50), 2),
        "ack p99 / echo p99": round(percentile(acks, 99) / percentile(bare, 99), 2),
    }
    report(f"load-{kind}", figures)


@pytest.mark.soak
async def test_soak(tmp_path):
    """Conversations back to back for SUPPORTBOT_SOAK_SECONDS (1,200): memory growth."""
    seconds = float(os.environ.get("SUPPORTBOT_SOAK_SECONDS", "1200"))
    with StubServer() as stub:
        stub.script(ttft=0.05)
        with ServerProcess(tmp_path / "server", _env(stub)) as server:
            assert server.process is not None
            pid = server.process.pid
            turns = 0
            samples: list[tuple[float, float]] = []
            started = time.monotonic()
            warm_until = started + min(60.0, seconds / 10)

            async def worker() -> None:
                nonlocal turns
                while time.monotonic() - started < seconds:
                    customer = Customer(server.ws_url)
                    await customer.connect()
                    for _ in range(3):  # a short conversation, then the widget is closed
                        await customer.say(QUESTION)
                        await customer.until(bot_message, timeout=60)
                        turns += 1
                    await customer.close()

            async def sampler() -> None:
                while time.monotonic() - started < seconds:
                    if time.monotonic() >= warm_until:
                        samples.append((time.monotonic() - started, rss_mib(pid)))
                    await asyncio.sleep(10)

            await asyncio.gather(sampler(), *(worker() for _ in range(10)))
    first, last = samples[0], samples[-1]
    hours = (last[0] - first[0]) / 3600
    report(
        "soak",
        {
            "seconds": round(last[0]),
            "turns": turns,
            "RSS after warm-up MiB": round(first[1], 1),
            "RSS at the end MiB": round(last[1], 1),
            "RSS peak MiB": round(max(r for _, r in samples), 1),
            "growth MiB": round(last[1] - first[1], 1),
            "growth MiB per hour": round((last[1] - first[1]) / hours, 1) if hours else 0,
        },
    )
