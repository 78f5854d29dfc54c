"""``supportbot eval --answers``: written model answers against the grounding gate.

Format (JSON lines): ``id`` (an in-scope line of the questions file), ``faithful`` (an
answer every claim of which the section makes), ``unsupported`` (the same with one claim
it does not make) and ``kind``, the kind of that claim: ``number``, ``claim`` or
``contradiction``. ``[G]`` in an answer stands for the number of the passage that holds
the section, whatever position retrieval gives it.

Each answer is served by the OpenAI stub (:mod:`bot.models.openai_stub`) as the ``mini``
tier, with no ``large`` tier, and the question goes through the whole answer path:
retrieval, threshold, the model call over HTTP, the gate. Faithful answers should be
*delivered* (the customer keeps them), unsupported ones *stopped*. An answer whose
question never reached the model (below the threshold) or whose section was not among
the passages (a model could not have written it) is counted apart, not judged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.turn import TurnOutcome
from bot.errors import EvaluationError
from bot.evaluation.questions import Question, is_hit, records

KINDS = ("number", "claim", "contradiction")
# Script the stub's next reply: (text with [G], the phrase that locates the section).
Script = Callable[[str, str], None]


@dataclass(frozen=True)
class WrittenAnswer:
    question: Question
    text: str
    faithful: bool
    kind: str  # the unsupported claim's kind (also kept on the faithful twin)


@dataclass
class AnswerResult:
    answer: WrittenAnswer
    verdict: str  # delivered | stopped | below_threshold | not_retrieved
    gate: str | None  # the gate's reason when it stopped the answer
    shown: str = ""  # what the customer got


@dataclass
class AnswerReport:
    results: list[AnswerResult] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        judged = [r for r in self.results if r.verdict in ("delivered", "stopped")]
        faithful = [r for r in judged if r.answer.faithful]

        def rate(items: list[AnswerResult], verdict: str) -> float | None:
            return (
                round(sum(r.verdict == verdict for r in items) / len(items), 4) if items else None
            )

        out: dict[str, Any] = {
            "answers": len(self.results),
            "judged": len(judged),
            "below_threshold": sum(r.verdict == "below_threshold" for r in self.results),
            "not_retrieved": sum(r.verdict == "not_retrieved" for r in self.results),
            "faithful_delivered": rate(faithful, "delivered"),
        }
        unsupported = [r for r in judged if not r.answer.faithful]
        out["unsupported_stopped"] = rate(unsupported, "stopped")
        for kind in KINDS:
            out[f"{kind}_stopped"] = rate(
                [r for r in unsupported if r.answer.kind == kind], "stopped"
            )
        return out


def load_answers(path: Path, questions: dict[str, Question]) -> list[WrittenAnswer]:
    items: list[WrittenAnswer] = []
    for where, raw in records(path):
        try:
            question = questions[str(raw["id"])]
            kind = str(raw["kind"])
            pair = [(str(raw["faithful"]), True), (str(raw["unsupported"]), False)]
        except KeyError as exc:
            raise EvaluationError(
                f"{where}: needs an id that names an in-scope line of the questions file, "
                f"faithful, unsupported and kind (missing or unknown: {exc})"
            ) from exc
        if kind not in KINDS or question.kind != "in_scope" or not question.gold:
            raise EvaluationError(
                f"{where}: kind must be one of {', '.join(KINDS)}; the question must be in "
                "scope with a gold phrase (it locates the section among the passages)"
            )
        items.extend(WrittenAnswer(question, text, faithful, kind) for text, faithful in pair)
    if not items:
        raise EvaluationError(f"{path}: no answers")
    return items


async def evaluate_answers(
    items: Sequence[WrittenAnswer],
    turn: Callable[[str], Awaitable[TurnOutcome]],
    script: Script,
    on_result: Callable[[AnswerResult], None] | None = None,
) -> AnswerReport:
    report = AnswerReport()
    for item in items:
        script(item.text, item.question.gold or "")
        outcome = await turn(item.question.question)
        if not any(is_hit(item.question, p) for p in outcome.passages):
            verdict, gate = "not_retrieved", None
        elif not any(step.stage.startswith("answer:") for step in outcome.decision):
            verdict, gate = "below_threshold", None
        elif outcome.escalated:
            verdict = "stopped"
            gate = next(
                (str(s.detail.get("gate")) for s in outcome.decision if "gate" in s.detail), None
            )
        else:
            verdict, gate = "delivered", None
        result = AnswerResult(item, verdict, gate, "" if outcome.escalated else outcome.answer)
        report.results.append(result)
        if on_result:
            on_result(result)
    return report
