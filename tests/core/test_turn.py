import pytest

from bot.core.turn import (
    ASKED_FOR_HUMAN,
    LOW_CONFIDENCE,
    NEGATIVE_SENTIMENT,
    NO_KNOWLEDGE,
    UNGROUNDED,
    Delta,
    Retract,
    Sentence,
    answer_question,
)
from bot.errors import InvalidInput, ModelError
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.models.extractive import ExtractiveModel
from bot.models.fake import FakeModel

LADDER = [("mini", ExtractiveModel())]


async def test_an_answerable_question_gets_a_cited_extract(demo_kb: HybridKnowledgeBase):
    outcome = await answer_question(
        "how long do I have to ask for a refund on a yearly plan?", demo_kb, LADDER, threshold=0.5
    )
    assert not outcome.escalated and outcome.tier == "mini"
    assert outcome.answer.endswith("[1]")
    # Both the refunds article and the FAQ row answer this; either is right.
    assert outcome.citations[0].source in ("billing/refunds.md", "frequently-asked-questions.csv")
    assert "within 30 days" in outcome.citations[0].text
    # Extractive: every sentence of the answer is text of the cited passage.
    body = outcome.answer.removesuffix("[1]").strip()
    assert body and body.split(". ")[0] in outcome.citations[0].text
    stages = [step.stage for step in outcome.decision]
    assert stages == ["rules", "retrieve", "answer:mini"]
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


# -- the ladder: streaming, gate, fall-through ---------------------------------------------

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"


def fake_ladder(*replies_per_tier):
    ladder = []
    for i, replies in enumerate(replies_per_tier):
        model = FakeModel(f"fake-{i}")
        model.enqueue(replies)
        ladder.append((["mini", "large"][i], model))
    return ladder


async def run(demo_kb, ladder, style="chat"):
    events = []

    async def listener(event):
        events.append(event)

    outcome = await answer_question(
        REFUND_Q, demo_kb, ladder, threshold=0.5, listener=listener, style=style
    )
    return outcome, events


async def test_a_grounded_generative_answer_streams_and_stands(demo_kb):
    ladder = fake_ladder(["Yearly plans can be refunded within 30 days of purchase. [1]"])
    outcome, events = await run(demo_kb, ladder)
    assert not outcome.escalated and outcome.tier == "mini" and outcome.attempt == 0
    assert len(events) > 3 and all(isinstance(e, Delta) for e in events)
    assert "".join(e.text for e in events) == outcome.answer
    assert outcome.usage.tokens_out == len(outcome.answer.split())
    answer_step = outcome.decision[-1]
    assert answer_step.stage == "answer:mini" and answer_step.detail["gate"] == "pass"


async def test_an_invented_answer_is_retracted_and_the_next_tier_answers(demo_kb):
    invented = "You can get a refund any time within 90 days by phoning our hotline. [1]"
    ladder = fake_ladder(
        [invented], ["Yearly plans can be refunded within 30 days of purchase. [1]"]
    )
    outcome, events = await run(demo_kb, ladder)
    assert outcome.tier == "large" and outcome.attempt == 1
    retracts = [e for e in events if isinstance(e, Retract)]
    assert len(retracts) == 1 and retracts[0].attempt == 0
    assert retracts[0].reason == "unsupported_sentence"
    assert [s.detail["gate"] for s in outcome.decision if s.stage.startswith("answer:")] == [
        "unsupported_sentence",
        "pass",
    ]
    # Tokens of both attempts are counted.
    assert outcome.usage.tokens_out == len(invented.split()) + len(outcome.answer.split())


async def test_when_every_tier_fails_a_person_takes_over(demo_kb):
    ladder = fake_ladder(["Refunds are handled by our CEO personally. [1]"], ["No citation here."])
    outcome, events = await run(demo_kb, ladder)
    assert outcome.escalated and outcome.reason == UNGROUNDED and outcome.tier == "human"
    assert sum(isinstance(e, Retract) for e in events) == 2


async def test_a_model_that_declines_streams_nothing(demo_kb):
    ladder = fake_ladder(["NO_ANSWER"], ["Yearly plans can be refunded within 30 days. [1]"])
    outcome, events = await run(demo_kb, ladder)
    assert outcome.tier == "large"
    assert not any(isinstance(e, Delta) and e.attempt == 0 for e in events)
    assert outcome.decision[-2].detail["gate"] == "model_declined"


async def test_a_failing_model_hands_over_to_the_next_tier(demo_kb):
    ladder = fake_ladder(
        [ModelError("HTTP 500")], ["Yearly plans can be refunded within 30 days. [1]"]
    )
    outcome, events = await run(demo_kb, ladder)
    assert outcome.tier == "large"
    assert outcome.decision[-2].detail["gate"] == "model_error"
    assert isinstance(events[0], Retract) and events[0].reason == "model_error"


async def test_the_model_sees_the_passages_and_the_history(demo_kb):
    ladder = fake_ladder(["Yearly plans can be refunded within 30 days. [1]"])
    await answer_question(
        REFUND_Q, demo_kb, ladder, threshold=0.5, history=[("customer", "hi"), ("bot", "hello")]
    )
    request = ladder[0][1].history[0]
    assert request.question == REFUND_Q and len(request.passages) == 3
    assert request.history == [("customer", "hi"), ("bot", "hello")]


