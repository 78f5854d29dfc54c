"""``supportbot eval --followups``: two-message conversations.

Format (JSON lines): ``id``, ``first``, ``then``, ``target`` (the id of an in-scope line
of the questions file whose section answers ``then``) and ``kind``: ``followup`` (``then``
only makes sense with ``first`` in mind: "and how do I undo that?") or ``switch`` (a new
topic that must not be dragged back to the first).

The customer asks ``first``, gets the bot's reply, then asks ``then`` with that exchange
as the conversation's history, through the same answer path as the server. A hit: the
reply to ``then`` is an answer (not a hand-over) that cites the target section in its
top 3 (and, for hit@1, first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.turn import TurnOutcome
from bot.errors import EvaluationError
from bot.evaluation.questions import Question, is_hit, records

KINDS = ("followup", "switch")
History = Sequence[tuple[str, str]]
Turn = Callable[[str, History], Awaitable[TurnOutcome]]


@dataclass(frozen=True)
class FollowUp:
    id: str
    first: str
    then: str
    target: Question
    kind: str


@dataclass
class FollowUpResult:
    followup: FollowUp
    escalated: bool
    reason: str | None
    hit_rank: int | None  # 1-based rank of the target among the passages of ``then``

    @property
    def hit3(self) -> bool:
        return not self.escalated and self.hit_rank is not None and self.hit_rank <= 3


@dataclass
class FollowUpReport:
    results: list[FollowUpResult] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in KINDS:
            items = [r for r in self.results if r.followup.kind == kind]
            if not items:
                continue
            n = len(items)
            out[kind] = {
                "conversations": n,
                "answered": round(sum(not r.escalated for r in items) / n, 4),
                "hit@1": round(sum(r.hit3 and r.hit_rank == 1 for r in items) / n, 4),
                "hit@3": round(sum(r.hit3 for r in items) / n, 4),
            }
        return out


def load_followups(path: Path, questions: dict[str, Question]) -> list[FollowUp]:
    items: list[FollowUp] = []
    for where, raw in records(path):
        try:
            target = questions[str(raw["target"])]
            item = FollowUp(
                str(raw["id"]), str(raw["first"]), str(raw["then"]), target, str(raw["kind"])
            )
        except KeyError as exc:
            raise EvaluationError(
                f"{where}: needs id, first, then, kind and a target that names an in-scope "
                f"line of the questions file (missing or unknown: {exc})"
            ) from exc
        if item.kind not in KINDS or target.kind != "in_scope":
            raise EvaluationError(f"{where}: kind must be followup or switch, target in scope")
        items.append(item)
    if not items:
        raise EvaluationError(f"{path}: no conversations")
    return items


async def evaluate_followups(
    items: Sequence[FollowUp],
    turn: Turn,
    on_result: Callable[[FollowUpResult], None] | None = None,
) -> FollowUpReport:
    report = FollowUpReport()
    for item in items:
        first = await turn(item.first, ())
        history = [("customer", item.first), ("bot", first.answer)]
        then = await turn(item.then, history)
        rank = next(
            (i + 1 for i, p in enumerate(then.passages[:3]) if is_hit(item.target, p)), None
        )
        result = FollowUpResult(item, then.escalated, then.reason, rank)
        report.results.append(result)
        if on_result:
            on_result(result)
    return report
