"""Scale-out as deployed: a Chroma server, two `supportbot serve` replicas on PostgreSQL
and Redis, and Debian's nginx with deploy/nginx.conf in front. Conversations run through
nginx while the replicas are killed and restarted in turn: the clients reconnect through
nginx to whichever replica is up and nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys

import pytest
import websockets

from tests.conftest import REDIS_URL, ROOT, fresh_postgres_database
from tests.e2e.client import Customer, bot_message
from tests.e2e.nginx import Nginx
from tests.e2e.server import ServerProcess
from tests.e2e.test_chaos import _chaos, _check, _env

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@contextlib.contextmanager
def deployment(tmp_path, stub, chroma_url, replicas: int = 2):
    """The knowledge base ingested into the Chroma server by a one-shot job, then
    ``replicas`` servers and nginx; yields (nginx, servers, database URL)."""
    with fresh_postgres_database() as database, contextlib.ExitStack() as stack:
        env = {
            **_env(stub),
            "SUPPORTBOT_DATABASE_URL": database,
            "SUPPORTBOT_REDIS_URL": REDIS_URL,
            "SUPPORTBOT_CHROMA_URL": chroma_url,
            "SUPPORTBOT_COLLECTION": f"scaleout-{os.getpid()}",
            "SUPPORTBOT_FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
        job = subprocess.run(
            [sys.executable, "-m", "bot", "ingest", str(ROOT / "knowledge"), "--prune"],
            env={**os.environ, **env, "SUPPORTBOT_DATA_DIR": str(tmp_path / "ingest")},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert job.returncode == 0, job.stderr
        servers = [
            stack.enter_context(ServerProcess(tmp_path / f"replica{i}", env, command="serve"))
            for i in range(replicas)
        ]
        proxy = stack.enter_context(Nginx(tmp_path / "nginx", [s.port for s in servers]))
        yield proxy, servers, database


async def _ask(proxy: Nginx, question: str) -> dict:
    """A new customer's question through nginx, connecting again as the widget does
    (nginx answers 502 while every replica it knows is marked failed)."""
    customer = Customer(proxy.ws_url)
    for attempt in range(30):
        try:
            await customer.connect()
            break
        except (OSError, websockets.InvalidHandshake):
            if attempt == 29:
                raise
            await asyncio.sleep(1)
    await customer.say(question)
    answer = (await customer.until(bot_message))[-1]["message"]
    await customer.close()
    return answer


def test_conversations_through_nginx_survive_replicas_killed_in_turn(tmp_path, stub, chroma_url):
    drops = int(os.environ.get("SUPPORTBOT_CHAOS_DROPS", 120))
    restarts = int(os.environ.get("SUPPORTBOT_CHAOS_RESTARTS", 2))
    with deployment(tmp_path, stub, chroma_url) as (proxy, servers, database):
        result = asyncio.run(_chaos([proxy], database, drops, restarts, replicas=servers))
        # With either replica down, a new customer through nginx is answered by the other.
        for down in servers:
            down.crash()
            answer = asyncio.run(_ask(proxy, "how much is pro per month?"))
            assert answer["tier"] == "mini" and "$8" in answer["text"]
            down.start()
            down.wait_ready()
    _check(result, f"scaleout_nginx_{drops}", drops, restarts)
