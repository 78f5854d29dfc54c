"""The outgoing webhook: escalations, take-overs, hand-backs and closes, signed and retried.

Each event is a JSON ``POST`` to ``SUPPORTBOT_WEBHOOK_URL``::

    {"id": "…", "type": "conversation.escalated", "created_at": "…", "data": {…}}

with ``X-Supportbot-Timestamp: <unix seconds>`` and ``X-Supportbot-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with SUPPORTBOT_WEBHOOK_SECRET>``. A
receiver recomputes the HMAC over the raw body and rejects old timestamps (replays).
Delivery retries with exponential backoff on connection errors, 429 and 5xx; the event
``id`` is the same on every attempt, so a receiver can drop duplicates. The replica
where the action happened sends it, once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.core.conversation import new_id

log = logging.getLogger(__name__)
BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0)  # seconds before each retry


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Webhook:
    def __init__(
        self,
        url: str,
        secret: str,
        *,
        backoff: tuple[float, ...] = BACKOFF,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.backoff = backoff
        self.client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._tasks: set[asyncio.Task[bool]] = set()

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Send in the background (the action that caused it does not wait)."""
        event = {
            "id": new_id(),
            "type": kind,
            "created_at": datetime.now(UTC).isoformat(),
            "data": data,
        }
        task = asyncio.create_task(self.deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, event: dict[str, Any]) -> bool:
        body = json.dumps(event, separators=(",", ":")).encode()
        for attempt in range(len(self.backoff) + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "supportbot-webhook",
                "X-Supportbot-Event": event["type"],
                "X-Supportbot-Timestamp": timestamp,
                "X-Supportbot-Signature": sign(self.secret, timestamp, body),
            }
            try:
                response = await self.client.post(self.url, content=body, headers=headers)
                if response.status_code < 300:
                    return True
                if response.status_code != 429 and response.status_code < 500:
                    log.warning("webhook %s refused: HTTP %d", event["type"], response.status_code)
                    return False  # the receiver says no: retrying will not change that
                reason = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            if attempt < len(self.backoff):
                log.info("webhook %s failed (%s), retrying", event["type"], reason)
                await asyncio.sleep(self.backoff[attempt])
        log.warning("webhook %s not delivered after %d attempts", event["type"], attempt + 1)
        return False

    async def close(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        await self.client.aclose()
