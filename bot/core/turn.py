"""One turn: question → rules → retrieve → answer on the model ladder → gate → reply or escalate.

This is the single answer path: ``supportbot ask``, ``supportbot eval`` and the
server all call :func:`answer_question`. Every stage is recorded with its latency
and outcome in :attr:`TurnOutcome.decision`, so an operator can see why a turn
went where it went.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core import gate, rules
from bot.core.protocols import KnowledgeBase
from bot.core.types import Citation, Passage
from bot.errors import InvalidInput
from bot.models.base import AnswerRequest, ChatModel, Style

# Reason codes (stable: they appear in JSON output, metrics and the agent queue).
ASKED_FOR_HUMAN = "asked_for_human"
NO_KNOWLEDGE = "no_knowledge"
LOW_CONFIDENCE = "low_confidence"
UNGROUNDED = "ungrounded"

HUMAN_TIER = "human"

MESSAGES = {
    ASKED_FOR_HUMAN: "Of course. I'm handing this conversation to a person from our support "
    "team; they will see everything you've written so far.",
    NO_KNOWLEDGE: "I can't answer questions yet because the help center has no articles "
    "loaded. I'm passing your question to a person from our support team.",
    LOW_CONFIDENCE: "I couldn't find a reliable answer to that in our help center, and I'd "
    "rather not guess. I'm passing your question to a person from our "
    "support team.",
    UNGROUNDED: "I found related articles but couldn't put together an answer I can back "
    "up with them, so I'm passing your question to a person from our support "
    "team.",
}


@dataclass(frozen=True)
class Step:
    """One stage of the decision path."""

    stage: str
    ms: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class TurnOutcome:
    answer: str
    citations: list[Citation]
    escalated: bool
    reason: str | None
    tier: str
    confidence: float | None
    passages: list[Passage]
    decision: list[Step]

    def to_dict(self) -> dict[str, Any]:
        """The ``supportbot ask --json`` shape (PROTOCOL.md)."""
        return {
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "escalated": self.escalated,
            "reason": self.reason,
            "tier": self.tier,
        }


def validate_question(question: str, max_chars: int) -> str:
    text = question.strip()
    if not text:
        raise InvalidInput("The question is empty.")
    if len(text) > max_chars:
        raise InvalidInput(
            f"The question is {len(text)} characters long; the limit is {max_chars} characters."
        )
    return text


async def _collect(model: ChatModel, request: AnswerRequest) -> str:
    return "".join([piece async for piece in model.stream(request)])


async def answer_question(
    question: str,
    kb: KnowledgeBase,
    ladder: Sequence[tuple[str, ChatModel]],
    *,
    threshold: float,
    top_k: int = 3,
    max_chars: int = 4000,
    style: Style = "chat",
) -> TurnOutcome:
    """Run one turn. ``ladder`` is ``[(tier name, model), …]`` tried in order."""
    text = validate_question(question, max_chars)
    decision: list[Step] = []

    def escalate(reason: str, passages: list[Passage], confidence: float | None) -> TurnOutcome:
        return TurnOutcome(
            MESSAGES[reason], [], True, reason, HUMAN_TIER, confidence, passages, decision
        )

    started = time.perf_counter()
    if rules.asks_for_human(text):
        decision.append(Step("rules", _ms(started), {"fired": ASKED_FOR_HUMAN}))
        return escalate(ASKED_FOR_HUMAN, [], None)
    decision.append(Step("rules", _ms(started), {"fired": None}))

    started = time.perf_counter()
    # Retrieval blocks (embedding, Chroma): keep it off the event loop.
    passages = await asyncio.to_thread(kb.search, text, top_k)
    confidence = passages[0].score if passages else None
    decision.append(
        Step(
            "retrieve",
            _ms(started),
            {
                "scores": [round(p.score, 4) for p in passages],
                "signals": [p.signals for p in passages],
            },
        )
    )
    if not passages:
        return escalate(NO_KNOWLEDGE, passages, confidence)
    if passages[0].score < threshold:
        decision.append(
            Step(
                "threshold",
                0.0,
                {"confidence": round(passages[0].score, 4), "threshold": threshold},
            )
        )
        return escalate(LOW_CONFIDENCE, passages, confidence)

    request = AnswerRequest(question=text, passages=passages, style=style)
    for tier, model in ladder:
        started = time.perf_counter()
        answer = (await _collect(model, request)).strip()
        verdict = gate.check(answer, passages)
        decision.append(
            Step(
                f"answer:{tier}",
                _ms(started),
                {
                    "model": model.name,
                    "gate": "pass" if verdict.passed else verdict.reason,
                    "min_support": round(verdict.min_support, 3),
                },
            )
        )
        if verdict.passed:
            citations = [p.citation(i + 1) for i, p in enumerate(passages)]
            return TurnOutcome(answer, citations, False, None, tier, confidence, passages, decision)
    return escalate(UNGROUNDED, passages, confidence)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
