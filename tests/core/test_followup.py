from bot.core.followup import in_context, leans_on_context, merge, previous_question
from bot.core.types import Passage


def passage(key: str, score: float) -> Passage:
    return Passage("faq.md", key, key, f"text of {key}", score, key)


def test_messages_that_point_back_lean_on_the_conversation():
    for message in (
        "ok, how do I do that?",
        "and a whole folder with everything in it?",
        "is that included in the free plan?",
        "how do I get a sorted copy then?",
        "what about windows",
        "can I give them money, and is it tax deductible?",
    ):
        assert leans_on_context(message), message


def test_self_contained_questions_and_announced_new_topics_do_not():
    for message in (
        "why does 0.1 + 0.2 print 0.30000000000000004?",
        "how can my windows game loop check for a key press without blocking?",
        "ok thanks. another thing: my threads never print anything before the program exits",
    ):
        assert not leans_on_context(message), message


def test_the_context_is_the_customers_previous_message():
    history = [("customer", "how do I delete a file?"), ("bot", "Use os.remove(). [1]")]
    assert previous_question(history) == "how do I delete a file?"
    assert in_context("and a folder?", history) == "how do I delete a file?\nand a folder?"
    assert in_context("and a folder?", []) is None
    assert in_context("and a folder?", [("bot", "Hello! How can I help?")]) is None


def test_a_follow_up_takes_the_section_its_context_finds():
    alone = [passage("unrelated", 0.40), passage("other", 0.30)]
    context = [passage("delete-folders", 0.70), passage("unrelated", 0.35)]
    merged, from_context = merge(alone, context, "and the whole folder?", 3)
    assert from_context and merged[0].section_key == "delete-folders"
    # The threshold sees the in-context confidence less the (small) handicap.
    assert 0.6 < merged[0].score < 0.70 and merged[0].signals["context"] == 1.0
    assert [p.section_key for p in merged] == ["delete-folders", "unrelated", "other"]


def test_a_new_topic_keeps_its_own_answer_over_a_slightly_better_context_match():
    alone = [passage("floats", 0.62)]
    context = [passage("why-python", 0.70), passage("floats", 0.50)]
    merged, from_context = merge(alone, context, "why does 0.1 + 0.2 print 0.30000000000004?", 3)
    assert not from_context and merged[0].section_key == "floats"
    assert merged[0].score == 0.62
