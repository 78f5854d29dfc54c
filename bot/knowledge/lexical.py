"""An in-memory mirror of the store's chunks: BM25 (bm25s), term statistics, sections.

It is built from the chunks in the store and replaced whole when the store changes,
so one instance is a consistent snapshot for the duration of a search.

It uses the same stemmed content terms as the rest of the product
(:func:`bot.core.text.content_terms`), so a term that BM25 matches is a term the
coverage signal and the grounding gate also see. It also keeps document
frequencies, which give each query term an IDF weight: a word the knowledge base
never uses weighs the most, because a question about something we have no text
for is the clearest sign that we cannot answer it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from bot.core.text import content_terms
from bot.core.types import Chunk


class LexicalIndex:
    """BM25 over chunk texts (heading path included), plus term statistics."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        import bm25s

        self.chunks = list(chunks)
        self._terms = [content_terms(c.embedding_text()) for c in self.chunks]
        self._df: Counter[str] = Counter()
        for terms in self._terms:
            self._df.update(set(terms))
        self._bm25: bm25s.BM25 | None = None
        if self.chunks:
            self._bm25 = bm25s.BM25()
            self._bm25.index(self._terms, show_progress=False)
        self._position = {c.id: i for i, c in enumerate(self.chunks)}
        # The chunks of each section in order, so a hit can be returned as its whole section.
        self._sections: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            self._sections.setdefault(chunk.section_key, []).append(chunk)
        for parts in self._sections.values():
            parts.sort(key=lambda c: c.part)

    def __len__(self) -> int:
        return len(self.chunks)

    def idf(self, term: str) -> float:
        """Smoothed IDF in (0, log(N+1)]; unseen terms get the maximum."""
        n = max(len(self.chunks), 1)
        return math.log((n + 1) / (self._df.get(term, 0) + 0.5))

    def known(self, term: str) -> bool:
        return term in self._df

    def chunk(self, chunk_id: str) -> Chunk | None:
        position = self._position.get(chunk_id)
        return None if position is None else self.chunks[position]

    def section(self, chunk: Chunk) -> list[Chunk]:
        """Every chunk of ``chunk``'s section, in order."""
        return self._sections.get(chunk.section_key, [chunk])

    def section_terms(self, chunk: Chunk) -> set[str]:
        """The distinct terms of ``chunk``'s whole section."""
        return {t for part in self.section(chunk) for t in self.terms_of(part.id)}

    def terms_of(self, chunk_id: str) -> list[str]:
        return self._terms[self._position[chunk_id]]

    def top(self, query_terms: Sequence[str], n: int) -> list[tuple[Chunk, float]]:
        """The ``n`` best chunks by BM25 with their raw scores (zero-score chunks left out)."""
        if self._bm25 is None or not query_terms:
            return []
        vocab = self._bm25.vocab_dict
        known = [t for t in query_terms if t in vocab]
        if not known:
            return []
        scores = self._bm25.get_scores(known)
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best])]
        return [(self.chunks[i], float(scores[i])) for i in best if scores[i] > 0]
