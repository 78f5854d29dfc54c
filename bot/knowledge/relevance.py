"""How close each sentence of a passage is to the question, for the extractive answerer.

Customers paraphrase: the sentence that answers "is it ok to uninstall python to free up
space?" ("you can remove it without hurting anything") shares almost no word with it.
The embedder that retrieval already loaded scores each unit of the best passage
against the question. Units repeat (popular articles are cited again and again), so
their vectors are kept in a bounded cache, keyed by text; the question's vector comes
from the query batcher that retrieval uses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from bot.knowledge.batching import QueryBatcher
from bot.knowledge.embedder import Embedder

CACHE_UNITS = 8192  # about 12 MiB of MiniLM vectors


class SentenceRelevance:
    """``relevance(question, texts)`` → the cosine of the question and each text."""

    def __init__(self, embedder: Embedder, queries: QueryBatcher, cache: int = CACHE_UNITS) -> None:
        self.embedder = embedder
        self.queries = queries
        self.cache_size = cache
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, question: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        query = self.queries.embed(question)
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        vectors = list(self.embedder.embed(missing)) if missing else []
        with self._lock:
            for text, vector in zip(missing, vectors, strict=True):
                self._cache[text] = vector
            found = []
            for text in texts:
                vector = self._cache[text]
                self._cache.move_to_end(text)
                found.append(float(np.dot(vector, query)))
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return found


WORD_SIMILARITY = 0.6  # MiniLM cosine of two single words: synonyms ≥ 0.6, unrelated ~0.4


class WordSimilarity:
    """``related(words, vocabulary)`` → the words with a close vocabulary word, for the
    grounding gate's support check: a paraphrase says "folder" where the passage says
    "directory". Opposites are close too ("faster"/"slower"): the gate's contradiction
    check, not this, stops those."""

    def __init__(
        self, embedder: Embedder, threshold: float = WORD_SIMILARITY, cache: int = CACHE_UNITS
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.cache_size = cache
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _vectors(self, words: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        fresh = list(self.embedder.embed(missing)) if missing else []
        with self._lock:
            for word, vector in zip(missing, fresh, strict=True):
                self._cache[word] = vector
            out = np.stack([self._cache[w] for w in words])
            for word in words:
                self._cache.move_to_end(word)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def __call__(self, words: Sequence[str], vocabulary: Sequence[str]) -> set[str]:
        if not words or not vocabulary:
            return set()
        similarity = self._vectors(words) @ self._vectors(vocabulary).T
        best = similarity.max(axis=1)
        return {w for w, score in zip(words, best, strict=True) if score >= self.threshold}
