"""The embedded default ``ChatModel``: answers with an excerpt of the best passage.

It generates nothing, so it cannot invent: its answer is one contiguous stretch of the
best passage (sentences, list items, commands), chosen around the part that best
matches the question (:mod:`bot.core.excerpt`) and cited as ``[1]``. With a
``relevance`` scorer (the embedder's cosine, :mod:`bot.knowledge.relevance`) a
paraphrased question still finds its sentence; without one, shared words decide.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

from bot.core.excerpt import choose, render, units
from bot.models.base import AnswerRequest, Usage

MAX_WORDS = {"chat": 100, "phone": 40}
# A chat answer fills its budget: the fix tends to follow the sentence that matches the
# problem (docs/quality.md: gold phrase and answer length at 45 and at 100 words); a
# caller hears the shortest stretch that stands on its own.
MIN_WORDS = {"chat": 100, "phone": 15}
Relevance = Callable[[str, Sequence[str]], list[float]]


def excerpt(
    question: str,
    passage_text: str,
    style: str = "chat",
    relevance: Relevance | None = None,
    shown: str = "",
) -> str:
    """The words of ``passage_text`` that answer ``question``, as the customer sees them
    (``shown``: the bot's previous answer, not quoted again)."""
    with_code = style != "phone"  # a caller cannot hear a code block
    found = [u for u in units(passage_text) if with_code or u.kind != "code"]
    similarity = relevance(question, [u.text for u in found]) if relevance and found else None
    window = choose(question, found, MAX_WORDS[style], MIN_WORDS[style], similarity, shown)
    return render(window, with_code=with_code)


class ExtractiveModel:
    """Quotes the best passage; never writes a word that is not in it."""

    name = "extractive"
    accepts_images = False
    generative = False

    def __init__(self, relevance: Relevance | None = None) -> None:
        self.relevance = relevance

    async def stream(self, request: AnswerRequest) -> AsyncIterator[str | Usage]:
        if not request.passages:
            return
        passage = request.passages[0].text
        shown = next((text for role, text in reversed(request.history) if role == "bot"), "")
        if self.relevance is None:
            text = excerpt(request.question, passage, request.style, None, shown)
        else:  # the embedder blocks: off the event loop
            text = await asyncio.to_thread(
                excerpt, request.question, passage, request.style, self.relevance, shown
            )
        if text:
            yield text + " [1]"
