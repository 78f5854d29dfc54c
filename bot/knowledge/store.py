"""Chunk storage in Chroma: embedded (``PersistentClient``) or a server (``HttpClient``).

We always hand Chroma our own vectors and never give it an embedding function,
so Chroma can never fetch its default model. Each chunk's metadata records its
file's fingerprint (content hash + chunker + embedder), which is what makes
re-ingesting an unchanged file a no-op. The collection's metadata carries a
``generation`` number, bumped on every write, so other processes can tell that
their lexical index is stale.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from bot.core.types import Chunk
from bot.errors import KnowledgeBaseUnavailable
from bot.knowledge.embedder import Vectors

PAGE = 5000  # rows per Chroma get() page, to bound memory on large collections
ADD_BATCH = 4000  # below Chroma's max batch size


@dataclass(frozen=True)
class FileRecord:
    """What the store knows about one ingested file."""

    source: str
    fingerprint: str
    root: str
    chunks: int


@dataclass(frozen=True)
class FileChunks:
    """The chunks of one file, ready to be written."""

    source: str
    chunks: Sequence[Chunk]
    fingerprint: str
    root: str
    replaces: bool  # the store holds an older version of this file


def _metadata(chunk: Chunk, fingerprint: str, root: str) -> dict[str, Any]:
    return {
        "source": chunk.source,
        "root": root,
        "fingerprint": fingerprint,
        "heading_path": json.dumps(list(chunk.heading_path), ensure_ascii=False),
        "anchor": chunk.anchor or "",
        "section_index": chunk.section_index,
        "part": chunk.part,
    }


def _chunk(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        source=str(meta["source"]),
        heading_path=tuple(json.loads(str(meta.get("heading_path") or "[]"))),
        anchor=str(meta.get("anchor")) or None,
        text=text,
        section_index=int(meta.get("section_index", 0)),
        part=int(meta.get("part", 0)),
    )


class ChromaStore:
    """One Chroma collection of chunks with their vectors."""

    def __init__(self, collection: str, path: Path | None = None, url: str | None = None) -> None:
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            if url:
                parsed = urlparse(url)
                self._client: Any = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
            else:
                assert path is not None, "an embedded store needs a path"
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            # Chroma's result types are loose unions; this class is the typed boundary.
            self._collection: Any = self._client.get_or_create_collection(
                collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except KnowledgeBaseUnavailable:
            raise
        except Exception as exc:
            where = url or str(path)
            raise KnowledgeBaseUnavailable(
                f"cannot open the knowledge base at {where}: {exc}"
            ) from exc
        self.name = collection

    def count(self) -> int:
        return int(self._collection.count())

    def generation(self) -> int:
        """The write counter other processes compare against their cached lexical index."""
        fresh = self._client.get_collection(self.name, embedding_function=None)
        return int((fresh.metadata or {}).get("generation", 0))

    def bump_generation(self) -> None:
        with contextlib.suppress(Exception):
            # A failed bump only delays other processes' refresh; the data is written.
            self._collection.modify(metadata={"generation": self.generation() + 1})

    def _pages(
        self,
        include: list[str],
        where: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._collection.get(include=include, where=where, limit=PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def files(self) -> dict[str, FileRecord]:
        """Every ingested file by source name."""
        seen: dict[str, dict[str, Any]] = {}
        counts: dict[str, int] = {}
        for page in self._pages(["metadatas"]):
            for meta in page["metadatas"]:
                source = str(meta["source"])
                seen.setdefault(source, meta)
                counts[source] = counts.get(source, 0) + 1
        return {
            s: FileRecord(s, str(m.get("fingerprint", "")), str(m.get("root", "")), counts[s])
            for s, m in seen.items()
        }

    def write(self, files: Sequence[FileChunks], vectors: Vectors) -> None:
        """Store several files' chunks; files already present lose their old chunks first.

        One delete and one add (per ``ADD_BATCH``) for the whole batch: Chroma's cost is
        mostly per call, so writing file by file would cost more than the HNSW inserts.
        """
        replaced = [f.source for f in files if f.replaces]
        if replaced:
            self._collection.delete(where={"source": {"$in": replaced}})
        rows = [(c, f.fingerprint, f.root) for f in files for c in f.chunks]
        for start in range(0, len(rows), ADD_BATCH):
            batch = rows[start : start + ADD_BATCH]
            self._collection.add(
                ids=[c.id for c, _, _ in batch],
                embeddings=vectors[start : start + ADD_BATCH],
                documents=[c.text for c, _, _ in batch],
                metadatas=[_metadata(c, fingerprint, root) for c, fingerprint, root in batch],
            )

    def delete_file(self, source: str) -> None:
        self._collection.delete(where={"source": source})

    def all_chunks(self) -> list[Chunk]:
        chunks: list[Chunk] = []
        for page in self._pages(["documents", "metadatas"]):
            for chunk_id, text, meta in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            ):
                chunks.append(_chunk(chunk_id, text, meta))
        return chunks

    def nearest(self, vector: Vectors, n: int) -> list[tuple[str, float]]:
        """Ids of the nearest chunks with cosine similarity (1 − cosine distance).

        Only ids and distances cross the wire: the retriever holds the chunk texts in
        memory already. (No count() guard either: it costs more than the query itself on
        a large collection, and Chroma returns fewer results when it has fewer.)
        """
        result = self._collection.query(
            query_embeddings=[vector], n_results=n, include=["distances"]
        )
        return [
            (i, 1.0 - float(d))
            for i, d in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def vectors(self, ids: Sequence[str]) -> dict[str, Vectors]:
        """Stored vectors by chunk id."""
        if not ids:
            return {}
        page = self._collection.get(ids=list(ids), include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(page["ids"], page["embeddings"], strict=True)
        }
