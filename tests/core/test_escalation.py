import json
from pathlib import Path

import pytest

from bot.core import rules
from bot.core.escalation import Exchange, repeated_failure, says_unhelpful, summarize
from bot.core.types import Passage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    [
        "this is the WORST app ever, absolutely useless!!!",
        "you guys are scammers, I want my money back",
        "I'm furious, this is unacceptable",
        "I will talk to my lawyer about this",
        "WHY IS NOTHING WORKING AGAIN, ridiculous",
    ],
)
def test_strong_anger_is_recognised(text):
    assert rules.strongly_negative(text)
    assert rules.fired(text) == "negative_sentiment"


@pytest.mark.parametrize(
    "text",
    [
        "sync fails with E-2041 and I can't open my notes",
        "the app crashed and I lost my draft, what can I do?",
        "this is terrible timing, my trial ended yesterday - can I extend it?",
        "ERROR E-4010 WHEN EXPORTING",
        "wtf, why does my note not save",
    ],
)
def test_problems_and_mild_frustration_are_not_escalated(text):
    assert not rules.strongly_negative(text)


def test_no_question_of_either_eval_set_reads_as_angry():
    files = [
        ROOT / "tests/eval/nimbus-questions.jsonl",
        ROOT.parent / "shared/eval/python-faq/questions.jsonl",
    ]
    questions = [json.loads(line)["question"] for f in files if f.exists() for line in f.open()]
    assert len(questions) > 40
    assert [q for q in questions if rules.strongly_negative(q)] == []


@pytest.mark.parametrize(
    "text",
    [
        "that didn't help",
        "not what I asked",
        "still not working",
        "that's wrong",
        "you don't understand",
        "wrong answer",
    ],
)
def test_saying_an_answer_did_not_help(text):
    assert says_unhelpful(text)


def test_helpful_follow_ups_are_not_unhelpful():
    assert not says_unhelpful("thanks, and how do I export to PDF?")


def bot(text="answer [1]", rating=None):
    return Exchange("bot", text, rating)


def customer(text):
    return Exchange("customer", text)


def test_a_thumbs_down_followed_by_a_rephrase_is_a_repeated_failure():
    history = [customer("how to export"), bot(rating="down")]
    assert repeated_failure(history, "how do I get my notes out as PDF")


def test_two_unhelpful_turns_in_a_row_are_a_repeated_failure():
    history = [customer("how to export"), bot(), customer("that didn't help"), bot()]
    assert repeated_failure(history, "still not working")
    # One complaint is not yet a streak.
    assert not repeated_failure([customer("how to export"), bot()], "that didn't help")
    # An answer rated up in between resets the streak.
    history = [customer("that didn't help"), bot(rating="up")]
    assert not repeated_failure(history, "still not working")


def test_the_summary_gives_the_agent_the_reason_the_question_and_context():
    passage = Passage("billing/refunds.md", "Billing › Refunds", None, "text", 0.4, "k")
    history = [customer("hi there"), bot(rating="down"), customer("refund for yearly plan?")]
    text = summarize(history, "refund for yearly plan?", "low_confidence", [passage], 0.31)
    assert "no article matched" in text and "refund for yearly plan?" in text
    assert "Billing › Refunds" in text and "0.31" in text and '"hi there"' in text
    assert "1 bot answer(s) rated unhelpful" in text
    assert len(summarize(history, "x" * 2000, "low_confidence")) <= 600
