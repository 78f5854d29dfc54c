"""One turn: question → rules → retrieve → answer on the model ladder → gate → reply or escalate.

This is the single answer path: ``supportbot ask``, ``supportbot eval`` and the
server all call :func:`answer_question`. Every stage is recorded with its latency
and outcome in :attr:`TurnOutcome.decision`, so an operator can see why a turn
went where it went.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core import followup, gate, rules
from bot.core.protocols import KnowledgeBase
from bot.core.text import split_sentences
from bot.core.types import Citation, Passage
from bot.errors import InvalidInput, ModelError
from bot.models.base import AnswerRequest, ChatModel, QuestionRewriter, Style, Usage
from bot.models.prompt import NO_ANSWER

# Reason codes (stable: they appear in JSON output, metrics and the agent queue).
ASKED_FOR_HUMAN = "asked_for_human"
NEGATIVE_SENTIMENT = "negative_sentiment"
REPEATED_FAILURE = "repeated_failure"
NO_KNOWLEDGE = "no_knowledge"
LOW_CONFIDENCE = "low_confidence"
UNGROUNDED = "ungrounded"
INTERNAL_ERROR = "internal_error"
# The model budgets (docs/security.md): generative tiers are skipped past them.
MODEL_UNAVAILABLE = "model_unavailable"  # every tier failed to answer at all
CONVERSATION_BUDGET = "conversation_budget"
DAILY_BUDGET = "daily_budget"

HUMAN_TIER = "human"
MAX_REWRITE_CHARS = 500  # a rewrite longer than this is not a question

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
    NEGATIVE_SENTIMENT: "I'm sorry this has been so frustrating. I'm handing the conversation "
    "to a person from our support team right away; they will see everything you've written.",
    INTERNAL_ERROR: "Something went wrong on our side while I was looking this up. Your "
    "message is saved and I'm passing it to a person from our support team.",
    REPEATED_FAILURE: "I'm sorry my answers haven't helped. I'm handing this to a person "
    "from our support team; they will see this whole conversation.",
    MODEL_UNAVAILABLE: "I can't reach the service that writes my answers right now, so I'm "
    "passing your question to a person from our support team; they will see everything "
    "you've written.",
    CONVERSATION_BUDGET: "This conversation has reached the limit of automatic answers I can "
    "write, so I'm handing it to a person from our support team; they will see everything "
    "you've written.",
    DAILY_BUDGET: "Automatic answers are paused for the moment, so I'm passing your question "
    "to a person from our support team; they will see everything you've written.",
}


@dataclass(frozen=True)
class Delta:
    """A piece of attempt ``attempt``'s answer (tier ``tier``), not yet checked by the gate."""

    attempt: int
    tier: str
    text: str


@dataclass(frozen=True)
class Retract:
    """Attempt ``attempt`` failed (gate or model error): discard its deltas."""

    attempt: int
    tier: str
    reason: str


@dataclass(frozen=True)
class Sentence:
    """A complete sentence of attempt ``attempt`` that the gate already accepts together
    with the sentences before it (phone style only: a call speaks these while the rest
    of the answer is being written)."""

    attempt: int
    tier: str
    text: str


TurnEvent = Delta | Retract | Sentence
Listener = Callable[[TurnEvent], Awaitable[None]]


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
    usage: Usage = field(default_factory=Usage)
    attempt: int | None = None  # which attempt produced the answer (its deltas stand)

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


async def _stream(
    model: ChatModel, request: AnswerRequest, emit: Callable[[str], Awaitable[None]]
) -> tuple[str, Usage]:
    """Run ``model``, passing text on through ``emit`` as it comes, except a reply that may
    still turn out to be the ``NO_ANSWER`` marker (never shown to a customer)."""
    pieces: list[str] = []
    usage = Usage()
    held = True
    async for piece in model.stream(request):
        if isinstance(piece, Usage):
            usage = piece
            continue
        pieces.append(piece)
        if held:
            so_far = "".join(pieces).lstrip()
            if NO_ANSWER.startswith(so_far) or so_far.startswith(NO_ANSWER):
                continue
            held = False
            piece = "".join(pieces)
        await emit(piece)
    return "".join(pieces), usage


_LEADING_MARKERS = re.compile(r"(?:\[\d{1,2}\]\s*)+")


