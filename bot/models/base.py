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
    # The customer's screenshots as (mime, bytes); only models that accept images see them.
    images: Sequence[tuple[str, bytes]] = field(default_factory=tuple)


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of one model call, yielded once at the end of a stream."""

    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@runtime_checkable
class QuestionRewriter(Protocol):
    """A model that can turn a follow-up ("ok, how do I do that?") into a standalone
    question for retrieval, in one short call (:func:`bot.core.turn.answer_question`
    asks the first generative tier that is one)."""

    async def rewrite(
        self, history: Sequence[tuple[str, str]], message: str
    ) -> tuple[str, Usage]: ...


@runtime_checkable
class ChatModel(Protocol):
    """Streams the text of an answer; cites passages as ``[n]``.

    ``stream`` yields text pieces (their concatenation is the answer) and, when the
    model knows it, one :class:`Usage` at the end. It raises
    :class:`~bot.errors.ModelError` when the model cannot answer at all.
    """

    name: str
    accepts_images: bool
    # Writes its own text, so it spends tokens (money or CPU): the model budgets apply,
    # and a paused budget skips it. The extractive answerer only quotes: False.
    generative: bool

    def stream(self, request: AnswerRequest) -> AsyncIterator[str | Usage]: ...
