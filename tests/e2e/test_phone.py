"""Phone calls end to end: a fake Twilio signs webhooks, plays a caller (piper speech as
8 kHz μ-law in 20 ms frames, in real time) into the real server's media stream, and
plays the bot's audio back; Whisper listens to what the caller heard."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import websockets

from bot.core.text import content_terms
from bot.perception.whisper import WhisperTranscriber
from tests.e2e.client import AgentClient
from tests.e2e.conftest import TRANSFER_TO, TWILIO_TOKEN
from tests.e2e.phone_client import (
    FakeTwilio,
    MediaStream,
    line_noise,
    phone_speech,
    twilio_signature,
)
from tests.e2e.server import ROOT, ServerProcess
from tests.mediagen import speak
from tests.stubs.openai_stub import free_port

QUESTION = "How do I reset my password?"
TIGHT_TTL = 2  # seconds a stream token lives on the tight server
TIGHT_SOCKETS = 3  # sockets one address may hold there


@pytest.fixture(scope="module")
def whisper():
    return WhisperTranscriber()


@pytest.fixture
def twilio(phone_server):
    return FakeTwilio(phone_server.url, TWILIO_TOKEN)


def rows(server, query, *args):
    db = Path(server.env["SUPPORTBOT_DATA_DIR"]) / "supportbot.db"
    with sqlite3.connect(db) as conn:
        return conn.execute(query, args).fetchall()


def new_sid():
    return "CA" + uuid.uuid4().hex


def spoken(text):
    return phone_speech(*speak(text))


def transcript(whisper, stream):
    return whisper.transcribe(stream.heard()).text


def test_unsigned_wrongly_signed_and_tampered_requests_get_403_and_change_nothing(
    phone_server, twilio
):
    sid = new_sid()
    params = {"CallSid": sid, "From": "+15550001111", "To": "+15550009999"}
    assert twilio.post("/telephony/twilio/voice", params, signature="").status_code == 403
    wrong = FakeTwilio(phone_server.url, "not-the-token")
    assert wrong.post("/telephony/twilio/voice", params).status_code == 403
    # Signed for one caller, sent with another: the signature no longer matches.
    url = phone_server.url + "/telephony/twilio/voice"
    signature = twilio_signature(TWILIO_TOKEN, url, params)
    tampered = params | {"From": "+15559998888"}
    assert twilio.post("/telephony/twilio/voice", tampered, signature=signature).status_code == 403
    after = twilio.post("/telephony/twilio/after-stream", {"CallSid": sid}, signature="x")
    assert after.status_code == 403
    assert after.json()["code"] == "bad_signature"
    assert rows(phone_server, "select count(*) from calls where call_sid = ?", sid) == [(0,)]


def test_a_replayed_webhook_does_not_start_a_second_conversation(phone_server, twilio):
    sid = new_sid()
    first = twilio.incoming(sid)
    again = twilio.incoming(sid)
    assert first["say"] and first["action"].endswith("/telephony/twilio/after-stream")
    assert first["stream_url"].startswith("ws://") and first["stream_url"].endswith(
        "/telephony/twilio/stream"
    )
    assert first["parameters"]["token"] != again["parameters"]["token"]
    calls = rows(phone_server, "select conversation_id, caller from calls where call_sid = ?", sid)
    assert len(calls) == 1 and calls[0][1] == "+15550001111"
    channel = rows(phone_server, "select channel from conversations where id = ?", calls[0][0])
    assert channel == [("phone",)]


async def test_a_stream_without_the_calls_token_is_closed(phone_server, twilio):
    sid = new_sid()
    twilio.incoming(sid)
    url = f"ws://127.0.0.1:{phone_server.port}/telephony/twilio/stream"
    async with MediaStream(url, sid, {"token": "guessed"}) as stream:
        await asyncio.wait_for(stream.closed.wait(), 10)
    assert stream.close_code == 1008


async def test_the_caller_hears_a_grounded_answer(phone_server, twilio, whisper):
    sid = new_sid()
    call = twilio.incoming(sid)
    async with MediaStream(call["stream_url"], sid, call["parameters"]) as stream:
        await stream.say(line_noise(0.5) + spoken(QUESTION) + line_noise(1.5, seed=1))
        await stream.wait_quiet()
        heard = transcript(whisper, stream)
        await stream.stop()
    conversation = rows(phone_server, "select conversation_id from calls where call_sid = ?", sid)
    messages = rows(
        phone_server,
        "select role, text, tier from messages where conversation_id = ? order by created_at",
        conversation[0][0],
    )
    said = [text for role, text, _ in messages if role == "customer"]
    answers = [(text, tier) for role, text, tier in messages if role == "bot"]
    assert len(said) == 1 and {"reset", "password"} <= set(said[0].lower().replace("?", "").split())
    assert answers and answers[0][1] == "mini", messages  # the extractive answerer
    # What the caller heard is the stored answer: most of its words came through.
    expected = set(content_terms(answers[0][0]))
    got = set(content_terms(heard))
    assert expected and len(expected & got) / len(expected) >= 0.6, (heard, answers[0][0])
    assert "password" in heard.lower()
    assert "[1]" not in heard and "one" not in heard.lower().split()[-1:]


async def test_speaking_over_the_bot_clears_its_audio_within_300_ms(phone_server, twilio):
    sid = new_sid()
    call = twilio.incoming(sid)
    interruption = spoken("Sorry, actually I have a different question about invoices.")
    lead_in = _leading_quiet(interruption)
    async with MediaStream(call["stream_url"], sid, call["parameters"]) as stream:
        await stream.say(line_noise(0.5) + spoken(QUESTION) + line_noise(0.8, seed=2))
        deadline = time.monotonic() + 60
        while stream.played.first_audio_at is None and time.monotonic() < deadline:
            await stream.say(line_noise(0.1, seed=3))  # the line stays open meanwhile
        assert stream.played.first_audio_at is not None, "the bot never answered"
        await stream.say(line_noise(0.6, seed=4))  # let the caller hear a little
        started = time.monotonic()
        await stream.say(interruption + line_noise(1.0, seed=5))
        onset = started + lead_in
        assert stream.played.clears, "no clear was sent"
        reaction = stream.played.clears[0] - onset
        print(f"barge-in: clear {reaction * 1000:.0f} ms after onset")
        assert reaction < 0.3, f"clear came {reaction * 1000:.0f} ms after speech onset"
        await stream.stop()
    conversation = rows(phone_server, "select conversation_id from calls where call_sid = ?", sid)
    notes = rows(
        phone_server,
        "select text from messages where conversation_id = ? and role = 'system'",
        conversation[0][0],
    )
    assert any("spoke over the answer" in text for (text,) in notes), notes


async def ask_to_be_handed_over(twilio, caller, words):
    """A call that asks for a person; returns once the server closed the stream."""
    sid = new_sid()
    call = twilio.incoming(sid, caller=caller)
    async with MediaStream(call["stream_url"], sid, call["parameters"]) as stream:
        await stream.say(line_noise(0.4) + spoken(words) + line_noise(1.2))
        await asyncio.wait_for(stream.closed.wait(), 60)
        await asyncio.sleep(0.1)  # the last frames the fake was playing
    return sid, call, stream


async def test_asking_for_a_person_transfers_the_call_when_an_agent_is_online(phone_server, twilio):
    name = f"pat-{uuid.uuid4().hex[:6]}"
    phone_server.add_agent(name, "correct horse battery")
    agent = AgentClient(phone_server.url)
    await agent.login(name, "correct horse battery")
    try:
        sid, call, stream = await ask_to_be_handed_over(
            twilio, "+15550002222", "I want to talk to a person please."
        )
        assert stream.played.audio, "the caller was not told what happens"
        twiml = twilio.after_stream(call["action"], sid)
        assert twiml.find("Dial/Number").text == TRANSFER_TO
        queue = (
            await agent.until(
                lambda f: (
                    f["type"] == "queue"
                    and any(q.get("phone") == "+15550002222" for q in f["conversations"])
                )
            )
        )[-1]["conversations"]
        entry = next(q for q in queue if q.get("phone") == "+15550002222")
        assert entry["channel"] == "phone" and entry["reason"] == "asked_for_human"
        assert entry["callback"] is False
    finally:
        await agent.close()


async def test_with_nobody_online_the_caller_is_offered_a_call_back(phone_server, twilio, whisper):
    sid, call, stream = await ask_to_be_handed_over(
        twilio, "+15550003333", "Can I speak to a human agent?"
    )
    heard = transcript(whisper, stream).lower()
    assert "call you back" in heard, heard
    twiml = twilio.after_stream(call["action"], sid)
    assert twiml.find("Hangup") is not None and twiml.find("Dial") is None
    conversation = rows(phone_server, "select conversation_id from calls where call_sid = ?", sid)
    notes = rows(
        phone_server,
        "select text from messages where conversation_id = ? and role = 'system'",
        conversation[0][0],
    )
    assert ("The caller asked to be called back at +15550003333.",) in notes


def _leading_quiet(audio: bytes) -> float:
    """Seconds before speech starts in μ-law ``audio`` (piper starts with a breath)."""
    from bot.telephony import mulaw

    pcm = mulaw.decode(audio).astype(np.float32) / 32768
    frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 0.01)
    return float(loud[0]) * 0.02 if loud.size else 0.0


async def _still_open(stream: MediaStream, seconds: float = 1.5) -> bool:
    """Whether the server kept the stream open (it says nothing until it speaks)."""
    try:
        await asyncio.wait_for(stream.closed.wait(), seconds)
    except TimeoutError:
        return True
    return False


async def test_a_replayed_voice_webhook_opens_no_second_stream(phone_server, twilio):
    sid = new_sid()
    call = twilio.incoming(sid)
    params = twilio.voice_params(sid)
    async with MediaStream(call["stream_url"], sid, call["parameters"]) as live:
        assert await _still_open(live)
        # The captured, correctly signed webhook sent again while the call streams.
        replay = twilio.post("/telephony/twilio/voice", params)
        assert replay.status_code == 409, replay.text
        assert replay.json()["code"] == "call_already_streamed"
        assert "<Stream" not in replay.text and "token" not in replay.text
        # The live call's own token, presented by a second socket: spent.
        async with MediaStream(call["stream_url"], sid, call["parameters"]) as second:
            await asyncio.wait_for(second.closed.wait(), 10)
        assert second.close_code == 1008
        assert await _still_open(live, 0.2)
        await live.stop()
    # Nor once the call's stream has ended.
    after = twilio.post("/telephony/twilio/voice", params)
    assert after.status_code == 409 and "<Stream" not in after.text


async def test_a_used_token_cannot_reopen_the_stream_after_it_closed(phone_server, twilio):
    sid = new_sid()
    call = twilio.incoming(sid)
    async with MediaStream(call["stream_url"], sid, call["parameters"]) as first:
        assert await _still_open(first)
    async with MediaStream(call["stream_url"], sid, call["parameters"]) as again:
        await asyncio.wait_for(again.closed.wait(), 10)
    assert again.close_code == 1008


def test_a_forged_host_header_is_not_trusted_nor_written_into_the_twiml(phone_server, twilio):
    sid = new_sid()
    params = twilio.voice_params(sid)
    public = phone_server.url  # SUPPORTBOT_PUBLIC_URL of this server
    # Signed over the public URL, sent with another Host: valid, and the TwiML names
    # the public host only.
    answer = twilio.post("/telephony/twilio/voice", params, host="evil.example")
    assert answer.status_code == 200, answer.text
    assert "evil.example" not in answer.text
    root = ET.fromstring(answer.text)
    stream = root.find("Connect/Stream")
    assert stream is not None
    assert stream.get("url") == public.replace("http://", "ws://") + "/telephony/twilio/stream"
    assert root.find("Connect").get("action") == public + "/telephony/twilio/after-stream"
    # Signed over the forged host's URL: refused, nothing recorded.
    other = new_sid()
    forged = "http://evil.example/telephony/twilio/voice"
    signature = twilio_signature(TWILIO_TOKEN, forged, twilio.voice_params(other))
    refused = twilio.post(
        "/telephony/twilio/voice",
        twilio.voice_params(other),
        signature=signature,
        host="evil.example",
    )
    assert refused.status_code == 403 and refused.json()["code"] == "bad_signature"
    assert rows(phone_server, "select count(*) from calls where call_sid = ?", other) == [(0,)]


def test_telephony_without_a_public_url_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SUPPORTBOT_PUBLIC_URL"}
    env |= {"SUPPORTBOT_DATA_DIR": str(tmp_path), "SUPPORTBOT_TWILIO_AUTH_TOKEN": TWILIO_TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the server started taking calls without SUPPORTBOT_PUBLIC_URL")
    assert process.returncode == 2
    assert "SUPPORTBOT_PUBLIC_URL" in err, err


@pytest.fixture(scope="module")
def tight_phone(tmp_path_factory):
    """A server whose stream tokens live 2 s and that lets one address hold 3 sockets."""
    server = ServerProcess(
        tmp_path_factory.mktemp("tight-phone"),
        {
            "SUPPORTBOT_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "SUPPORTBOT_PHONE_STREAM_TOKEN_TTL": str(TIGHT_TTL),
            "SUPPORTBOT_SOCKETS_PER_IP": str(TIGHT_SOCKETS),
        },
        command="serve",
    )
    server.env["SUPPORTBOT_PUBLIC_URL"] = server.url
    with server:
        yield server


async def test_an_expired_stream_token_is_refused(tight_phone):
    twilio = FakeTwilio(tight_phone.url, TWILIO_TOKEN)
    fresh_sid, stale_sid = new_sid(), new_sid()
    stale = twilio.incoming(stale_sid)
    fresh = twilio.incoming(fresh_sid)
    async with MediaStream(fresh["stream_url"], fresh_sid, fresh["parameters"]) as stream:
        assert await _still_open(stream, 0.5)  # within its lifetime the token works
    await asyncio.sleep(TIGHT_TTL + 1)
    async with MediaStream(stale["stream_url"], stale_sid, stale["parameters"]) as stream:
        await asyncio.wait_for(stream.closed.wait(), 10)
    assert stream.close_code == 1008


async def test_one_address_holds_only_so_many_stream_sockets(tight_phone):
    url = f"ws://127.0.0.1:{tight_phone.port}/telephony/twilio/stream"
    held = [await websockets.connect(url) for _ in range(TIGHT_SOCKETS)]
    try:
        extra = await websockets.connect(url)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(extra.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        await held.pop().close()
        await asyncio.sleep(0.3)  # the server notices the close
        again = await websockets.connect(url)  # a freed place is usable again
        held.append(again)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(again.recv(), 1)
    finally:
        for ws in held:
            await ws.close()


def test_a_stranger_cannot_open_the_stream_without_a_start(phone_server):
    async def probe():
        url = f"ws://127.0.0.1:{phone_server.port}/telephony/twilio/stream"
        async with websockets.connect(url) as ws:
            await ws.send("not json")
            await asyncio.wait_for(ws.wait_closed(), 15)
            return ws.close_code

    assert asyncio.run(probe()) == 1008


def test_without_an_auth_token_the_phone_routes_are_off(server):
    """The chat server of the other tests has no Twilio token: 503 and a refused socket."""
    import httpx

    answer = httpx.post(f"{server.url}/telephony/twilio/voice", data={"CallSid": "CA1"})
    assert answer.status_code == 503
    assert "SUPPORTBOT_TWILIO_AUTH_TOKEN" in answer.json()["message"]

    async def probe():
        url = f"ws://127.0.0.1:{server.port}/telephony/twilio/stream"
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url)
        return refused.value.response.status_code

    assert asyncio.run(probe()) == 403
