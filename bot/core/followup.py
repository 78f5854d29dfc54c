"""Follow-up questions: which question does retrieval search with?

"ok, how do I do that?" after a refund answer means nothing on its own; retrieval that
sees only the current message hands it to a person or, worse, answers it from a section
that happens to share its few words. A new topic ("also, why does 0.1 + 0.2 print
0.30000000000000004?") must not be dragged back to the previous one.

So a turn with history searches twice, with the message alone and with the message
after the customer's previous question (one batch for the embedder), and keeps for each
section the better of its standalone score and its in-context score less a handicap
(:func:`merge`). The handicap is small when the message shows that it leans on what came
before (a pronoun or demonstrative with nothing to point at, a leading "and"/"so", a
trailing "then"/"instead", very few words of its own) and large when it does not, so a
self-contained question keeps its own answer unless the context makes another section
clearly better. Pure functions: no I/O, no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.text import content_terms, words
from bot.core.types import Passage

# Words that point back at something said before.
_REFERRING = frozenset(
    [
        "it",
        "its",
        "it's",
        "that",
        "this",
        "these",
        "those",
        "them",
        "they",
        "their",
        "theirs",
        "he",
        "she",
        "him",
        "her",
        "his",
        "there",
        "same",
        "such",
        "one",
        "ones",
        "other",
        "another",
        "either",
        "both",
        "former",
        "latter",
    ]
)
# Openers and closers that continue the previous turn rather than start a new one.
_LEADING = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|thanks|thank you|great|cool|right|hmm+|oh|ah)[,.!]*\s+)*"
    r"(?:and|but|so|or|then|what about|how about|what if|same for|and if|also for)\b",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"\b(?:then|too|as well|instead|again|either|though)\s*[?.!]*\s*$", re.IGNORECASE
)
# A new topic announced as such.
_NEW_TOPIC = re.compile(
    r"\b(?:another (?:thing|question)|different (?:question|topic|thing)|unrelated|"
    r"new question|something else|other question)\b",
    re.IGNORECASE,
)

SHORT = 3  # a message with at most this many content terms leans on its context
HANDICAP_DEPENDENT = 0.02  # in-context scores lose this much when the message leans back
HANDICAP_SELF_CONTAINED = 0.12  # and this much when it stands on its own


def leans_on_context(message: str) -> bool:
    """Whether the message reads as a continuation of the conversation."""
    if _NEW_TOPIC.search(message):
        return False
    tokens = words(message)
    if any(t in _REFERRING for t in tokens):
        return True
    if _LEADING.search(message) or _TRAILING.search(message):
        return True
    return len(set(content_terms(message))) <= SHORT


def previous_question(history: Sequence[tuple[str, str]]) -> str | None:
    """The customer's last message before this one (``history`` excludes the current)."""
    for role, text in reversed(history):
        if role == "customer" and text.strip():
            return text.strip()
    return None


def in_context(message: str, history: Sequence[tuple[str, str]]) -> str | None:
    """The query that reads the message after the previous question, or None (no history)."""
    previous = previous_question(history)
    if previous is None or previous == message.strip():
        return None
    return f"{previous}\n{message}"


def merge(
    alone: Sequence[Passage], context: Sequence[Passage], message: str, k: int
) -> tuple[list[Passage], bool]:
    """The top ``k`` passages of both searches, each section scored by the better of its
    standalone score and its in-context score less the handicap; and whether the top
    passage came from the in-context search."""
    handicap = HANDICAP_DEPENDENT if leans_on_context(message) else HANDICAP_SELF_CONTAINED
    best: dict[str, tuple[float, Passage, bool]] = {}
    for passage in alone:
        best[passage.section_key] = (passage.score, passage, False)
    for passage in context:
        score = passage.score - handicap
        current = best.get(passage.section_key)
        if current is None or score > current[0]:
            best[passage.section_key] = (score, passage, True)
    ranked = sorted(best.values(), key=lambda item: item[0], reverse=True)[:k]
    merged = []
    for score, passage, from_context in ranked:
        if from_context:
            # The confidence the threshold sees carries the handicap too.
            passage = Passage(
                passage.source,
                passage.title,
                passage.anchor,
                passage.text,
                max(0.0, score),
                passage.section_key,
                {**passage.signals, "context": 1.0},
            )
        merged.append(passage)
    return merged, bool(ranked) and ranked[0][2]
