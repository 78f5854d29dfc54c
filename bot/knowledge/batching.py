"""Micro-batching of query embeddings across concurrent searches.

Fifty customers asking at once would otherwise run fifty one-query forward passes on
a few cores, each fighting the others for the CPU. Instead, the first search to
arrive embeds its query at once (no added wait when the server is quiet); queries
that arrive while it runs queue up and go through the model together in the next
pass, which costs little more than one. This is group commit, for embeddings.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

import numpy as np

from bot.knowledge.embedder import Embedder

MAX_BATCH = 64


class QueryBatcher:
    def __init__(self, embedder: Embedder, max_batch: int = MAX_BATCH) -> None:
        self.embedder = embedder
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Future[np.ndarray]]] = []
        self._running = False
        self.batches = 0  # forward passes run (for tests and benchmarks)

    def embed(self, query: str) -> np.ndarray:
        """The query's vector; blocks the calling (worker) thread until it is ready."""
        future: Future[np.ndarray] = Future()
        with self._lock:
            self._pending.append((query, future))
            lead = not self._running
            self._running = True
        if lead:
            self._drain()
        return future.result()

    def _drain(self) -> None:
        # The leader runs passes until nothing is waiting, then steps down.
        while True:
            with self._lock:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                if not batch:
                    self._running = False
                    return
            try:
                vectors = self.embedder.embed([query for query, _ in batch])
            except BaseException as exc:  # every waiter gets the error, nobody hangs
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for (_, future), vector in zip(batch, vectors, strict=True):
                    future.set_result(vector)
            self.batches += 1
