"""``supportbot eval``: a questions file through the answer path, scored.

Questions file: JSON lines with ``id``, ``question``, ``kind`` (``in_scope`` or
``out_of_scope``) and, for in-scope questions, ``source``, ``anchor`` and ``gold``
(a phrase that occurs only in the right section). A cited passage is a *hit* when
its source and anchor match, or when its text contains the gold phrase.

Retrieval hits are counted on the passages the turn retrieved (what it cites when
it answers), whether or not the turn then escalated; the escalation rates say how
the confidence gate treated each kind of question. What the customer reads is scored
too: of the questions answered from the right section, the share whose answer text
contains the section's gold phrase.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.gate import strip_citations
from bot.core.text import plain
from bot.core.turn import LOW_CONFIDENCE, TurnOutcome
from bot.core.types import Passage
from bot.errors import EvaluationError


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str
    source: str | None = None
    anchor: str | None = None
    gold: str | None = None


@dataclass
class QuestionResult:
    question: Question
    hit_rank: int | None  # 1-based rank of the first hit among retrieved passages
    escalated: bool
    reason: str | None
    confidence: float | None
    seconds: float
    tier: str = ""  # which tier answered (mini, large) or human
    answer: str = ""

    @property
    def answered_correctly(self) -> bool:
        return not self.escalated and self.hit_rank == 1

    @property
    def gold_in_answer(self) -> bool:
        """The answer's text holds the section's gold phrase (citation markers aside)."""
        gold = plain(self.question.gold or "").lower()
        # Code marks are presentation: plain() drops them.
        return bool(gold) and gold in plain(strip_citations(self.answer)).lower()


@dataclass
class EvalReport:
    results: list[QuestionResult] = field(default_factory=list)

    def _in(self) -> list[QuestionResult]:
        return [r for r in self.results if r.question.kind == "in_scope"]

    def _out(self) -> list[QuestionResult]:
        return [r for r in self.results if r.question.kind == "out_of_scope"]

    def metrics(self) -> dict[str, Any]:
        inside, outside = self._in(), self._out()
        latencies = sorted(r.seconds for r in self.results)

        def rate(items: list[QuestionResult], ok: Callable[[QuestionResult], bool]) -> float:
            return round(sum(ok(r) for r in items) / len(items), 4) if items else 0.0

        return {
            "questions": len(self.results),
            "in_scope": len(inside),
            "out_of_scope": len(outside),
            "hit@1": rate(inside, lambda r: r.hit_rank == 1),
            "hit@3": rate(inside, lambda r: r.hit_rank is not None and r.hit_rank <= 3),
            "in_scope_answered": rate(inside, lambda r: not r.escalated),
            # The precision figure: of what the customer got an answer to, how much
            # came from the right section.
            "hit@1_answered": rate(
                [r for r in inside if not r.escalated], lambda r: r.hit_rank == 1
            ),
            "answered_correctly": rate(inside, lambda r: r.answered_correctly),
            "gold_in_answer": rate(
                [r for r in inside if r.answered_correctly and r.question.gold],
                lambda r: r.gold_in_answer,
            ),
            "out_of_scope_declined": rate(outside, lambda r: r.escalated),
            "in_scope_wrongly_escalated": rate(inside, lambda r: r.escalated),
            "latency_p50_ms": round(_percentile(latencies, 50) * 1000, 1),
            "latency_p95_ms": round(_percentile(latencies, 95) * 1000, 1),
            # How often each tier had the last word (human: escalated).
            **{
                f"answered_by_{tier}": round(n / len(self.results), 4)
                for tier, n in sorted(Counter(r.tier for r in self.results if r.tier).items())
            },
        }

    def sweep(self, thresholds: list[float]) -> list[dict[str, float]]:
        """What the two escalation rates would be at other thresholds, from this one run.

        Only the confidence decision moves: escalations for other reasons (the customer
        asked for a person, a failed gate) stay escalated, and a question answered at a
        lower threshold is assumed to pass the gate, as the extractive answerer's do.
        """
        inside, outside = self._in(), self._out()

        def escalated(r: QuestionResult, threshold: float) -> bool:
            if r.escalated and r.reason != LOW_CONFIDENCE:
                return True
            return r.confidence is None or r.confidence < threshold

        rows = []
        for t in thresholds:
            rows.append(
                {
                    "threshold": round(t, 3),
                    "in_scope_wrongly_escalated": round(
                        sum(escalated(r, t) for r in inside) / len(inside), 4
                    )
                    if inside
                    else 0.0,
                    "out_of_scope_declined": round(
                        sum(escalated(r, t) for r in outside) / len(outside), 4
                    )
                    if outside
                    else 0.0,
                }
            )
        return rows


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The JSON objects of a JSON-lines file, each with ``file:line`` for error messages."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{where}: not JSON ({exc})") from exc
        if not isinstance(raw, dict):
            raise EvaluationError(f"{where}: not a JSON object")
        yield where, raw


def load_questions(path: Path) -> list[Question]:
    questions: list[Question] = []
    for number, (where, raw) in enumerate(records(path), start=1):
        try:
            question = Question(
                id=str(raw.get("id", number)),
                question=str(raw["question"]),
                kind=str(raw.get("kind", "in_scope")),
                source=raw.get("source"),
                anchor=raw.get("anchor"),
                gold=raw.get("gold"),
            )
        except KeyError as exc:
            raise EvaluationError(f"{where}: not a question record (no {exc})") from exc
        if question.kind not in ("in_scope", "out_of_scope"):
            raise EvaluationError(f"{where}: kind must be in_scope or out_of_scope")
        questions.append(question)
    if not questions:
        raise EvaluationError(f"{path}: no questions")
    return questions


def by_id(questions: list[Question]) -> dict[str, Question]:
    return {q.id: q for q in questions}


def _squash(text: str) -> str:
    return " ".join(text.split())


def is_hit(question: Question, passage: Passage) -> bool:
    if (
        question.source
        and question.anchor
        and passage.anchor == question.anchor
        and (passage.source == question.source or passage.source.endswith("/" + question.source))
    ):
        return True
    return bool(question.gold) and _squash(question.gold or "") in _squash(passage.text)


async def evaluate(
    questions: list[Question],
    turn: Callable[[str], Awaitable[TurnOutcome]],
    on_result: Callable[[QuestionResult], None] | None = None,
) -> EvalReport:
    report = EvalReport()
    for question in questions:
        started = time.perf_counter()
        outcome = await turn(question.question)
        seconds = time.perf_counter() - started
        rank = next((i + 1 for i, p in enumerate(outcome.passages) if is_hit(question, p)), None)
        result = QuestionResult(
            question,
            rank,
            outcome.escalated,
            outcome.reason,
            outcome.confidence,
            seconds,
            outcome.tier,
            outcome.answer,
        )
        report.results.append(result)
        if on_result:
            on_result(result)
    return report
