import json
import tempfile
from pathlib import Path

import pytest

from bot.core.turn import TurnOutcome
from bot.core.types import Passage
from bot.errors import EvaluationError
from bot.evaluation import Question
from bot.evaluation.followups import evaluate_followups, load_followups

QUESTIONS = {
    "q1": Question("q1", "how do I delete a folder?", "in_scope", "files.md", "delete", None),
    "q2": Question("q2", "why do floats round?", "in_scope", "floats.md", "floats", None),
    "q3": Question("q3", "weather?", "out_of_scope"),
}


def passage(source: str, anchor: str) -> Passage:
    return Passage(source, anchor, anchor, "", 0.8, f"{source}#{anchor}")


def load_followups_from(lines):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_text("\n".join(json.dumps(line) for line in lines))
        return load_followups(path, QUESTIONS)


async def test_the_second_message_is_asked_with_the_first_exchange_as_history():
    items = load_followups_from(
        [
            {
                "id": "f1",
                "first": "delete a file?",
                "then": "and a folder?",
                "target": "q1",
                "kind": "followup",
            },
            {
                "id": "s1",
                "first": "delete a file?",
                "then": "why 0.1+0.2?",
                "target": "q2",
                "kind": "switch",
            },
        ]
    )
    seen = []

    async def turn(text, history):
        seen.append((text, list(history)))
        if text == "and a folder?":  # answered, the target second
            return TurnOutcome(
                "x",
                [],
                False,
                None,
                "mini",
                0.7,
                [passage("a.md", "x"), passage("files.md", "delete")],
                [],
            )
        if text == "why 0.1+0.2?":  # escalated: never a hit, whatever was retrieved
            return TurnOutcome(
                "x", [], True, "low_confidence", "human", 0.2, [passage("floats.md", "floats")], []
            )
        return TurnOutcome("Use os.remove(). [1]", [], False, None, "mini", 0.9, [], [])

    metrics = (await evaluate_followups(items, turn)).metrics()
    assert seen[1] == (
        "and a folder?",
        [("customer", "delete a file?"), ("bot", "Use os.remove(). [1]")],
    )
    assert metrics["followup"] == {"conversations": 1, "answered": 1.0, "hit@1": 0.0, "hit@3": 1.0}
    assert metrics["switch"]["hit@3"] == 0.0 and metrics["switch"]["answered"] == 0.0


def test_a_target_that_is_not_an_in_scope_question_is_named():
    base = {"id": "f", "first": "a", "then": "b", "kind": "followup"}
    with pytest.raises(EvaluationError, match="missing or unknown: 'nope'"):
        load_followups_from([{**base, "target": "nope"}])
    with pytest.raises(EvaluationError, match="target in scope"):
        load_followups_from([{**base, "target": "q3"}])
    with pytest.raises(EvaluationError, match="kind must be"):
        load_followups_from([{**base, "target": "q1", "kind": "maybe"}])
