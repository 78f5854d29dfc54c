"""Chaos: customers and agents whose connections drop at random points, servers that crash.

Customers talk to the bot (or ask for a person and talk to an agent); every round each
one sends a message and then drops its connection at a random point: right after
sending (before the ``ack``), after the ``ack``, in the middle of the answer's stream,
or after the answer. Agents take the waiting conversations and reply, dropping their
own connections before or after their ``ack``. Meanwhile the server processes are
killed (SIGKILL) and restarted. Clients behave as the widget and the console do:
resume with ``last_seq``, resend what was not acknowledged under the same
``client_id``, ``take`` their conversations again after a reconnect.

At the end every client resumes once more and three views are compared: what was
sent (every ``client_id``), what is stored (the database), and what each client
rendered (message ids and event ``seq``s received over all its connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from bot.store.sql import SqlStore
from tests.e2e.server import ServerProcess

CUSTOMER_DROPS = ("before_ack", "after_ack", "mid_stream", "after_stream")
AGENT_DROPS = ("before_ack", "after_ack")
QUESTIONS = (
    "how long do I have to ask for a refund on a yearly plan?",
    "my sync icon is red and says E-2041, what does that mean?",
    "how much is pro per month?",
    "I forgot my password and can't log in",
    "can't attach a 300 MB video to a note, E-3013",
    "how do I delete my account for good",
)
Frame = dict[str, Any]


class Down(Exception):
    """No server answered: every replica is restarting."""


@dataclass
class Chaos:
    servers: list[ServerProcess]
    rng: random.Random
    target_drops: int
    restarts: int
    # The processes to crash, when clients reach them through a proxy (``servers``).
    replicas: list[ServerProcess] | None = None
    drops: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    reconnect_failures: int = 0

    @property
    def dropped(self) -> int:
        return sum(self.drops.values())

    @property
    def done(self) -> bool:
        return self.dropped >= self.target_drops

    async def connect(self, path: str, own_origin: bool = False) -> tuple[Any, ServerProcess]:
        """A socket to any replica that answers (the order is random, as behind a proxy).
        ``own_origin``: send the server's own origin, as the console does."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for server in self.rng.sample(self.servers, len(self.servers)):
                url = server.url.replace("http", "ws") + path
                origin = server.url if own_origin else None
                try:
                    ws = await websockets.connect(url, open_timeout=5, origin=origin)
                    return ws, server
                except (OSError, TimeoutError, websockets.InvalidHandshake):
                    self.reconnect_failures += 1
            await asyncio.sleep(0.2)
        raise Down("no replica accepted a connection for 120 s")

    async def drop(self, ws: Any, point: str) -> None:
        self.drops[point] += 1
        # Half the drops are abrupt (a phone losing signal), half clean closes.
        if self.rng.random() < 0.5 and ws.transport is not None:
            ws.transport.abort()
        else:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)

    async def restart_servers(self) -> None:
        """Crash one server after every ``target_drops / (restarts + 1)`` drops."""
        for i in range(self.restarts):
            threshold = (i + 1) * self.target_drops // (self.restarts + 1)
            while self.dropped < threshold:
                await asyncio.sleep(0.1)
            replicas = self.replicas or self.servers
            server = replicas[i % len(replicas)]
            await asyncio.to_thread(server.crash)
            self.crashes += 1
            await asyncio.to_thread(server.start)
            await asyncio.to_thread(server.wait_ready)


async def _recv(ws: Any, timeout: float) -> Frame:
    frame: Frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return frame


class _Client:
    """A client that runs sessions until the chaos has dropped enough connections."""

    async def session(self, chaos: Chaos) -> None:
        raise NotImplementedError

    async def run(self, chaos: Chaos) -> None:
        while not chaos.done:
            try:
                await self.session(chaos)
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                await asyncio.sleep(0.05)  # a crashed server: reconnect elsewhere


