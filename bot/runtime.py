"""Builds the configured components from :class:`~bot.settings.Settings`.

The one place where settings become objects: the CLI calls these functions,
and the server's ``create_app(settings)`` will call them in its lifespan.
Nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image

from bot.chat.uploads import Limits
from bot.core.turn import Listener, TurnOutcome, answer_question
from bot.knowledge.embedder import SentenceTransformerEmbedder
from bot.knowledge.ingest import Ingestor
from bot.knowledge.relevance import SentenceRelevance, WordSimilarity
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore
from bot.models.base import ChatModel, Style
from bot.models.ladder import build_ladder
from bot.perception.base import ImageReader, Transcriber
from bot.perception.ocr import RapidOcrReader
from bot.perception.whisper import WhisperTranscriber
from bot.settings import Settings
from bot.telephony.speech import PiperSynthesizer, SpeechSynthesizer


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
            self.store,
            self.embedder,
            max_bytes=int(self.settings.max_document_mb * 1024 * 1024),
            screen_instructions=self.settings.screen_instructions,
        )

    async def answer(
        self,
        question: str,
        *,
        style: Style = "chat",
        history: Sequence[tuple[str, str]] = (),
        images: Sequence[tuple[str, bytes]] = (),
        listener: Listener | None = None,
        paused: str | None = None,
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
            images=images,
            listener=listener,
            paused=paused,
            # A tier's whole answer, its retries included, within a bounded time.
            attempt_timeout=s.model_timeout * (s.model_retries + 1),
            related=self.related_words,
        )

    @property
    def accepts_images(self) -> bool:
        """Whether any answering tier looks at screenshots themselves."""
        return any(model.accepts_images for _, model in self.ladder)

    @cached_property
    def upload_limits(self) -> Limits:
        s = self.settings
        mib = 1024 * 1024
        return Limits(
            image_bytes=int(s.max_image_mb * mib),
            image_pixels=int(s.max_image_megapixels * 1_000_000),
            audio_bytes=int(s.max_audio_mb * mib),
            audio_seconds=s.max_audio_seconds,
        )

    @cached_property
    def transcriber(self) -> Transcriber:
        s = self.settings
        return WhisperTranscriber(s.whisper_model, language=s.whisper_language, threads=s.threads)

    @cached_property
    def image_reader(self) -> ImageReader:
        return RapidOcrReader(threads=self.settings.threads)

    @cached_property
    def synthesizer(self) -> SpeechSynthesizer:
        return PiperSynthesizer(self.settings.phone_voice)

    def perception_probes(self, voice: bool) -> list[tuple[str, Callable[[], object]]]:
        """Whisper, the OCR models (and the phone voice) each run once on a tiny input:
        the server's warm-up, and ``supportbot check-models`` in an image build."""
        probes: list[tuple[str, Callable[[], object]]] = [
            ("whisper", lambda: self.transcriber.transcribe(np.zeros(16_000, dtype=np.float32))),
            ("ocr", lambda: self.image_reader.read(Image.new("RGB", (64, 32), "white"))),
        ]
        if voice:
            probes.append(("phone voice", lambda: self.synthesizer.synthesize("Hello.")))
        return probes

    def warm_perception(self, voice: bool = False) -> None:
        """Load Whisper and the OCR models (and the phone voice when calls are on) and
        run each once (the first run is slower)."""
        for _, probe in self.perception_probes(voice):
            probe()

    def warm(self) -> None:
        """Load the embedding model and the knowledge snapshot now (blocking)."""
        self.embedder.embed(["warm up"])
        self.knowledge.search("warm up", 1)
        _ = self.ladder  # loads local models; a bad tier setting shows in /readyz

    @cached_property
    def ladder(self) -> Sequence[tuple[str, ChatModel]]:
        """``mini`` then ``large`` (each optional), as configured; a human after them."""
        return build_ladder(self.settings, self.relevance)

    @cached_property
    def related_words(self) -> WordSimilarity:
        """Synonyms for the grounding gate, with the retrieval embedder."""
        return WordSimilarity(self.embedder)

    @cached_property
    def relevance(self) -> SentenceRelevance:
        """Sentence scores for the extractive answerer, with the retrieval embedder."""
        return SentenceRelevance(self.embedder, self.knowledge.queries)
