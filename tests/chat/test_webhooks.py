"""The outgoing webhook against a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading

import pytest

from bot.bus.memory import MemoryBus
from bot.chat.service import ChatService
from bot.chat.webhooks import Webhook
from bot.store.sql import SqlStore

SECRET = "s3cret"


class Receiver:
    """Answers the statuses in ``script`` in turn (then 200) and keeps every request."""

    def __init__(self, script=()):
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.script.pop(0) if receiver.script else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def verified(headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(
        SECRET.encode(), headers["X-Supportbot-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["X-Supportbot-Signature"], "sha256=" + expected)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def test_events_are_signed_and_retried_with_the_same_id(receiver):
    receiver.script = [500, 429]
    hook = Webhook(receiver.url, SECRET, backoff=(0.01, 0.01, 0.01))
    assert await hook.deliver({"id": "e1", "type": "conversation.taken", "data": {"a": 1}})
    assert len(receiver.requests) == 3
    for headers, body in receiver.requests:
        assert verified(headers, body)
        assert json.loads(body)["id"] == "e1"
    headers, body = receiver.requests[-1]
    tampered = body.replace(b'"a":1', b'"a":2')
    assert not verified(headers, tampered)
    await hook.close()


async def test_a_refusal_is_not_retried_and_a_dead_receiver_is_given_up(receiver):
    receiver.script = [400]
    hook = Webhook(receiver.url, SECRET, backoff=(0.01, 0.01))
    assert not await hook.deliver({"id": "e2", "type": "x", "data": {}})
    assert len(receiver.requests) == 1
    await hook.close()
    gone = Webhook("http://127.0.0.1:9/nothing", SECRET, backoff=(0.01, 0.01))
    assert not await gone.deliver({"id": "e3", "type": "x", "data": {}})
    await gone.close()


async def test_an_escalation_sends_its_event(receiver, tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    hook = Webhook(receiver.url, SECRET, backoff=(0.01,))

    async def never(*args, **kwargs):
        raise AssertionError("no turn here")

    chat = ChatService(store, MemoryBus(), never, notify=hook.emit)
    conversation, _ = await chat.start()
    await chat.request_human(conversation.id)
    await hook.close()  # waits for the delivery
    ((headers, body),) = receiver.requests
    event = json.loads(body)
    assert headers["X-Supportbot-Event"] == event["type"] == "conversation.escalated"
    assert event["data"]["conversation_id"] == conversation.id
    assert event["data"]["reason"] == "asked_for_human"
    assert verified(headers, body)
    await store.close()
