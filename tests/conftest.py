"""Shared fixtures: the real embedding model (loaded once) and throwaway knowledge bases."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.knowledge.embedder import SentenceTransformerEmbedder
from bot.knowledge.ingest import Ingestor
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"


def eventually(check: Callable[[], object], timeout: float = 20.0) -> object:
    """Poll ``check`` until it returns a truthy value (for eventually consistent reads)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, IndexError):
            pass
        if time.monotonic() > deadline:
            return check()
        time.sleep(0.05)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture
def store(tmp_path: Path) -> ChromaStore:
    return ChromaStore("test-kb", path=tmp_path / "chroma")


@pytest.fixture
def ingestor(store: ChromaStore, embedder: SentenceTransformerEmbedder) -> Ingestor:
    return Ingestor(store, embedder)


@pytest.fixture
def knowledge(store: ChromaStore, embedder: SentenceTransformerEmbedder) -> HybridKnowledgeBase:
    return HybridKnowledgeBase(store, embedder, refresh_seconds=0)


@pytest.fixture
def write_files(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write {relative name: content} under a fresh folder and return the folder."""
    counter = iter(range(1000))

    def write(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / f"docs{next(counter)}"
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return write


@pytest.fixture(scope="session")
def demo_kb(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> HybridKnowledgeBase:
    """The shipped demo knowledge base, ingested once for the session."""
    store = ChromaStore("demo", path=tmp_path_factory.mktemp("demo") / "chroma")
    report = Ingestor(store, embedder).run([KNOWLEDGE])
    assert not report.failed, report.failed
    return HybridKnowledgeBase(store, embedder, refresh_seconds=0)
