"""DNS rebinding (issue 19, item 11): a page on a name the attacker points at this server
is same-origin with itself, so ``Host`` and ``Origin`` agree; the server must answer
only for the names it was configured for (by default its loopback names and the
address it binds), on HTTP and on both sockets, while probes by IP still get through."""

from __future__ import annotations

import httpx
import pytest
import websockets

EVIL = "evil.example"


def _port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


async def test_a_request_for_another_host_name_is_refused(server):
    port = _port(server)
    async with httpx.AsyncClient(base_url=server.url) as http:
        evil = await http.get("/", headers={"Host": f"{EVIL}:{port}"})
        own = await http.get("/", headers={"Host": f"localhost:{port}"})
        probe = await http.get("/healthz", headers={"Host": f"10.1.2.3:{port}"})
        metrics = await http.get("/metrics", headers={"Host": f"{EVIL}:{port}"})
    # Before: 200, the demo page served to any name.
    assert evil.status_code == 400 and evil.json()["code"] == "bad_host"
    assert own.status_code == 200 and probe.status_code == 200
    # Metrics without a token of their own are not exempt: a rebinding page can't read them.
    assert metrics.status_code == 400


@pytest.mark.parametrize("path", ["/ws/chat", "/ws/agent"])
async def test_a_socket_for_another_host_name_is_refused_even_from_its_own_origin(server, path):
    port = _port(server)
    # The TCP connection goes to the server; Host and Origin name the rebinding page.
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            f"ws://{EVIL}:{port}{path}",
            origin=f"http://{EVIL}:{port}",
            host="127.0.0.1",
            port=port,
        )
    # Before: accepted (the origin check compared the Origin with the Host header).
    assert refused.value.response.status_code == 403
    own = await websockets.connect(f"ws://127.0.0.1:{port}{path}", origin=server.url)
    await own.close()
