"""The embedded default ``ChatModel``: answers with sentences taken from the passages.

It generates nothing, so it cannot invent: every sentence of its answer is a
sentence of the best passage, chosen for overlap with the question and for
position (help-center articles put the answer first), kept in reading order and
cited as ``[1]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.core.text import content_terms, split_paragraphs, split_sentences
from bot.models.base import AnswerRequest, Usage

MAX_WORDS = {"chat": 90, "phone": 40}
MAX_SENTENCES = {"chat": 4, "phone": 2}


def select_sentences(
    question: str, passage_text: str, max_words: int, max_sentences: int
) -> list[str]:
    """The passage's sentences most worth reading, in their original order."""
    sentences = [s for p in split_paragraphs(passage_text) for s in split_sentences(p)]
    if not sentences:
        return []
    wanted = set(content_terms(question))
    scored: list[tuple[float, int]] = []
    for i, sentence in enumerate(sentences):
        terms = set(content_terms(sentence))
        overlap = len(wanted & terms) / (len(wanted) or 1)
        position = 1.0 / (1 + i)  # the opening sentence usually states the answer
        scored.append((overlap + 0.5 * position, i))
    chosen: list[int] = []
    words = 0
    for _, i in sorted(scored, reverse=True):
        length = len(sentences[i].split())
        if chosen and (words + length > max_words or len(chosen) >= max_sentences):
            continue
        chosen.append(i)
        words += length
    return [sentences[i] for i in sorted(chosen)]


class ExtractiveModel:
    """Quotes the best passage; never writes a word that is not in it."""

    name = "extractive"
    accepts_images = False
    generative = False

    async def stream(self, request: AnswerRequest) -> AsyncIterator[str | Usage]:
        if not request.passages:
            return
        best = request.passages[0]
        sentences = select_sentences(
            request.question, best.text, MAX_WORDS[request.style], MAX_SENTENCES[request.style]
        )
        for i, sentence in enumerate(sentences):
            last = i == len(sentences) - 1
            yield sentence + (" [1]" if last else " ")
