import pytest

from bot.core.conversation import (
    Message,
    Role,
    State,
    TransitionError,
    check_transition,
    state_payload,
    utcnow,
)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (State.BOT, State.QUEUED),
        (State.QUEUED, State.AGENT),
        (State.AGENT, State.BOT),
        (State.AGENT, State.CLOSED),
        (State.QUEUED, State.CLOSED),
        (State.CLOSED, State.BOT),
    ],
)
def test_allowed_ownership_changes(current, new):
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [(State.CLOSED, State.AGENT), (State.CLOSED, State.QUEUED), (State.BOT, State.BOT)],
)
def test_forbidden_ownership_changes(current, new):
    with pytest.raises(TransitionError, match=f"from {current} to {new}"):
        check_transition(current, new)


def test_wire_shapes_follow_the_protocol():
    message = Message("m1", "c1", Role.BOT, "hi [1]", utcnow(), citations=[{"n": 1}], tier="mini")
    wire = message.to_wire()
    assert set(wire) == {"id", "role", "text", "citations", "attachments", "created_at", "tier"}
    assert wire["role"] == "bot"
    customer = Message("m2", "c1", Role.CUSTOMER, "hello", utcnow())
    assert "tier" not in customer.to_wire()
    assert state_payload(State.AGENT, agent="Ana") == {"state": "agent", "agent": {"name": "Ana"}}
