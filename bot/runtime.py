"""Builds the configured components from :class:`~bot.settings.Settings`.

The one place where settings become objects: the CLI calls these functions,
and the server's ``create_app(settings)`` will call them in its lifespan.
Nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from bot.core.turn import Listener, TurnOutcome, answer_question
from bot.knowledge.embedder import SentenceTransformerEmbedder
from bot.knowledge.ingest import Ingestor
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore
from bot.models.base import ChatModel, Style
from bot.models.ladder import build_ladder
from bot.settings import Settings


@dataclass
class Runtime:
    """Lazily built, shared components for one process."""

    settings: Settings

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(
            self.settings.embedding_model, device=self.settings.embedding_device
        )

    @cached_property
    def store(self) -> ChromaStore:
        s = self.settings
        return ChromaStore(
            s.collection, path=None if s.chroma_url else s.chroma_path, url=s.chroma_url
        )

    @cached_property
    def knowledge(self) -> HybridKnowledgeBase:
        return HybridKnowledgeBase(self.store, self.embedder)

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(
            self.store, self.embedder, max_bytes=int(self.settings.max_document_mb * 1024 * 1024)
        )

    async def answer(
        self,
        question: str,
        *,
        style: Style = "chat",
        history: Sequence[tuple[str, str]] = (),
        listener: Listener | None = None,
    ) -> TurnOutcome:
        """One turn through the configured knowledge base, ladder and limits."""
        s = self.settings
        return await answer_question(
            question,
            self.knowledge,
            self.ladder,
            threshold=s.answer_threshold,
            top_k=s.top_k,
            max_chars=s.max_question_chars,
            style=style,
            history=history,
            listener=listener,
        )

    def warm(self) -> None:
        """Load the embedding model and the knowledge snapshot now (blocking)."""
        self.embedder.embed(["warm up"])
        self.knowledge.search("warm up", 1)
        _ = self.ladder  # loads local models; a bad tier setting shows in /readyz

    @cached_property
    def ladder(self) -> Sequence[tuple[str, ChatModel]]:
        """``mini`` then ``large`` (each optional), as configured; a human after them."""
        return build_ladder(self.settings)
