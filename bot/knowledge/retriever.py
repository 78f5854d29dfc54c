"""Hybrid retrieval: dense (Chroma) + lexical (BM25), per section, scored 0..1.

Candidates come from both lists: the dense neighbours of the question and the BM25
best matches (which is what finds exact error codes such as ``E-4012``, where
embeddings are weak). Each section is represented by its best chunk and ranked by
that chunk's cosine similarity, plus a boost when the section contains the
identifiers (error codes) the question quotes. Then the section's chunks are merged
into one passage, so a citation shows the whole answer, not a fragment.

Measured on both eval sets, ranking by dense similarity beat reciprocal rank fusion
with BM25 (colloquial questions share few words with the help center), so the
lexical side widens the pool instead of voting. Whether the best passage is good
enough to answer from is a separate, absolute signal:
:func:`bot.core.confidence.confidence`.

When Chroma cannot be reached (a Chroma server restarting), search goes on from the
in-memory snapshot: the BM25 hits, their similarity computed by embedding their text
here (the same model wrote the stored vectors), without the dense-only neighbours.
Chroma is tried again after ``RETRY_SECONDS``; :attr:`HybridKnowledgeBase.degraded`
says why it is skipped (``/readyz`` shows it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from bot.core.confidence import confidence, term_coverage
from bot.core.text import content_terms, is_identifier
from bot.core.types import Chunk, Passage
from bot.knowledge.batching import QueryBatcher
from bot.knowledge.embedder import Embedder, Vectors
from bot.knowledge.lexical import LexicalIndex
from bot.knowledge.store import ChromaStore

log = logging.getLogger(__name__)
T = TypeVar("T")

LEXICAL_CANDIDATES = 10  # BM25 hits added to the dense pool
RETRY_SECONDS = 5.0  # how long an unreachable Chroma is skipped before the next try
# A section that contains the error code the customer quoted is almost surely the one:
# identifiers outweigh any difference in wording.
IDENTIFIER_BOOST = 0.3


@dataclass
class _Candidate:
    best: Chunk
    dense: float
    identifiers: float = 0.0  # share of the question's identifiers found in the section

    @property
    def rank_score(self) -> float:
        # Term coverage is left out on purpose: as a tie-breaker it lost more than it won
        # (measured on both eval sets); it counts in the confidence instead.
        return self.dense + IDENTIFIER_BOOST * self.identifiers


class HybridKnowledgeBase:
    """The default :class:`~bot.core.protocols.KnowledgeBase`.

    Chroma holds the vectors; an in-memory BM25 index mirrors the chunk texts.
    """

    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        candidates: int = 40,
        refresh_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.queries = QueryBatcher(embedder)
        self.candidates = candidates
        self.refresh_seconds = refresh_seconds
        self._rebuild_lock = threading.Lock()  # one rebuild at a time
        self._lexical: LexicalIndex | None = None  # an immutable snapshot, swapped whole
        self._generation = -1
        self._checked = 0.0
        self._skip_until = 0.0  # Chroma unreachable: skipped until then
        self.degraded: str | None = None  # why searches run without Chroma, or None

    def _chroma(self, call: Callable[[], T]) -> T | None:
        """``call`` on Chroma, or None while it is unreachable (then skipped for a while)."""
        if time.monotonic() < self._skip_until:
            return None
        try:
            result = call()
        except Exception as exc:  # the client raises transport and server errors alike
            if self.degraded is None:
                log.warning("Chroma unreachable (%s): searching the in-memory index only", exc)
            self.degraded = f"vector store unreachable ({type(exc).__name__})"
            self._skip_until = time.monotonic() + RETRY_SECONDS
            return None
        if self.degraded is not None:
            log.warning("Chroma reachable again")
            self.degraded = None
        return result

    def _index(self) -> LexicalIndex:
        """The current snapshot; never waits for a rebuild except the very first one.

        When another process has written (the collection's generation moved), one
        background thread builds the new snapshot while searches keep using the old one:
        at 100,000 chunks a rebuild takes seconds, and no search should wait for it.
        """
        current = self._lexical
        if current is None:
            with self._rebuild_lock:
                if self._lexical is None:
                    self._build(self.store.generation())
            assert self._lexical is not None
            return self._lexical
        now = time.monotonic()
        if now - self._checked >= self.refresh_seconds:
            self._checked = now
            generation = self._chroma(self.store.generation)
            if generation is not None and generation != self._generation:
                if not len(current):  # nothing to serve meanwhile: wait for the first data
                    with self._rebuild_lock:
                        if generation != self._generation:
                            self._build(generation)
                    assert self._lexical is not None
                    return self._lexical
                if self._rebuild_lock.acquire(blocking=False):
                    threading.Thread(
                        target=self._build_in_background,
                        args=(generation,),
                        name="lexical-rebuild",
                        daemon=True,
                    ).start()
        return current

    def _build(self, generation: int) -> None:
        index = LexicalIndex(self.store.all_chunks())
        self._lexical, self._generation = index, generation

    def _build_in_background(self, generation: int) -> None:
        try:
            self._build(generation)
        finally:
            self._rebuild_lock.release()

    def probe(self) -> str | None:
        """Ask Chroma whether it is there (readiness checks); why not, or None."""
        self._chroma(self.store.generation)
        return self.degraded

    def refresh(self) -> None:
        """Rebuild the snapshot now and wait for it (after an ingest in this process)."""
        with self._rebuild_lock:
            self._build(self.store.generation())
            self._checked = time.monotonic()

    def search(self, query: str, k: int = 3) -> list[Passage]:
        lexical = self._index()
        if not len(lexical):
            return []
        terms = content_terms(query)
        vector = self.queries.embed(query)
        # A chunk written since the snapshot was built is not in it yet: it is skipped
        # until the next snapshot (``refresh_seconds`` plus the rebuild time).
        nearest = self._chroma(lambda: self.store.nearest(vector, self.candidates)) or []
        dense = [
            (chunk, similarity)
            for chunk_id, similarity in nearest
            if (chunk := lexical.chunk(chunk_id)) is not None
        ]
        lexical_hits = lexical.top(terms, LEXICAL_CANDIDATES)
        return self.rank(terms, vector, dense, lexical_hits, lexical, k)

    def rank(
        self,
        terms: Sequence[str],
        vector: Vectors,
        dense: Sequence[tuple[Chunk, float]],
        lexical_hits: Sequence[tuple[Chunk, float]],
        lexical: LexicalIndex,
        k: int,
    ) -> list[Passage]:
        """Score candidate sections and build the top ``k`` merged passages."""
        candidates: dict[str, _Candidate] = {}

        def offer(chunk: Chunk, similarity: float) -> None:
            # A section is represented by its most similar chunk.
            current = candidates.get(chunk.section_key)
            if current is None or similarity > current.dense:
                candidates[chunk.section_key] = _Candidate(chunk, similarity)

        for chunk, similarity in dense:
            offer(chunk, similarity)
        # Lexical-only hits have no similarity yet: compare their stored vectors.
        missing = [c for c, _ in lexical_hits if c.section_key not in candidates]
        stored = self._chroma(lambda: self.store.vectors([c.id for c in missing]))
        if stored is None and missing:
            # Without Chroma: embed them here (the same model wrote the stored vectors).
            vectors = self.embedder.embed([c.embedding_text() for c in missing])
            stored = {c.id: v for c, v in zip(missing, vectors, strict=True)}
        for chunk in missing:
            if stored and chunk.id in stored:
                offer(chunk, float(np.dot(stored[chunk.id], vector)))
        # Only identifiers move the order, so only they are computed for every candidate;
        # term coverage feeds the confidence of the passages actually returned.
        codes = {t for t in terms if is_identifier(t)}
        if codes:
            for cand in candidates.values():
                cand.identifiers = len(codes & lexical.section_terms(cand.best)) / len(codes)
        ordered = sorted(candidates.items(), key=lambda kv: kv[1].rank_score, reverse=True)[:k]
        passages: list[Passage] = []
        for key, cand in ordered:
            parts = lexical.section(cand.best)
            coverage = term_coverage(terms, lexical.section_terms(cand.best), lexical.idf)
            passages.append(
                Passage(
                    source=cand.best.source,
                    title=cand.best.title,
                    anchor=cand.best.anchor,
                    text="\n\n".join(part.text for part in parts),
                    score=confidence(cand.dense, coverage, cand.identifiers),
                    section_key=key,
                    signals={
                        "dense": round(cand.dense, 4),
                        "coverage": round(coverage, 4),
                        "identifiers": round(cand.identifiers, 4),
                    },
                )
            )
        return passages