class _CheckedSentences:
    """Releases an attempt's sentences one by one as they are completed, each only when
    the gate accepts the answer so far; after the first refusal it releases nothing
    more (the whole answer then still meets the gate as usual)."""

    def __init__(self, passages: Sequence[Passage], related: gate.Related | None) -> None:
        self.passages = passages
        self.related = related
        self.text = ""
        self.released: list[str] = []
        self.blocked = False

    def feed(self, piece: str) -> list[str]:
        self.text += piece
        # The last sentence may still grow; a sentence is complete once another began.
        return self._release(self._sentences()[:-1])

    def finish(self) -> list[str]:
        return self._release(self._sentences())

    def _sentences(self) -> list[str]:
        """Sentences with the markers that follow their full stop ("… days. [1]")."""
        out: list[str] = []
        for sentence in split_sentences(self.text):
            marker = _LEADING_MARKERS.match(sentence)
            if marker and out:
                out[-1] = f"{out[-1]} {marker.group(0).strip()}"
                sentence = sentence[marker.end() :]
            if sentence:
                out.append(sentence)
        return out

    def _release(self, complete: list[str]) -> list[str]:
        out: list[str] = []
        for sentence in complete[len(self.released) :]:
            if self.blocked:
                break
            so_far = " ".join([*self.released, sentence])
            if not gate.check(so_far, self.passages, related=self.related).passed:
                self.blocked = True
                break
            self.released.append(sentence)
            out.append(sentence)
        return out


def _rewriter(ladder: Sequence[tuple[str, ChatModel]]) -> QuestionRewriter | None:
    """The first generative tier that can rewrite a follow-up, if any."""
    for _, model in ladder:
        if model.generative and isinstance(model, QuestionRewriter):
            return model
    return None


async def _rewrite(
    rewriter: QuestionRewriter,
    history: Sequence[tuple[str, str]],
    text: str,
    timeout: float | None,
) -> tuple[str | None, Usage, str | None]:
    """The follow-up as a standalone question, its cost, and why not when it failed (the
    turn then reads the message after the previous question, as without a model)."""
    try:
        async with asyncio.timeout(timeout):
            rewritten, spent = await rewriter.rewrite(history, text)
    except (ModelError, TimeoutError) as exc:
        return None, Usage(), str(exc) or "timed out"
    if not rewritten or len(rewritten) > MAX_REWRITE_CHARS:
        return None, spent, "no usable question"
    return rewritten, spent, None


def _rewrite_detail(rewritten: str | None, spent: Usage, error: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "query": rewritten,
        "tokens_in": spent.tokens_in,
        "tokens_out": spent.tokens_out,
        "cost_usd": spent.cost_usd,
    }
    return detail | ({"error": error} if error else {})


async def _retrieve(
    kb: KnowledgeBase,
    text: str,
    history: Sequence[tuple[str, str]],
    k: int,
    rewritten: str | None = None,
) -> tuple[list[Passage], str | None]:
    """The passages for ``text`` read in the conversation (:mod:`bot.core.followup`), and
    the in-context query when that reading won. A model's standalone rewrite of the
    message, when there is one, is the in-context query."""
    query = rewritten or followup.in_context(text, history)
    # Retrieval blocks (embedding, Chroma): keep it off the event loop. Both searches at
    # once share one forward pass of the embedder (the query batcher).
    if query is None:
        return await asyncio.to_thread(kb.search, text, k), None
    alone, context = await asyncio.gather(
        asyncio.to_thread(kb.search, text, k), asyncio.to_thread(kb.search, query, k)
    )
    passages, from_context = followup.merge(alone, context, text, k)
    return passages, query if from_context else None


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(a.tokens_in + b.tokens_in, a.tokens_out + b.tokens_out, a.cost_usd + b.cost_usd)


