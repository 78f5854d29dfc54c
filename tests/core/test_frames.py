import json

import pytest

from bot.core import frames


def test_each_client_frame_parses():
    hello = frames.parse('{"type": "hello", "conversation_id": "c", "token": "t", "last_seq": 4}')
    assert isinstance(hello, frames.Hello) and hello.last_seq == 4
    message = frames.parse('{"type": "message", "client_id": "u1", "text": "hi", "extra": 1}')
    assert isinstance(message, frames.CustomerMessage) and message.text == "hi"
    assert isinstance(frames.parse('{"type": "human", "client_id": "u2"}'), frames.Human)
    assert isinstance(frames.parse('{"type": "typing"}'), frames.Typing)
    fb = frames.parse('{"type": "feedback", "message_id": "m", "rating": "down"}')
    assert isinstance(fb, frames.Feedback) and fb.rating == "down"


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("{not json", "bad_json", "not valid JSON"),
        ("[1, 2]", "bad_frame", "JSON object"),
        ('{"type": "launch"}', "unknown_type", "Unknown frame type"),
        ('{"type": "message"}', "bad_frame", "client_id"),
        ('{"type": "feedback", "message_id": "m", "rating": "meh"}', "bad_frame", "rating"),
        ('{"type": "hello", "last_seq": -1}', "bad_frame", "last_seq"),
    ],
)
def test_bad_frames_get_a_code_and_a_message_that_says_what_is_wrong(raw, code, words):
    with pytest.raises(frames.FrameError) as caught:
        frames.parse(raw)
    assert caught.value.code == code and words in caught.value.message
    assert caught.value.frame()["type"] == "error"


def test_an_oversized_frame_names_the_limit():
    raw = json.dumps({"type": "message", "client_id": "u", "text": "x" * 70_000})
    with pytest.raises(frames.FrameError, match="limited to 64 KiB") as caught:
        frames.parse(raw)
    assert caught.value.code == "too_large"


def test_the_client_id_of_a_bad_message_comes_back_so_the_client_can_match_it():
    with pytest.raises(frames.FrameError) as caught:
        frames.parse('{"type": "message", "client_id": "u9", "attachments": "nope"}')
    assert caught.value.frame()["client_id"] == "u9"
