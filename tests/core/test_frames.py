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


@pytest.mark.parametrize("raw", ["[" * 20_000, "{" * 20_000, '{"a":' * 5_000, "[" * 33 + "]" * 33])
def test_frames_nested_too_deep_are_bad_json_without_a_recursion_error(raw):
    with pytest.raises(frames.FrameError) as caught:
        frames.parse(raw)
    assert caught.value.code == "bad_json" and f"{frames.MAX_DEPTH} levels" in caught.value.message


def test_brackets_inside_strings_do_not_count_as_nesting():
    deep_text = "[{" * 100 + '\\"' + "[" * 100
    hello = frames.parse(
        json.dumps({"type": "hello", "visitor": {"page": deep_text, "nested": [[[["ok"]]]]}})
    )
    assert isinstance(hello, frames.Hello) and hello.visitor["page"] == deep_text
    nested: object = "end"
    for _ in range(frames.MAX_DEPTH - 2):  # at the bound, inside hello.visitor
        nested = [nested]
    at_the_bound = frames.parse(json.dumps({"type": "hello", "visitor": {"n": nested}}))
    assert isinstance(at_the_bound, frames.Hello)


@pytest.mark.parametrize(
    ("raw", "where", "client_id"),
    [
        ('{"type": "message", "client_id": "s1", "text": "\\ud800 hi"}', "'text'", "s1"),
        ('{"type": "rating", "client_id": "r", "score": 2,"comment": "\\udfff"}', "'comment'", "r"),
        ('{"type": "hello", "visitor": {"tags": ["ok", "\\ud83d"]}}', "'visitor.tags[1]'", None),
        ('{"type": "hello", "visitor": {"\\udc00": 1}}', "A field name in 'visitor'", None),
        ('{"type": "message", "client_id": "\\ud800", "text": "hi"}', "'client_id'", None),
    ],
)
def test_text_that_cannot_be_stored_is_invalid_input_naming_the_field(raw, where, client_id):
    with pytest.raises(frames.FrameError) as caught:
        frames.parse(raw)
    error = caught.value.frame()
    assert error["code"] == "invalid_input" and f"({where} is not valid" in error["message"]
    assert error.get("client_id") == client_id
    json.dumps(error, ensure_ascii=False).encode()  # the error frame itself can be sent


def test_escaped_surrogate_pairs_are_ordinary_text():
    message = frames.parse('{"type": "message", "client_id": "e", "text": "\\ud83d\\ude00 ok"}')
    assert isinstance(message, frames.CustomerMessage) and message.text == "\U0001f600 ok"
