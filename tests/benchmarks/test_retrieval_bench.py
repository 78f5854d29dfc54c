"""Retrieval latency at 10k and 100k chunks against bare dense search, same run.

Bare: embed the query, then one Chroma query for the top 3 chunks with their documents
(what a plain dense RAG lookup does). Ours: ``HybridKnowledgeBase.search(query, 3)``.
Both run on the same collection, built from real vectors: a few hundred real chunks are
embedded, and the rest are noisy copies of those vectors (renormalised) with texts
recombined from real sentences, so both HNSW and BM25 see realistic data. Target: our
p95 <= 1.3 x bare p95.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from bot.core.text import split_paragraphs, split_sentences
from bot.core.types import Chunk
from bot.knowledge.chunking import chunk_sections
from bot.knowledge.ingest import discover
from bot.knowledge.loaders import load_document
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore
from tests.benchmarks.conftest import percentile, report, time_calls
from tests.conftest import KNOWLEDGE, ROOT

QUERIES_FILE = ROOT / "tests" / "eval" / "nimbus-questions.jsonl"
NOISE = 0.35  # relative size of the perturbation added to a seed vector


def _seed_chunks(embedder) -> list[Chunk]:
    files, _, _ = discover([KNOWLEDGE])
    chunks: list[Chunk] = []
    for f in files:
        doc = load_document(f.source, f.path.read_bytes())
        chunks.extend(chunk_sections(doc.sections, embedder.count_tokens, embedder.max_tokens))
    return chunks


def _build(store: ChromaStore, embedder, size: int) -> None:
    rng = np.random.default_rng(7)
    pick = random.Random(7)
    seeds = _seed_chunks(embedder)
    seed_vectors = embedder.embed([c.embedding_text() for c in seeds])
    sentences = [s for c in seeds for p in split_paragraphs(c.text) for s in split_sentences(p)]
    batch: list[Chunk] = []
    vectors: list[np.ndarray] = []
    for i in range(size):
        seed = i % len(seeds)
        base = seeds[seed]
        if i < len(seeds):
            text, vector = base.text, seed_vectors[seed]
        else:
            text = " ".join(pick.sample(sentences, 4))
            noisy = seed_vectors[seed] + NOISE * rng.standard_normal(
                seed_vectors.shape[1]
            ) / np.sqrt(seed_vectors.shape[1])
            vector = noisy / np.linalg.norm(noisy)
        batch.append(
            Chunk(
                id=f"b{i}",
                source=f"bench/{i // 50}.md",
                heading_path=base.heading_path,
                anchor=base.anchor,
                text=text,
                section_index=i % 50,
                part=0,
            )
        )
        vectors.append(vector.astype(np.float32))
        if len(batch) == 5000 or i == size - 1:
            store._collection.add(
                ids=[c.id for c in batch],
                embeddings=np.stack(vectors),
                documents=[c.text for c in batch],
                metadatas=[
                    {
                        "source": c.source,
                        "root": "bench",
                        "fingerprint": "bench",
                        "heading_path": json.dumps(list(c.heading_path)),
                        "anchor": c.anchor or "",
                        "section_index": c.section_index,
                        "part": 0,
                    }
                    for c in batch
                ],
            )
            batch, vectors = [], []
    store.bump_generation()


@pytest.mark.bench
@pytest.mark.parametrize("size", [10_000, 100_000])
def test_retrieval_p95_against_bare_dense_search(tmp_path: Path, embedder, size: int):
    store = ChromaStore(f"bench-{size}", path=tmp_path / "chroma")
    _build(store, embedder, size)
    assert store.count() == size
    kb = HybridKnowledgeBase(store, embedder)
    queries = [json.loads(line)["question"] for line in QUERIES_FILE.read_text().splitlines()]
    kb.search(queries[0], 3)  # builds the lexical index and warms the model

    def bare(query: str) -> None:
        vector = embedder.embed([query])[0]
        store._collection.query(
            query_embeddings=[vector], n_results=3, include=["documents", "metadatas", "distances"]
        )

    rounds = 5
    bare_samples: list[float] = []
    ours_samples: list[float] = []
    for _ in range(rounds):  # interleaved, so both see the same machine state
        for query in queries:
            bare_samples += time_calls(lambda q=query: bare(q), 1)
            ours_samples += time_calls(lambda q=query: kb.search(q, 3), 1)
    bare_p95, ours_p95 = percentile(bare_samples, 95), percentile(ours_samples, 95)
    report(
        f"retrieval_{size}",
        {
            "chunks": size,
            "queries": len(bare_samples),
            "bare_p50_ms": round(percentile(bare_samples, 50) * 1000, 2),
            "bare_p95_ms": round(bare_p95 * 1000, 2),
            "ours_p50_ms": round(percentile(ours_samples, 50) * 1000, 2),
            "ours_p95_ms": round(ours_p95 * 1000, 2),
            "ratio_p95_ours_vs_bare (target <= 1.3)": round(ours_p95 / bare_p95, 3),
        },
    )
