"""How close the question is to each sentence of a passage, and a word to a word.

Customers paraphrase: the sentence that answers "is it ok to uninstall python to free up
space?" ("you can remove it without hurting anything") shares almost no word with it,
and a model's faithful answer says "folder" where the article says "directory". The
embedder that retrieval already loaded scores both: each unit of the best passage
against the question, for the extractive answerer (:class:`SentenceRelevance`), and
the words of an answer against the passage's words, for the grounding gate
(:class:`WordSimilarity`). Texts repeat (popular articles are cited again and again),
so their vectors are kept in a bounded cache, keyed by text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from bot.knowledge.batching import QueryBatcher
from bot.knowledge.embedder import Embedder

CACHE_UNITS = 8192  # about 12 MiB of MiniLM vectors
WORD_SIMILARITY = 0.6  # MiniLM cosine of two single words: synonyms ≥ 0.6, unrelated ~0.4


class _VectorCache:
    """The embedder's vectors for texts, the most recently used ``size`` kept."""

    def __init__(self, embedder: Embedder, size: int) -> None:
        self.embedder = embedder
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in order (embedding only the texts not cached)."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = list(self.embedder.embed(missing)) if missing else []
        with self._lock:
            for text, vector in zip(missing, fresh, strict=True):
                self._vectors[text] = vector
            rows = np.stack([self._vectors[t] for t in texts])
            for text in texts:
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return rows


class SentenceRelevance:
    """``relevance(question, texts)`` → the cosine of the question and each text; the
    question's vector comes from the query batcher that retrieval uses."""

    def __init__(self, embedder: Embedder, queries: QueryBatcher, cache: int = CACHE_UNITS) -> None:
        self.queries = queries
        self._cache = _VectorCache(embedder, cache)

    def __call__(self, question: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        query = self.queries.embed(question)
        return [float(score) for score in self._cache(texts) @ query]


class WordSimilarity:
    """``related(words, vocabulary)`` → the words with a close vocabulary word, for the
    grounding gate's support check. Opposites are close too ("faster"/"slower"): the
    gate's contradiction check, not this, stops those."""

    def __init__(
        self, embedder: Embedder, threshold: float = WORD_SIMILARITY, cache: int = CACHE_UNITS
    ) -> None:
        self.threshold = threshold
        self._cache = _VectorCache(embedder, cache)

    def __call__(self, words: Sequence[str], vocabulary: Sequence[str]) -> set[str]:
        if not words or not vocabulary:
            return set()
        best = (self._cache(words) @ self._cache(vocabulary).T).max(axis=1)
        return {w for w, score in zip(words, best, strict=True) if score >= self.threshold}
