"""The in-process ``Bus``: one process, any number of subscribers per topic."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

# A subscriber that falls this far behind is cut off; its client resumes with
# ``last_seq`` (history events are in the store), so nothing is lost, only replayed.
MAX_PENDING = 1000

_CLOSED: dict[str, Any] = {"type": "_closed"}


class LocalSubscription:
    """Frames of one topic, in publication order."""

    def __init__(self, bus: MemoryBus, topic: str) -> None:
        self._bus = bus
        self.topic = topic
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.overflowed = False
        self.closed = False

    def put(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        if self._queue.qsize() >= MAX_PENDING:
            self.overflowed = True
            self._queue.put_nowait(_CLOSED)
            self.closed = True
            return
        self._queue.put_nowait(frame)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            frame = await self._queue.get()
            if frame is _CLOSED:
                return
            yield frame

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(_CLOSED)
        await self._bus._remove(self)


class MemoryBus:
    """Delivers each published frame to every current subscriber of its topic."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[LocalSubscription]] = defaultdict(set)

    async def publish(self, topic: str, frame: dict[str, Any]) -> None:
        self.deliver(topic, frame)

    def deliver(self, topic: str, frame: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(topic, ())):
            subscription.put(frame)

    async def subscribe(self, topic: str) -> LocalSubscription:
        subscription = LocalSubscription(self, topic)
        self._subscribers[topic].add(subscription)
        await self._added(topic)
        return subscription

    def has_subscribers(self, topic: str) -> bool:
        return bool(self._subscribers.get(topic))

    def topics(self) -> list[str]:
        """Topics with a subscriber in this process."""
        return [topic for topic, subscribers in self._subscribers.items() if subscribers]

    async def _added(self, topic: str) -> None:
        """Hook for subclasses: the first local subscriber of ``topic`` arrived."""

    async def _remove(self, subscription: LocalSubscription) -> None:
        subscribers = self._subscribers.get(subscription.topic)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._subscribers[subscription.topic]
            await self._emptied(subscription.topic)

    async def _emptied(self, topic: str) -> None:
        """Hook for subclasses: the last local subscriber of ``topic`` left."""

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.closed = True
                subscription._queue.put_nowait(_CLOSED)
        self._subscribers.clear()
