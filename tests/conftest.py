"""Shared fixtures: the real embedding model (loaded once) and throwaway knowledge bases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bot.knowledge.embedder import SentenceTransformerEmbedder
from bot.knowledge.ingest import Ingestor
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore
from bot.store.sql import SqlStore

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


# -- conversation database and bus ---------------------------------------------------------

POSTGRES_URL = os.environ.get(
    "SUPPORTBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SUPPORTBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for the duration of the block (dropped after)."""
    name = f"supportbot_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:  # pragma: no cover - a broken machine, not a test result
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or set SUPPORTBOT_TEST_POSTGRES_URL"
        )
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'supportbot.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def backdate(
    store: SqlStore, when: datetime, started: Sequence[str], spoke: Sequence[str] = ()
) -> None:
    """Move conversations' start (``started``) and all their messages (``spoke``) to ``when``:
    the store sets both to now, and retention is about the past."""
    from sqlalchemy import update

    from bot.store import tables as t

    async with store.engine.begin() as conn:
        for conversation_id in started:
            await conn.execute(
                update(t.conversations)
                .where(t.conversations.c.id == conversation_id)
                .values(created_at=when)
            )
        for conversation_id in spoke:
            await conn.execute(
                update(t.messages)
                .where(t.messages.c.conversation_id == conversation_id)
                .values(created_at=when)
            )


# -- a Chroma server (`chroma run`), as replicas share it ------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path_factory.mktemp("chroma-server")),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "chroma run exited"
            assert time.monotonic() < deadline, "chroma server did not start in 60 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
