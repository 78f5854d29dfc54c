import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bot.knowledge.batching import QueryBatcher


class SlowCounting:
    """The real embedder, slowed a little so concurrent callers overlap."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.calls: list[int] = []
        self.gate = threading.Event()

    def embed(self, texts):
        self.calls.append(len(texts))
        self.gate.wait(0.2)
        return self.embedder.embed(texts)


def test_concurrent_queries_share_forward_passes_and_get_their_own_vectors(embedder):
    counting = SlowCounting(embedder)
    batcher = QueryBatcher(counting)
    queries = [f"how do I export note number {i}" for i in range(24)]
    with ThreadPoolExecutor(24) as pool:
        vectors = list(pool.map(batcher.embed, queries))
    assert sum(counting.calls) == 24 and len(counting.calls) < 24 / 2
    expected = embedder.embed(queries)
    for got, want in zip(vectors, expected, strict=True):
        assert float(np.dot(got, want)) > 0.999


def test_an_error_reaches_every_waiter_and_the_batcher_recovers(embedder):
    class Failing:
        fail = True

        def embed(self, texts):
            if self.fail:
                raise RuntimeError("model crashed")
            return embedder.embed(texts)

    model = Failing()
    batcher = QueryBatcher(model)
    with pytest.raises(RuntimeError, match="model crashed"):
        batcher.embed("hello")
    model.fail = False
    assert batcher.embed("hello").shape == (embedder.dimension,)
