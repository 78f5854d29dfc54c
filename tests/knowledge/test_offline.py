"""Nothing on the default path reaches the network: no model or data is downloaded."""

from __future__ import annotations

import socket

import pytest

from bot.knowledge.embedder import SentenceTransformerEmbedder
from bot.knowledge.ingest import Ingestor
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore


def _local(address: object) -> bool:
    if isinstance(address, str | bytes):  # a Unix socket path
        return True
    host = address[0] if isinstance(address, tuple) else None
    return isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every connection that leaves this machine, and record the attempts."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_create_connection = socket.create_connection

    def refuse(address: object) -> None:
        attempts.append(address)
        raise OSError("network access is not allowed in this test")

    def connect(self, address):
        return real_connect(self, address) if _local(address) else refuse(address)

    def create_connection(address, *args, **kwargs):
        return (
            real_create_connection(address, *args, **kwargs) if _local(address) else refuse(address)
        )

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


def test_load_ingest_and_search_without_network(no_network, tmp_path, write_files):
    embedder = SentenceTransformerEmbedder()  # a fresh load, from the package's files only
    store = ChromaStore("offline-kb", path=tmp_path / "chroma")
    Ingestor(store, embedder).run([write_files({"a.md": "# Refunds\n\nWithin 30 days.\n"})])
    top = HybridKnowledgeBase(store, embedder).search("refund window", 1)
    assert top[0].title == "Refunds"
    assert no_network == []


def test_the_guard_catches_an_outbound_connection(no_network):
    with pytest.raises(OSError, match="not allowed"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1: never routed
    assert no_network == [("192.0.2.1", 443)]