async def test_strong_anger_goes_to_a_person_before_retrieval(demo_kb):
    outcome = await answer_question(
        "this is the WORST app ever, absolutely useless!!!", demo_kb, LADDER, threshold=0.5
    )
    assert outcome.reason == NEGATIVE_SENTIMENT and [s.stage for s in outcome.decision] == ["rules"]


# -- the phone: sentences released one by one, each once the gate accepts it --------------

GROUNDED_1 = "Yearly plans can be refunded within 30 days of purchase. [1]"


async def test_on_the_phone_each_grounded_sentence_is_released_before_the_answer_ends(demo_kb):
    ladder = fake_ladder([f"{GROUNDED_1} {GROUNDED_1.replace('Yearly', 'Annual')}"])
    outcome, events = await run(demo_kb, ladder, style="phone")
    sentences = [e for e in events if isinstance(e, Sentence)]
    assert [s.text for s in sentences] == [GROUNDED_1, GROUNDED_1.replace("Yearly", "Annual")]
    # The first sentence went out while the second was still being written.
    first = events.index(sentences[0])
    assert any(isinstance(e, Delta) for e in events[first + 1 :])
    assert not outcome.escalated


async def test_on_the_phone_nothing_after_an_unsupported_sentence_is_released(demo_kb):
    invented = "You can also phone our hotline for a refund after 90 days. [1]"
    ladder = fake_ladder(
        [f"{GROUNDED_1} {invented} {GROUNDED_1}"],
        ["Yearly plans can be refunded within 30 days. [1]"],
    )
    outcome, events = await run(demo_kb, ladder, style="phone")
    first_attempt = [e.text for e in events if isinstance(e, Sentence) and e.attempt == 0]
    assert first_attempt == [GROUNDED_1]  # the invented sentence and what followed: never
    assert outcome.tier == "large"
    assert any(isinstance(e, Retract) and e.attempt == 0 for e in events)


async def test_in_a_chat_no_sentences_are_released(demo_kb):
    _, events = await run(demo_kb, fake_ladder([GROUNDED_1]))
    assert not any(isinstance(e, Sentence) for e in events)


async def test_a_tier_that_trickles_past_its_deadline_gives_way_to_the_next(demo_kb):
    from bot.core.turn import Retract as R

    slow = FakeModel("slow", delay=0.3)  # a word every 0.3 s: no read ever times out
    slow.enqueue(["Yearly plans can be refunded within 30 days of purchase, " * 3 + "[1]"])
    events = []

    async def listen(event):
        events.append(event)

    outcome = await answer_question(
        "how long do I have to ask for a refund on a yearly plan?",
        demo_kb,
        [("mini", slow), ("large", ExtractiveModel())],
        threshold=0.45,
        listener=listen,
        attempt_timeout=0.8,
    )
    assert not outcome.escalated and outcome.tier == "large"
    mini = next(s for s in outcome.decision if s.stage == "answer:mini")
    assert mini.detail["gate"] == "model_error" and "within 0.8 s" in mini.detail["error"]
    assert any(isinstance(e, R) and e.tier == "mini" for e in events)


async def test_when_no_tier_can_answer_at_all_the_customer_is_told_so(demo_kb):
    from bot.core.turn import MESSAGES, MODEL_UNAVAILABLE

    down, also_down = FakeModel("mini"), FakeModel("large")
    down.enqueue([ModelError("mini: HTTP 500 from the model server")])
    also_down.enqueue([ModelError("large: the model server timed out")])
    outcome = await answer_question(
        "how long do I have to ask for a refund on a yearly plan?",
        demo_kb,
        [("mini", down), ("large", also_down)],
        threshold=0.45,
    )
    assert outcome.escalated and outcome.reason == MODEL_UNAVAILABLE
    assert outcome.answer == MESSAGES[MODEL_UNAVAILABLE] and "can't reach" in outcome.answer


async def test_a_tier_that_fails_the_gate_is_not_an_outage(demo_kb):
    inventor, down = FakeModel("mini"), FakeModel("large")
    inventor.enqueue(["Refunds take 90 days and need a notarised letter. [1]"])
    down.enqueue([ModelError("large: HTTP 500 from the model server")])
    outcome = await answer_question(
        "how long do I have to ask for a refund on a yearly plan?",
        demo_kb,
        [("mini", inventor), ("large", down)],
        threshold=0.45,
    )
    assert outcome.escalated and outcome.reason == UNGROUNDED


async def test_a_follow_up_is_answered_from_the_section_its_conversation_is_about(demo_kb):
    first = "can I still get a refund on the yearly plan I bought last week?"
    alone = await answer_question("ok, how do I do that?", demo_kb, LADDER, threshold=0.45)
    outcome = await answer_question(
        "ok, how do I do that?",
        demo_kb,
        LADDER,
        threshold=0.45,
        history=[("customer", first), ("bot", "You can get a full refund within 30 days. [1]")],
    )
    assert alone.escalated  # on its own the message means nothing
    assert not outcome.escalated and "refund" in outcome.citations[0].text.lower()
    retrieve = next(s for s in outcome.decision if s.stage == "retrieve")
    assert retrieve.detail["in_context"].startswith(first)


async def test_a_new_topic_is_not_dragged_back_to_the_previous_one(demo_kb):
    outcome = await answer_question(
        "also, my sync icon is red and says E-2041",
        demo_kb,
        LADDER,
        threshold=0.45,
        history=[("customer", "how do I get a refund on the yearly plan?"), ("bot", "… [1]")],
    )
    assert not outcome.escalated and outcome.citations[0].anchor == "e-2041-sync-conflict"
