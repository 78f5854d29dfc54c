"""The ``ChatModel`` seam: stream an answer to a question from numbered passages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from bot.core.types import Passage

Style = Literal["chat", "phone"]


@dataclass(frozen=True)
class AnswerRequest:
    """Everything a model may use. Passages are numbered from 1 in this order."""

    question: str
    passages: Sequence[Passage]
    style: Style = "chat"
    history: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (role, text)


@runtime_checkable
class ChatModel(Protocol):
    """Streams the text of an answer; cites passages as ``[n]``."""

    name: str
    accepts_images: bool

    def stream(self, request: AnswerRequest) -> AsyncIterator[str]:
        """Pieces of the answer in order; their concatenation is the answer."""
        ...
