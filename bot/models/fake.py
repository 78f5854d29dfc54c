"""A scripted ``ChatModel`` for tests and demos: ``enqueue`` replies, read ``history``.

Built on the public contract only (like ``llm``'s mock model): it streams what it
was given, word by word, and records every request it saw.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable

from bot.errors import ModelError
from bot.models.base import AnswerRequest, Usage


class FakeModel:
    """Replies with queued texts in order; an ``Exception`` in the queue is raised."""

    def __init__(
        self, name: str = "fake", *, accepts_images: bool = False, delay: float = 0.0
    ) -> None:
        self.name = name
        self.accepts_images = accepts_images
        self.generative = True
        self.delay = delay
        self.history: list[AnswerRequest] = []
        self._replies: deque[str | Exception] = deque()

    def enqueue(self, replies: Iterable[str | Exception]) -> None:
        self._replies.extend(replies)

    async def stream(self, request: AnswerRequest) -> AsyncIterator[str | Usage]:
        self.history.append(request)
        if not self._replies:
            raise ModelError(f"{self.name}: no reply enqueued")
        reply = self._replies.popleft()
        if isinstance(reply, Exception):
            raise reply
        words = reply.split(" ")
        for i, word in enumerate(words):
            if self.delay:
                await asyncio.sleep(self.delay)
            yield word if i == len(words) - 1 else word + " "
        yield Usage(
            tokens_in=sum(len(p.text.split()) for p in request.passages), tokens_out=len(words)
        )
