import json

import pytest

from bot.core.turn import answer_question
from bot.errors import EvaluationError
from bot.evaluation import Question
from bot.evaluation.answers import evaluate_answers, load_answers
from bot.models.openai_compat import OpenAIChatModel
from tests.stubs.openai_stub import StubServer

REFUNDS = Question(
    "nb-001",
    "i paid for the yearly plan last week and changed my mind, can i get my money back?",
    "in_scope",
    "billing/refunds.md",
    "refunds",
    "full refund within 30 days of the first payment",
)
WEATHER = Question(
    "w", "what's the weather like in Berlin tomorrow", "in_scope", "x.md", "x", "sunny"
)


def write(tmp_path, lines):
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    return path


async def test_written_answers_go_through_the_stub_and_the_gate(tmp_path, demo_kb):
    answers = load_answers(
        write(
            tmp_path,
            [
                {
                    "id": "nb-001",
                    "faithful": "Yes: yearly plans get a full refund within 30 days of the "
                    "first payment [G].",
                    "unsupported": "Yes: yearly plans get a full refund within 90 days of the "
                    "first payment [G].",
                    "kind": "number",
                },
                {"id": "w", "faithful": "Sunny [G].", "unsupported": "Rain [G].", "kind": "claim"},
            ],
        ),
        {"nb-001": REFUNDS, "w": WEATHER},
    )
    with StubServer() as stub:
        model = OpenAIChatModel("scripted", api_key="k", base_url=stub.base_url, max_retries=0)

        def script(text, locate):
            stub.script("scripted", replies=[{"text": text, "locate": locate}])

        async def turn(question):
            return await answer_question(question, demo_kb, [("mini", model)], threshold=0.45)

        report = await evaluate_answers(answers, turn, script)
        sent = stub.history()
    verdicts = [(r.answer.faithful, r.verdict) for r in report.results]
    assert verdicts[:2] == [(True, "delivered"), (False, "stopped")]
    # The weather never reaches the model: not judged, and the stub was asked twice only.
    assert all(r.verdict in ("below_threshold", "not_retrieved") for r in report.results[2:])
    assert len(sent) == 2
    # [G] became the number of the passage that holds the refunds section.
    delivered = report.results[0].shown
    assert "[G]" not in delivered and "within 30 days" in delivered
    metrics = report.metrics()
    assert metrics["judged"] == 2 and metrics["faithful_delivered"] == 1.0
    assert metrics["number_stopped"] == 1.0 and metrics["claim_stopped"] is None


def test_answers_need_an_in_scope_question_with_a_gold_phrase(tmp_path):
    line = {"id": "nb-001", "faithful": "a", "unsupported": "b", "kind": "number"}
    with pytest.raises(EvaluationError, match="missing or unknown: 'nb-001'"):
        load_answers(write(tmp_path, [line]), {})
    no_gold = Question("nb-001", "q", "in_scope", "x.md", "x", None)
    with pytest.raises(EvaluationError, match="gold phrase"):
        load_answers(write(tmp_path, [line]), {"nb-001": no_gold})
    with pytest.raises(EvaluationError, match="kind must be"):
        load_answers(write(tmp_path, [{**line, "kind": "typo"}]), {"nb-001": REFUNDS})
