"""Per-address limits behind the shipped proxy: Debian's nginx with deploy/nginx.conf in
front of a server that believes its ``X-Forwarded-For`` (``*``, as the compose and
Kubernetes files set it). Clients come from different loopback addresses (127.0.0.2,
127.0.0.3), so nginx sees them as the different hosts they are, and each one sends an
``X-Forwarded-For`` of its own choosing: the limits must count the address nginx saw
(issue 19, item 2). Metrics are not routed through the proxy, and need their token
wherever they are reached (item 13).
"""

from __future__ import annotations

import asyncio
import itertools
import json

import httpx
import pytest
import websockets

from tests.e2e.client import Customer
from tests.e2e.nginx import Nginx
from tests.e2e.server import ServerProcess

ATTACKER = "127.0.0.2"
AGENT = "127.0.0.3"
SOCKETS = 4
METRICS_TOKEN = "scrape-7f3a"
_spoofed = (f"198.51.100.{i}" for i in itertools.count(1))


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("behind-nginx")
    env = {
        "SUPPORTBOT_FORWARDED_ALLOW_IPS": "*",
        "SUPPORTBOT_SOCKETS_PER_IP": str(SOCKETS),
        "SUPPORTBOT_METRICS_TOKEN": METRICS_TOKEN,
    }
    with ServerProcess(workdir / "server", env) as server:
        server.add_agent("dana", "correct horse battery")
        with Nginx(workdir / "nginx", [server.port]) as proxy:
            yield proxy, server


def _http(proxy: Nginx, source: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=proxy.url, transport=transport)


async def _login(http: httpx.AsyncClient, password: str, claimed: str) -> int:
    answer = await http.post(
        "/api/agent/login",
        json={"name": "dana", "password": password},
        headers={"X-Forwarded-For": claimed},
    )
    return answer.status_code


async def test_a_client_cannot_choose_the_address_its_sign_in_limit_counts(proxied):
    proxied, _ = proxied
    async with _http(proxied, ATTACKER) as http:
        statuses = [await _login(http, "guess", next(_spoofed)) for _ in range(12)]
    # Before: 12 of 12 refused with 401, each counted against the address it claimed.
    assert 429 in statuses[:6], statuses


async def test_a_stranger_cannot_lock_an_agent_out(proxied):
    proxied, _ = proxied
    async with _http(proxied, ATTACKER) as http:
        statuses = [await _login(http, "guess", AGENT) for _ in range(8)]
        assert statuses[-1] == 429, statuses
        # The attacker's own attempts at that account stay refused, right password or not.
        assert await _login(http, "correct horse battery", AGENT) == 429
    async with _http(proxied, AGENT) as http:
        # Before: 429 here, the attacker's guesses counted against the agent's address.
        assert await _login(http, "correct horse battery", AGENT) == 200


async def _open(proxy: Nginx, source: str) -> Customer:
    customer = Customer(
        proxy.ws_url,
        origin=proxy.url,
        additional_headers={"X-Forwarded-For": next(_spoofed)},
        local_addr=(source, 0),
    )
    await customer.connect()
    return customer


async def test_a_client_cannot_open_more_sockets_by_claiming_other_addresses(proxied):
    proxied, _ = proxied
    customers = [await _open(proxied, ATTACKER) for _ in range(SOCKETS)]
    extra = await websockets.connect(
        proxied.ws_url,
        origin=proxied.url,
        additional_headers={"X-Forwarded-For": next(_spoofed)},
        local_addr=(ATTACKER, 0),
    )
    # Before: accepted, each socket counted against the address it claimed.
    refusal = json.loads(await asyncio.wait_for(extra.recv(), 10))
    assert refusal["code"] == "too_many_connections", refusal
    await extra.close()
    # Another host behind the same proxy is not held to the attacker's count.
    other = await _open(proxied, AGENT)
    await asyncio.gather(other.close(), *(c.close() for c in customers))


async def test_metrics_are_not_public_through_the_proxy_and_need_their_token(proxied):
    proxy, server = proxied
    async with httpx.AsyncClient() as http:
        through_proxy = await http.get(f"{proxy.url}/metrics")
        direct = server.url + "/metrics"
        anonymous = await http.get(direct)
        wrong = await http.get(direct, headers={"Authorization": "Bearer guess"})
        scraper = await http.get(direct, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        # A scraper addresses the replica by its IP: behind their token, metrics answer it.
        by_ip = await http.get(
            direct,
            headers={"Authorization": f"Bearer {METRICS_TOKEN}", "Host": "10.1.2.3:8000"},
        )
    # Before: 200 with every counter, through the shipped nginx, to anyone.
    assert through_proxy.status_code == 404
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert scraper.status_code == 200 and "supportbot_" in scraper.text
    assert by_ip.status_code == 200
