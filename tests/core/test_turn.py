import pytest

from bot.core.turn import ASKED_FOR_HUMAN, LOW_CONFIDENCE, NO_KNOWLEDGE, answer_question
from bot.errors import InvalidInput
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.models.extractive import ExtractiveModel

LADDER = [("extractive", ExtractiveModel())]


async def test_an_answerable_question_gets_a_cited_extract(demo_kb: HybridKnowledgeBase):
    outcome = await answer_question(
        "how long do I have to ask for a refund on a yearly plan?", demo_kb, LADDER, threshold=0.5
    )
    assert not outcome.escalated and outcome.tier == "extractive"
    assert outcome.answer.endswith("[1]")
    # Both the refunds article and the FAQ row answer this; either is right.
    assert outcome.citations[0].source in ("billing/refunds.md", "frequently-asked-questions.csv")
    assert "within 30 days" in outcome.citations[0].text
    # Extractive: every sentence of the answer is text of the cited passage.
    body = outcome.answer.removesuffix("[1]").strip()
    assert body and body.split(". ")[0] in outcome.citations[0].text
    stages = [step.stage for step in outcome.decision]
    assert stages == ["rules", "retrieve", "answer:extractive"]
    assert outcome.to_dict()["citations"][0]["n"] == 1


async def test_an_off_topic_question_is_escalated_without_citations(demo_kb):
    outcome = await answer_question(
        "what's the weather going to be like in Berlin tomorrow", demo_kb, LADDER, threshold=0.5
    )
    assert outcome.escalated and outcome.reason == LOW_CONFIDENCE and outcome.tier == "human"
    assert outcome.citations == []
    assert "rather not guess" in outcome.answer


async def test_asking_for_a_person_skips_retrieval(demo_kb):
    outcome = await answer_question("can I talk to a human please", demo_kb, LADDER, threshold=0.5)
    assert outcome.reason == ASKED_FOR_HUMAN
    assert [s.stage for s in outcome.decision] == ["rules"]


async def test_an_empty_knowledge_base_escalates_with_no_knowledge(knowledge):
    outcome = await answer_question("how do I reset my password", knowledge, LADDER, threshold=0.5)
    assert outcome.reason == NO_KNOWLEDGE


async def test_empty_and_oversized_questions_are_refused_naming_the_limit(demo_kb):
    with pytest.raises(InvalidInput, match="empty"):
        await answer_question("   ", demo_kb, LADDER, threshold=0.5)
    with pytest.raises(InvalidInput, match="limit is 100 characters"):
        await answer_question("x" * 101, demo_kb, LADDER, threshold=0.5, max_chars=100)