@dataclass
class ChaosCustomer(_Client):
    name: str
    wants_person: bool
    conversation_id: str | None = None
    token: str | None = None
    sent: dict[str, str] = field(default_factory=dict)  # client_id -> text
    pending: dict[str, str] = field(default_factory=dict)  # not acknowledged yet
    rendered: dict[str, Frame] = field(default_factory=dict)  # message id -> message
    seqs: Counter[int] = field(default_factory=Counter)  # every event seq received
    errors: Counter[str] = field(default_factory=Counter)
    asked_for_person: bool = False
    state: str = "bot"

    last_seq: int = 0  # the resume point: every event up to it has arrived

    def take(self, frame: Frame) -> None:
        """What the widget does with a frame (widget/src/connection.js, view.js)."""
        seq = frame.get("seq")
        if isinstance(seq, int):
            self.seqs[seq] += 1
            # An ack can overtake an earlier event still on its way: resume only past
            # events that all arrived (a repeat in a replay is keyed by id, harmless).
            while self.seqs[self.last_seq + 1]:
                self.last_seq += 1
        kind = frame.get("type")
        if kind == "message":
            message = frame["message"]
            self.rendered[message["id"]] = message
            self.pending.pop(message.get("client_id") or "", None)
        elif kind == "ack":
            client_id = frame.get("client_id") or ""
            if "message_id" in frame and client_id in self.sent:
                # The widget showed the message when it was sent; the ack gives its id.
                self.rendered[frame["message_id"]] = {
                    "id": frame["message_id"],
                    "client_id": client_id,
                }
            self.pending.pop(client_id, None)
        elif kind == "state":
            self.state = frame["state"]
        elif kind == "error":
            self.errors[frame.get("code", "?")] += 1

    def hello(self) -> str:
        """The first frame: a new conversation, or a resume from ``last_seq``."""
        hello: Frame = {"type": "hello"}
        if self.conversation_id:
            hello |= {
                "conversation_id": self.conversation_id,
                "token": self.token,
                "last_seq": self.last_seq,
            }
        return json.dumps(hello)

    async def session(self, chaos: Chaos) -> None:
        ws, _ = await chaos.connect("/ws/chat")
        await ws.send(self.hello())
        welcome = await _recv(ws, 15)
        assert welcome["type"] == "welcome", welcome
        self.conversation_id, self.token = welcome["conversation_id"], welcome["token"]
        self.state = welcome["state"]
        for client_id, text in list(self.pending.items()):  # the widget's outbox
            await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
        if self.wants_person and not self.asked_for_person:
            await ws.send(json.dumps({"type": "human", "client_id": str(uuid.uuid4())}))
            self.asked_for_person = True
        if chaos.done:
            await ws.close()
            return
        point = chaos.rng.choice(CUSTOMER_DROPS)
        client_id = str(uuid.uuid4())
        text = f"{self.name} #{len(self.sent) + 1}: {chaos.rng.choice(QUESTIONS)}"
        self.sent[client_id] = text
        self.pending[client_id] = text
        await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
        acked = False
        deadline = time.monotonic() + (8 if self.state == "bot" else 3)
        if point == "before_ack":
            await asyncio.sleep(chaos.rng.uniform(0, 0.02))
        else:
            while time.monotonic() < deadline:
                try:
                    frame = await _recv(ws, max(0.05, deadline - time.monotonic()))
                except TimeoutError:
                    break
                self.take(frame)
                acked = acked or (frame.get("type") == "ack" and frame["client_id"] == client_id)
                if acked and point == "after_ack":
                    break
                if acked and point == "mid_stream" and frame.get("type") == "delta":
                    break
                message = frame.get("message") or {}
                if acked and frame.get("type") == "message" and message.get("role") == "bot":
                    break
        await chaos.drop(ws, point)

    async def settle(self, chaos: Chaos, store: SqlStore, timeout: float = 60) -> None:
        """Resume until nothing is pending and every stored event has been received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ws, _ = await chaos.connect("/ws/chat")
                await ws.send(self.hello())
                for client_id, text in list(self.pending.items()):
                    await ws.send(
                        json.dumps({"type": "message", "client_id": client_id, "text": text})
                    )
                end = time.monotonic() + 5
                while time.monotonic() < end:
                    with contextlib.suppress(TimeoutError):
                        self.take(await _recv(ws, 0.5))
                    stored = await store.events_after(self.conversation_id or "", 0)
                    if not self.pending and self.last_seq >= max(
                        (e.seq for e in stored), default=0
                    ):
                        await ws.close()
                        return
                await ws.close()
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                await asyncio.sleep(0.2)


@dataclass
class ChaosAgent(_Client):
    name: str
    password: str
    token: str | None = None
    owned: set[str] = field(default_factory=set)
    sent: dict[str, tuple[str, str]] = field(default_factory=dict)  # client_id -> (cid, text)
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)
    rendered: dict[str, dict[str, Frame]] = field(default_factory=lambda: defaultdict(dict))
    seqs: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter[str] = field(default_factory=Counter)

    async def login(self, server: ServerProcess) -> None:
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{server.url}/api/agent/login",
                json={"name": self.name, "password": self.password},
            )
        answer.raise_for_status()
        self.token = answer.json()["token"]

    def take(self, frame: Frame) -> list[str]:
        """Record a frame; the conversations it says should be taken (again)."""
        kind = frame.get("type")
        cid = frame.get("conversation_id") or ""
        seq = frame.get("seq")
        if cid and isinstance(seq, int):
            self.seqs[cid][seq] += 1
        if kind == "message" and cid:
            self.rendered[cid][frame["message"]["id"]] = frame["message"]
            stored_as = frame["message"].get("client_id") or ""
            self.pending.pop(stored_as.removeprefix("agent:"), None)
        elif kind == "ack":
            self.pending.pop(frame.get("client_id") or "", None)
        elif kind == "assigned":
            self.owned |= set(frame["conversations"])
            return list(frame["conversations"])
        elif kind == "queue":
            return [entry["conversation_id"] for entry in frame["conversations"]]
        elif kind == "state" and cid:
            if (
                frame.get("state") == "agent"
                and (frame.get("agent") or {}).get("name") == self.name
            ):
                self.owned.add(cid)
        elif kind == "error":
            self.errors[frame.get("code", "?")] += 1
        return []

    async def connect(self, chaos: Chaos) -> Any:
        ws, server = await chaos.connect("/ws/agent", own_origin=True)
        if self.token is None:
            await self.login(server)
        await ws.send(json.dumps({"type": "hello", "token": self.token}))
        return ws

    async def _reply(self, ws: Any, client_id: str) -> None:
        cid, text = self.sent[client_id]
        frame = {"type": "reply", "conversation_id": cid, "client_id": client_id, "text": text}
        await ws.send(json.dumps(frame))

    async def _take_all(self, ws: Any, frame: Frame, taken: set[str], only_owned: bool) -> None:
        """Take what a frame offers (once per connection), then resend the replies not
        acknowledged in those conversations, under their first ``client_id``."""
        for cid in self.take(frame):
            if cid in taken or (only_owned and cid not in self.owned):
                continue
            taken.add(cid)
            await ws.send(json.dumps({"type": "take", "conversation_id": cid}))
            for reply_id, (conversation, _) in list(self.pending.items()):
                if conversation == cid:
                    await self._reply(ws, reply_id)

    async def session(self, chaos: Chaos) -> None:
        ws = await self.connect(chaos)
        taken: set[str] = set()
        point = chaos.rng.choice(AGENT_DROPS)
        client_id: str | None = None
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                frame = await _recv(ws, 0.3)
            except TimeoutError:
                frame = {}
            await self._take_all(ws, frame, taken, only_owned=False)
            mine = sorted(self.owned & taken)
            if client_id is None and mine and not chaos.done:
                client_id = str(uuid.uuid4())
                cid = chaos.rng.choice(mine)
                self.sent[client_id] = self.pending[client_id] = (
                    cid,
                    f"{self.name} reply #{len(self.sent) + 1}",
                )
                await self._reply(ws, client_id)
                if point == "before_ack":
                    break
            if client_id is not None and client_id not in self.pending:
                break  # acknowledged (point after_ack)
        await chaos.drop(ws, point)

    async def settle(self, chaos: Chaos, store: SqlStore, timeout: float = 60) -> None:
        """Reconnect, take every owned conversation again, until each is fully received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ws = await self.connect(chaos)
                end = time.monotonic() + 8
                taken: set[str] = set()
                while time.monotonic() < end:
                    try:
                        frame = await _recv(ws, 0.5)
                    except TimeoutError:
                        frame = {}
                    await self._take_all(ws, frame, taken, only_owned=True)
                    complete = True
                    for cid in self.owned:
                        stored = await store.events_after(cid, 0)
                        if max(self.seqs[cid], default=0) < max((e.seq for e in stored), default=0):
                            complete = False
                    if complete and not self.pending and taken >= self.owned:
                        await ws.close()
                        return
                await ws.close()
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                await asyncio.sleep(0.2)
