"""The Redis ``Bus``: pub/sub, so a customer on replica A and an agent on replica B
see each other live.

One Redis connection per process listens for every topic that has a local
subscriber (not one connection per WebSocket), and fans frames out locally. A
frame published here also comes back from Redis and is delivered then, so local
and remote subscribers see one order.

Redis carries live frames; the database holds history. When Redis goes away, a
publish is logged and dropped (the event is stored all the same), the listener
reconnects and resubscribes, and then every local subscriber gets a ``resync``
frame: a socket fills what it missed from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.bus.memory import MemoryBus
from bot.errors import BusUnavailable

log = logging.getLogger(__name__)
PREFIX = "supportbot:"
RESYNC: dict[str, Any] = {"type": "resync"}


class RedisBus(MemoryBus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._redis: aioredis.Redis = aioredis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Channels whose SUBSCRIBE Redis has not confirmed yet.
        self._confirming: dict[str, asyncio.Future[None]] = {}

    async def start(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"cannot reach Redis at {self.url}: {exc}") from exc

    async def ping(self) -> None:
        await self._redis.ping()

    async def publish(self, topic: str, frame: dict[str, Any]) -> None:
        try:
            await self._redis.publish(PREFIX + topic, json.dumps(frame))
        except (RedisError, OSError) as exc:
            # Live delivery is lost for this frame; history is in the store, and
            # subscribers resync when the listener is back.
            log.warning("redis bus: a %s frame was not published: %s", frame.get("type"), exc)

    async def _added(self, topic: str) -> None:
        channel = PREFIX + topic
        async with self._lock:
            confirmed = asyncio.get_running_loop().create_future()
            self._confirming[channel] = confirmed
            await self._pubsub.subscribe(channel)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")
            # Only once Redis confirms is every later PUBLISH guaranteed to reach us.
            try:
                await asyncio.wait_for(confirmed, timeout=10)
            except TimeoutError as exc:
                raise BusUnavailable(f"Redis did not confirm a subscription to {channel}") from exc
            finally:
                self._confirming.pop(channel, None)

    async def _emptied(self, topic: str) -> None:
        async with self._lock:
            if not self.has_subscribers(topic):
                await self._pubsub.unsubscribe(PREFIX + topic)

    async def _read(self) -> None:
        broken = False
        while True:
            try:
                if broken:
                    await self._reconnect()
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as exc:
                if not broken:
                    log.warning("redis bus: %s; reconnecting", exc)
                broken = True
                await asyncio.sleep(0.5)
                continue
            if broken:
                broken = False
                log.warning("redis bus: reconnected; subscribers resync from the store")
                for topic in self.topics():
                    self.deliver(topic, RESYNC)
            if message is None:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                continue
            raw = message["channel"]
            channel = raw.decode() if isinstance(raw, bytes) else str(raw)
            if message.get("type") == "subscribe":
                waiting = self._confirming.get(channel)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
                continue
            if message.get("type") != "message":
                continue
            topic = channel.removeprefix(PREFIX)
            try:
                frame = json.loads(message["data"])
            except ValueError:
                log.warning("redis bus: dropped a malformed frame on %s", topic)
                continue
            self.deliver(topic, frame)

    async def _reconnect(self) -> None:
        """Resubscribe every local topic on a fresh connection (raises while Redis is away)."""
        await self._pubsub.reset()
        channels = [PREFIX + topic for topic in self.topics()]
        if channels:
            await self._pubsub.subscribe(*channels)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await super().close()
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()
