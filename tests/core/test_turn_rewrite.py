"""Follow-ups rewritten by the generative tier before retrieval (through the OpenAI stub)."""

from bot.core.turn import answer_question
from bot.models.extractive import ExtractiveModel
from bot.models.openai_compat import OpenAIChatModel
from tests.stubs.openai_stub import StubServer

REFUND = "How do I get a refund for the yearly plan I bought?"
HISTORY = [
    ("customer", "I bought the yearly plan last week and changed my mind"),
    ("bot", "Yearly plans get a full refund within 30 days of the first payment. [1]"),
]


def mini(stub: StubServer) -> OpenAIChatModel:
    return OpenAIChatModel("stub-mini", api_key="k", base_url=stub.base_url, max_retries=0)


async def ask(stub, kb, message="ok, how do I do that?", ladder=None, **options):
    ladder = ladder or [("mini", mini(stub))]
    return await answer_question(message, kb, ladder, threshold=0.45, history=HISTORY, **options)


async def test_the_mini_tier_rewrites_a_follow_up_and_its_cost_is_on_the_turn(demo_kb):
    with StubServer() as stub:
        stub.script("stub-mini", replies=[{"text": REFUND}], default="quote")
        outcome = await ask(stub, demo_kb)
        sent = stub.history()
    rewrite = next(s for s in outcome.decision if s.stage == "rewrite")
    assert rewrite.detail["query"] == REFUND and rewrite.detail["tokens_in"] > 0
    retrieve = next(s for s in outcome.decision if s.stage == "retrieve")
    assert retrieve.detail["in_context"] == REFUND
    assert not outcome.escalated and "refund" in outcome.citations[0].text.lower()
    # One short call that is not streamed, then the answer.
    assert len(sent) == 2 and not sent[0].get("stream") and sent[1]["stream"]
    assert sent[0]["messages"][0]["content"].startswith("Rewrite the customer's last message")
    assert "changed my mind" in sent[0]["messages"][1]["content"]
    answer = next(s for s in outcome.decision if s.stage == "answer:mini")
    assert outcome.usage.tokens_in == rewrite.detail["tokens_in"] + answer.detail["tokens_in"]


async def test_a_question_that_stands_alone_costs_no_rewrite(demo_kb):
    with StubServer() as stub:
        outcome = await ask(stub, demo_kb, "my sync icon is red and says E-2041")
        sent = stub.history()
    assert len(sent) == 1 and not any(s.stage == "rewrite" for s in outcome.decision)


async def test_a_failed_rewrite_falls_back_to_the_conversation_without_a_model(demo_kb):
    with StubServer() as stub:
        stub.script("stub-mini", replies=[{"error": 500}], default="quote")
        outcome = await ask(stub, demo_kb)
    rewrite = next(s for s in outcome.decision if s.stage == "rewrite")
    assert rewrite.detail["query"] is None and "500" in rewrite.detail["error"]
    retrieve = next(s for s in outcome.decision if s.stage == "retrieve")
    assert retrieve.detail["in_context"].startswith("I bought the yearly plan")
    assert not outcome.escalated


async def test_a_paused_budget_rewrites_nothing(demo_kb):
    with StubServer() as stub:
        ladder = [("mini", mini(stub)), ("large", ExtractiveModel())]
        await ask(stub, demo_kb, ladder=ladder, paused="daily_budget")
        assert stub.history() == []
