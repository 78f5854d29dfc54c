import json

import pytest

from bot.core.turn import TurnOutcome
from bot.core.types import Passage
from bot.errors import EvaluationError
from bot.evaluation import Question, evaluate, is_hit, load_questions


def passage(source: str, anchor: str | None, text: str) -> Passage:
    return Passage(source, "T", anchor, text, 0.9, f"{source}#0")


def test_hits_match_source_and_anchor_or_the_gold_phrase():
    q = Question("1", "?", "in_scope", "general.html", "why-python", "BBC comedy series")
    assert is_hit(q, passage("general.html", "why-python", "unrelated"))
    assert is_hit(q, passage("kb/general.html", "why-python", "unrelated"))
    assert is_hit(q, passage("other.html", None, "named after a BBC\ncomedy  series"))
    assert not is_hit(q, passage("general.html", "other-anchor", "unrelated"))


async def test_metrics_count_ranks_declines_and_wrong_escalations():
    questions = [
        Question("a", "first", "in_scope", "x.md", "a", None),
        Question("b", "second", "in_scope", "x.md", "b", None),
        Question("c", "third", "out_of_scope"),
        Question("d", "fourth", "out_of_scope"),
    ]
    turns = {
        "first": ([passage("x.md", "a", "")], False),
        "second": ([passage("x.md", "z", ""), passage("x.md", "b", "")], True),
        "third": ([passage("x.md", "q", "")], True),
        "fourth": ([passage("x.md", "q", "")], False),
    }

    async def turn(text: str) -> TurnOutcome:
        passages, escalated = turns[text]
        tier = "human" if escalated else "mini"
        return TurnOutcome("", [], escalated, None, tier, 0.5, passages, [])

    metrics = (await evaluate(questions, turn)).metrics()
    assert metrics["answered_by_mini"] == 0.5 and metrics["answered_by_human"] == 0.5
    assert metrics["hit@1"] == 0.5 and metrics["hit@3"] == 1.0
    assert metrics["out_of_scope_declined"] == 0.5
    assert metrics["in_scope_wrongly_escalated"] == 0.5
    assert metrics["answered_correctly"] == 0.5


def test_malformed_question_files_name_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "ok"}) + "\n{not json\n")
    with pytest.raises(EvaluationError, match=r"q.jsonl:2"):
        load_questions(path)
    path.write_text(json.dumps({"question": "ok", "kind": "maybe"}))
    with pytest.raises(EvaluationError, match="kind must be"):
        load_questions(path)


async def test_the_sweep_moves_only_confidence_decisions():
    questions = [
        Question("a", "a", "in_scope"),
        Question("b", "b", "in_scope"),
        Question("c", "c", "out_of_scope"),
        Question("d", "d", "out_of_scope"),
    ]
    outcomes = {
        "a": TurnOutcome("", [], False, None, "extractive", 0.7, [], []),
        "b": TurnOutcome("", [], True, "low_confidence", "human", 0.4, [], []),
        "c": TurnOutcome("", [], True, "low_confidence", "human", 0.2, [], []),
        "d": TurnOutcome("", [], True, "asked_for_human", "human", None, [], []),
    }

    async def turn(text: str) -> TurnOutcome:
        return outcomes[text]

    report = await evaluate(questions, turn)
    rows = {row["threshold"]: row for row in report.sweep([0.1, 0.3, 0.5, 0.8])}
    assert rows[0.1] == {
        "threshold": 0.1,
        "in_scope_wrongly_escalated": 0.0,
        "out_of_scope_declined": 0.5,
    }  # d asked for a person: always
    assert rows[0.3]["in_scope_wrongly_escalated"] == 0.0
    assert rows[0.3]["out_of_scope_declined"] == 1.0
    assert rows[0.5]["in_scope_wrongly_escalated"] == 0.5
    assert rows[0.8]["in_scope_wrongly_escalated"] == 1.0
