"""Conversation-level escalation: repeated failure, and the summary an agent reads.

Single-message rules (asked for a person, strong anger) are in :mod:`bot.core.rules`;
these look at the conversation so far.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.types import Passage

# The customer says the last answer did not help.
_UNHELPFUL = re.compile(
    r"""
    \b(?:did\s*n[o']?t|does\s*n[o']?t|didnt|doesnt|not|nothing|never)\s+(?:help|work|answer|fix)\w*
    | \bnot\s+what\s+I\s+(?:asked|meant|need|wanted)
    | \b(?:still|again)\s+(?:not\s+working|broken|the\s+same|failing|fails|does\s*n[o']?t)
    | \b(?:wrong|irrelevant|unhelpful)\s+(?:answer|article|link|info\w*)
    | \bthat(?:'s|\s+is)\s+(?:wrong|not\s+(?:it|right|what))
    | \byou\s+(?:did\s*n[o']?t|do\s*n[o']?t)\s+(?:understand|get\s+it|read)
    """,
    re.IGNORECASE | re.VERBOSE,
)

REASON_TEXT = {
    "asked_for_human": "the customer asked for a person",
    "negative_sentiment": "the customer is upset",
    "repeated_failure": "the bot's answers did not help",
    "no_knowledge": "the knowledge base is empty",
    "low_confidence": "no article matched the question well enough",
    "ungrounded": "no model produced an answer backed by the articles",
}


def says_unhelpful(text: str) -> bool:
    return bool(_UNHELPFUL.search(text))


@dataclass(frozen=True)
class Exchange:
    """One message of the conversation as the rules see it."""

    role: str  # customer | bot | agent | system
    text: str
    rating: str | None = None  # the customer's thumbs on a bot answer


def repeated_failure(history: Sequence[Exchange], text: str) -> bool:
    """True when ``text`` (the new customer message) follows a failure streak:

    * the last bot answer was rated thumbs-down and the customer writes again
      (a rephrase), or
    * this is the second customer message in a row, since the bot last answered
      acceptably, that says an answer did not help.
    """
    last_bot = next((m for m in reversed(history) if m.role == "bot"), None)
    if last_bot is not None and last_bot.rating == "down":
        return True
    if not says_unhelpful(text):
        return False
    for message in reversed(history):
        if message.role == "customer":
            return says_unhelpful(message.text)
        if message.role in ("agent", "system") or message.rating == "up":
            return False
    return False


def summarize(
    history: Sequence[Exchange],
    question: str,
    reason: str,
    passages: Sequence[Passage] = (),
    confidence: float | None = None,
    limit: int = 600,
) -> str:
    """A short, factual summary for the agent who takes over."""
    parts = [f"Why: {REASON_TEXT.get(reason, reason)}."]
    parts.append(f'Customer: "{_clip(question, 200)}"')
    if confidence is not None and passages:
        parts.append(f"Best article: {passages[0].title} (confidence {confidence:.2f}).")
    earlier = [m for m in history if m.role == "customer" and m.text != question]
    if earlier:
        first = _clip(earlier[0].text, 120)
        more = f" and {len(earlier) - 1} more" if len(earlier) > 1 else ""
        parts.append(f'Earlier: "{first}"{more}.')
    down = sum(1 for m in history if m.role == "bot" and m.rating == "down")
    if down:
        parts.append(f"{down} bot answer(s) rated unhelpful.")
    return _clip(" ".join(parts), limit)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
