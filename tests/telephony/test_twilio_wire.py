"""Twilio Media Streams messages, as Twilio's documentation shows them."""

from __future__ import annotations

import base64
import json

import pytest

from bot.errors import InvalidInput
from bot.telephony import twilio_wire as wire


def test_the_messages_of_a_call_parse():
    assert wire.parse('{"event": "connected", "protocol": "Call", "version": "1.0.0"}') == (
        wire.Connected("Call")
    )
    start = wire.parse(
        json.dumps(
            {
                "event": "start",
                "sequenceNumber": "1",
                "start": {
                    "accountSid": "AC1",
                    "streamSid": "MZ1",
                    "callSid": "CA1",
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": {"conversation": "c-1", "token": "t"},
                },
                "streamSid": "MZ1",
            }
        )
    )
    assert start == wire.Start("MZ1", "CA1", {"conversation": "c-1", "token": "t"})
    audio = bytes(range(160))
    media = wire.parse(
        json.dumps(
            {
                "event": "media",
                "media": {
                    "track": "inbound",
                    "chunk": "2",
                    "timestamp": "40",
                    "payload": base64.b64encode(audio).decode(),
                },
                "streamSid": "MZ1",
            }
        )
    )
    assert media == wire.Media(audio, 40, "inbound")
    assert wire.parse('{"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": "1"}}') == (
        wire.Dtmf("1")
    )
    assert wire.parse('{"event": "mark", "mark": {"name": "answer-1:3"}}') == wire.Mark(
        "answer-1:3"
    )
    assert wire.parse('{"event": "stop", "stop": {"callSid": "CA1"}}') == wire.Stop("CA1")
    assert wire.parse('{"event": "something-new"}') is None  # newer events are skipped


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("not json", "JSON object"),
        ("[1, 2]", "JSON object"),
        ('{"event": "media", "media": {"payload": "%%%"}}', "base64"),
        ("x" * (70 * 1024), "64 KiB"),
    ],
)
def test_what_twilio_never_sends_is_refused(raw, words):
    with pytest.raises(InvalidInput, match=words):
        wire.parse(raw)


def test_outgoing_audio_is_cut_in_20_ms_frames_with_marks_and_clear():
    audio = bytes(400)
    frames = wire.media("MZ1", audio)
    assert [len(base64.b64decode(f["media"]["payload"])) for f in frames] == [160, 160, 80]
    assert {f["streamSid"] for f in frames} == {"MZ1"} and frames[0]["event"] == "media"
    assert wire.mark("MZ1", "a:1") == {"event": "mark", "streamSid": "MZ1", "mark": {"name": "a:1"}}
    assert wire.clear("MZ1") == {"event": "clear", "streamSid": "MZ1"}