async def answer_question(
    question: str,
    kb: KnowledgeBase,
    ladder: Sequence[tuple[str, ChatModel]],
    *,
    threshold: float,
    top_k: int = 3,
    max_chars: int = 4000,
    style: Style = "chat",
    history: Sequence[tuple[str, str]] = (),
    images: Sequence[tuple[str, bytes]] = (),
    listener: Listener | None = None,
    paused: str | None = None,
    attempt_timeout: float | None = None,
    related: gate.Related | None = None,
) -> TurnOutcome:
    """Run one turn. ``ladder`` is ``[(tier name, model), …]`` tried in order.

    ``attempt_timeout`` bounds one tier's whole answer (a server that trickles tokens
    never trips a per-read timeout): past it the tier counts as failed.

    ``paused`` (a budget reason code) skips the generative tiers; with none left the
    question goes to a person for that reason.

    With a ``listener``, each attempt's text is streamed as :class:`Delta` events as it
    is generated, and an attempt the gate (or the model) fails is followed by a
    :class:`Retract`; the outcome's ``attempt`` names the one whose text stands.

    ``related`` lets the gate count a paraphrase's synonyms as support (an embedder's
    word similarity, :class:`bot.knowledge.relevance.WordSimilarity`).
    """
    text = validate_question(question, max_chars)
    decision: list[Step] = []
    usage = Usage()

    def escalate(reason: str, passages: list[Passage], confidence: float | None) -> TurnOutcome:
        return TurnOutcome(
            MESSAGES[reason], [], True, reason, HUMAN_TIER, confidence, passages, decision, usage
        )

    started = time.perf_counter()
    fired = rules.fired(text)
    decision.append(Step("rules", _ms(started), {"fired": fired}))
    if fired is not None:
        return escalate(fired, [], None)

    rewriter = None if paused else _rewriter(ladder)
    if rewriter is not None and history and followup.leans_on_context(text):
        started = time.perf_counter()
        rewritten, spent, error = await _rewrite(rewriter, history, text, attempt_timeout)
        usage = _add(usage, spent)
        decision.append(Step("rewrite", _ms(started), _rewrite_detail(rewritten, spent, error)))
    else:
        rewritten = None
    started = time.perf_counter()
    passages, context = await _retrieve(kb, text, history, top_k, rewritten)
    confidence = passages[0].score if passages else None
    decision.append(
        Step(
            "retrieve",
            _ms(started),
            {
                "scores": [round(p.score, 4) for p in passages],
                "signals": [p.signals for p in passages],
                **({"in_context": context} if context else {}),
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

    if paused is not None:
        skipped = [tier for tier, model in ladder if model.generative]
        ladder = [(tier, model) for tier, model in ladder if not model.generative]
        decision.append(Step("budget", 0.0, {"paused": paused, "skipped": skipped}))
        if not ladder:
            return escalate(paused, passages, confidence)
    request = AnswerRequest(
        question=text, passages=passages, style=style, history=history, images=images
    )
    failed = 0  # tiers that could not answer at all (errors, timeouts), not gate failures
    for attempt, (tier, model) in enumerate(ladder):
        checked = _CheckedSentences(passages, related) if style == "phone" else None

        async def emit(
            piece: str,
            attempt: int = attempt,
            tier: str = tier,
            checked: _CheckedSentences | None = checked,
        ) -> None:
            if listener is None:
                return
            await listener(Delta(attempt, tier, piece))
            for sentence in checked.feed(piece) if checked else ():
                await listener(Sentence(attempt, tier, sentence))

        started = time.perf_counter()
        detail: dict[str, Any] = {"model": model.name}
        try:
            async with asyncio.timeout(attempt_timeout):
                raw, spent = await _stream(model, request, emit)
        except (ModelError, TimeoutError) as exc:
            failed += 1
            error = str(exc) or f"no complete answer within {attempt_timeout:g} s"
            detail |= {"gate": "model_error", "error": error}
            decision.append(Step(f"answer:{tier}", _ms(started), detail))
            if listener is not None:
                await listener(Retract(attempt, tier, "model_error"))
            continue
        usage = _add(usage, spent)
        answer = raw.strip()
        if answer.startswith(NO_ANSWER):
            verdict = gate.GateVerdict(False, "model_declined", ())
        else:
            # The gate's embedder work (word similarity) is CPU: off the event loop.
            verdict = await asyncio.to_thread(gate.check, answer, passages, related=related)
        detail |= {
            "gate": "pass" if verdict.passed else verdict.reason,
            "min_support": round(verdict.min_support, 3),
            "tokens_in": spent.tokens_in,
            "tokens_out": spent.tokens_out,
            "cost_usd": spent.cost_usd,
        }
        decision.append(Step(f"answer:{tier}", _ms(started), detail))
        if verdict.passed and checked is not None and listener is not None:
            for sentence in checked.finish():
                await listener(Sentence(attempt, tier, sentence))
        if verdict.passed:
            # The gate's text: repeats dropped, missing citation markers attributed.
            citations = [p.citation(i + 1) for i, p in enumerate(passages)]
            return TurnOutcome(
                verdict.text,
                citations,
                False,
                None,
                tier,
                confidence,
                passages,
                decision,
                usage,
                attempt,
            )
        if listener is not None:
            await listener(Retract(attempt, tier, verdict.reason or "ungrounded"))
    if ladder and failed == len(ladder):
        return escalate(MODEL_UNAVAILABLE, passages, confidence)
    return escalate(UNGROUNDED, passages, confidence)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
