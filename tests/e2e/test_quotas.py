"""Floods of new conversations and uploads from one address (issue 19, item 3), against
a real server with low quotas: each is refused with when to come back, and what a
customer already has (its conversation, its accepted uploads) stays usable."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.e2e.client import Customer, bot_message
from tests.e2e.server import ServerProcess
from tests.mediagen import error_dialog, png_bytes

SHOT = png_bytes(error_dialog("Sync failed", ["Error E-2041: Sync conflict"]))


@pytest.fixture(scope="module")
def quoted(tmp_path_factory):
    env = {
        "SUPPORTBOT_IP_CONVERSATIONS_PER_MINUTE": "12",  # 6 at once, then one every 5 s
        "SUPPORTBOT_UPLOADS_PER_MINUTE": "6",  # per conversation: 5 at once
        "SUPPORTBOT_IP_UPLOADS_PER_MINUTE": "12",  # per address: 6 at once
    }
    with ServerProcess(tmp_path_factory.mktemp("quotas"), env) as process:
        yield process


async def _refused_hello(url: str) -> tuple[dict, int]:
    ws = await websockets.connect(url)
    await ws.send('{"type": "hello"}')
    frame = await asyncio.wait_for(ws.recv(), 10)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    return json.loads(frame), closed.value.rcvd.code


async def test_one_address_starts_a_limited_number_of_conversations(quoted):
    customers = [Customer(quoted.ws_url) for _ in range(6)]
    for customer in customers:
        await customer.connect()
    # Before: 300 new conversations in 1.3 s from one address were all started.
    refusal, code = await _refused_hello(quoted.ws_url)
    assert refusal["code"] == "rate_limited" and code == 4429
    assert 0 < refusal["retry_after"] <= 6 and "new conversations" in refusal["message"]
    # A customer who already has a conversation comes back to it whatever the quota.
    await customers[0].close()
    await customers[0].connect()
    await customers[0].say("how do I export my notes?")
    assert (await customers[0].until(bot_message))[-1]["message"]["role"] == "bot"
    await asyncio.gather(*(c.close() for c in customers))


async def _upload(customer: Customer, url: str):
    return await customer.upload(url, "shot.png", SHOT, "image/png")


async def test_uploads_are_limited_per_conversation_and_per_address(quoted):
    await asyncio.sleep(10.5)  # two conversations' worth of quota back after the test above
    first, second = Customer(quoted.ws_url), Customer(quoted.ws_url)
    await first.connect()
    await second.connect()
    accepted = [await _upload(first, quoted.url) for _ in range(5)]
    assert [a.status_code for a in accepted] == [200] * 5
    refused = await _upload(first, quoted.url)
    # Before: uploads without end, none of them ever attached (46 MiB in 2.4 s).
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert "in this conversation" in refused.json()["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 11
    # The address's sixth upload goes through in another conversation, its seventh not.
    assert (await _upload(second, quoted.url)).status_code == 200
    from_network = await _upload(second, quoted.url)
    assert from_network.status_code == 429 and "from your network" in from_network.json()["message"]
    # What was accepted is not lost: the five uploads go with a message.
    await first.send_with([a.json()["upload_id"] for a in accepted], "what does this error mean?")
    answer = (await first.until(bot_message, timeout=60))[-1]["message"]
    assert answer["role"] == "bot"
    await asyncio.gather(first.close(), second.close())
