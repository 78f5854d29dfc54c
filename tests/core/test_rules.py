import pytest

from bot.core.rules import asks_for_human


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a real person please?",
        "speak with an agent",
        "I want a human",
        "connect me to someone from support",
        "human please",
        "AGENT",
        "is there a live agent available",
        "get me a customer service rep",
    ],
)
def test_requests_for_a_person_are_recognised(text: str):
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I add a person to my team workspace?",
        "what does the agent field in the audit log mean",
        "Is support for Linux planned?",
        "How do I talk to the API from Python?",
    ],
)
def test_ordinary_questions_do_not_trigger(text: str):
    assert not asks_for_human(text)
