"""Agent sessions end everywhere at once, and the HTTP API neither echoes secrets nor
answers for conversations that do not exist (issue 19, items 9 and 16), against a real
server process with real clients."""

from __future__ import annotations

import subprocess
import sys
import uuid

import httpx
import pytest
import websockets

from tests.e2e.client import AgentClient, Customer, queued
from tests.e2e.server import ServerProcess

PASSWORD = "a long enough password"


def _agent_cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """``supportbot agent …`` on the server's database, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "agent", *args],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def _queued_conversation(server: ServerProcess) -> str:
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.send({"type": "human", "client_id": "h1"})
    await customer.until(queued)
    await customer.close()
    return str(customer.conversation_id)


async def _login(server: ServerProcess, name: str) -> tuple[AgentClient, str]:
    agent = AgentClient(server.url)
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post("/api/agent/login", json={"name": name, "password": PASSWORD})
    token = answer.json()["token"]
    agent.ws = await websockets.connect(
        server.url.replace("http", "ws") + "/ws/agent", origin=server.url
    )
    await agent.send({"type": "hello", "token": token})
    assert (await agent.recv())["type"] == "welcome"
    return agent, token


async def _ended(agent: AgentClient) -> tuple[list[dict], int]:
    """Frames until the server closes the socket, and the close code."""
    frames = []
    try:
        while True:
            frames.append(await agent.recv(15))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else 1006


@pytest.mark.parametrize("how", ["revoke", "passwd"])
async def test_a_revoked_session_stops_acting_on_its_open_socket(server, how):
    name = f"rita-{uuid.uuid4().hex[:8]}"
    server.add_agent(name, PASSWORD)
    conversation_id = await _queued_conversation(server)
    agent, token = await _login(server, name)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        turns = f"/api/agent/conversations/{conversation_id}/turns"
        assert (await http.get(turns, headers=headers)).status_code == 200

        if how == "revoke":
            done = _agent_cli(server, "revoke", name.upper())  # any case names the agent
        else:
            done = subprocess.run(
                [sys.executable, "-m", "bot", "agent", "passwd", name, "--password-stdin"],
                input="another long password\n",
                env=server.env,
                capture_output=True,
                text=True,
                check=False,
            )
        assert done.returncode == 0, done.stderr

        assert (await http.get(turns, headers=headers)).status_code == 401
    await agent.send({"type": "take", "conversation_id": conversation_id})
    frames, code = await _ended(agent)
    errors = [f for f in frames if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["unauthorized"] and code == 1008
    # Nothing of the conversation reached the signed-out socket, and nobody owns it.
    assert not any(f.get("conversation_id") == conversation_id for f in frames)
    other, _ = await _login_new_agent(server)
    await other.send({"type": "take", "conversation_id": conversation_id})
    taken = await other.until(lambda f: f.get("conversation_id") == conversation_id)
    assert taken[-1]["type"] != "error", taken[-1]
    await other.close()


async def _login_new_agent(server: ServerProcess) -> tuple[AgentClient, str]:
    name = f"otto-{uuid.uuid4().hex[:8]}"
    server.add_agent(name, PASSWORD)
    return await _login(server, name)


async def test_a_login_error_never_echoes_the_password(server):
    secret = "hunter2-" + "s" * 1100  # over the 1,024-character limit
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post("/api/agent/login", json={"name": "nobody", "password": secret})
        assert answer.status_code == 422
        body = answer.json()
        assert "hunter2" not in answer.text
        assert body["code"] == "invalid_input" and "password" in body["message"]
        assert [e["loc"] for e in body["detail"]] == [["body", "password"]]
        assert all("input" not in e and "ctx" not in e for e in body["detail"])
        # A name that is too long, and a body that is not JSON: still nothing echoed.
        long_name = await http.post(
            "/api/agent/login", json={"name": "n" * 200 + "hunter2", "password": "x"}
        )
        assert long_name.status_code == 422 and "hunter2" not in long_name.text
        garbage = await http.post(
            "/api/agent/login",
            content=b'{"name": "a", "password": "hunter2',
            headers={"Content-Type": "application/json"},
        )
        assert garbage.status_code == 422 and "hunter2" not in garbage.text


async def test_the_turns_of_an_unknown_conversation_are_not_found(server):
    other, token = await _login_new_agent(server)
    await other.close()
    headers = {"Authorization": f"Bearer {token}"}
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.close()
    async with httpx.AsyncClient(base_url=server.url) as http:
        known = await http.get(
            f"/api/agent/conversations/{customer.conversation_id}/turns", headers=headers
        )
        assert known.status_code == 200 and known.json() == {"turns": []}
        unknown = await http.get("/api/agent/conversations/no-such-id/turns", headers=headers)
        assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
        anonymous = await http.get("/api/agent/conversations/no-such-id/turns")
        assert anonymous.status_code == 401  # who may ask comes before what exists
