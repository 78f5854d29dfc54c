"""A small customer client over a real WebSocket (the ``websockets`` library)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import websockets


class _Socket:
    """JSON frames over a ``websockets`` connection, each kept in ``frames``."""

    ws: Any
    frames: list[dict[str, Any]]

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 30.0) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(
        self, stop: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        got = []
        while True:
            frame = await self.recv(timeout)
            got.append(frame)
            if stop(frame):
                return got

    async def close(self) -> None:
        await self.ws.close()


class Customer(_Socket):
    def __init__(self, url: str, **connect: Any) -> None:
        self.url = url
        self.connect_kwargs = connect
        self.ws: Any = None
        self.frames: list[dict[str, Any]] = []  # everything received, all connections
        self.conversation_id: str | None = None
        self.token: str | None = None

    @property
    def last_seq(self) -> int:
        return max((f["seq"] for f in self.frames if "seq" in f), default=0)

    async def connect(self, resume: bool = True) -> dict[str, Any]:
        self.ws = await websockets.connect(self.url, **self.connect_kwargs)
        hello: dict[str, Any] = {"type": "hello"}
        if resume and self.conversation_id:
            hello |= {
                "conversation_id": self.conversation_id,
                "token": self.token,
                "last_seq": self.last_seq,
            }
        await self.send(hello)
        welcome = await self.recv()
        assert welcome["type"] == "welcome", welcome
        self.conversation_id, self.token = welcome["conversation_id"], welcome["token"]
        return welcome

    async def say(self, text: str, client_id: str | None = None) -> str:
        client_id = client_id or str(uuid.uuid4())
        await self.send({"type": "message", "client_id": client_id, "text": text})
        return client_id

    async def upload(
        self, base_url: str, name: str, data: bytes, mime: str = "application/octet-stream"
    ) -> httpx.Response:
        """``POST /api/uploads`` with this conversation's token."""
        async with httpx.AsyncClient(timeout=60) as http:
            return await http.post(
                f"{base_url}/api/uploads",
                files={"file": (name, data, mime)},
                headers={"Authorization": f"Bearer {self.token}"},
            )

    async def send_with(
        self, upload_ids: list[str], text: str | None = None, client_id: str | None = None
    ) -> str:
        client_id = client_id or str(uuid.uuid4())
        frame: dict[str, Any] = {
            "type": "message",
            "client_id": client_id,
            "attachments": [{"upload_id": u} for u in upload_ids],
        }
        if text:
            frame["text"] = text
        await self.send(frame)
        return client_id


def bot_message(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["message"]["role"] == "bot"


def queued(frame: dict[str, Any]) -> bool:
    return frame["type"] == "state" and frame["state"] == "queued"


class AgentClient(_Socket):
    """A staff member over ``/ws/agent`` (login over HTTP first)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.ws: Any = None
        self.frames: list[dict[str, Any]] = []

    async def login(self, name: str, password: str) -> dict[str, Any]:
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{self.base_url}/api/agent/login", json={"name": name, "password": password}
            )
        answer.raise_for_status()
        token = answer.json()["token"]
        self.ws = await websockets.connect(
            self.base_url.replace("http", "ws") + "/ws/agent", origin=self.base_url
        )
        await self.send({"type": "hello", "token": token})
        welcome = await self.recv()
        assert welcome["type"] == "welcome", welcome
        return welcome
