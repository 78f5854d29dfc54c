"""A phone turn: end of the caller's speech → first bot audio frame out, against the sum of
the bare stages measured in the same run.

Ours: a real server (stub ``mini`` tier with time to first token D = 200 ms), a fake
Twilio playing piper speech in real time as 20 ms μ-law frames; the clock runs on the
caller's side, from the moment the last voiced frame of the question was sent to the
moment the first ``media`` message of the answer arrived.

Bare stages, each on the same material: the end-of-turn wait (the configured silence,
as the turn detector applies it to this audio), faster-whisper on the utterance with the
server's model, threads and options, the stub's time to first token over HTTP, and
piper on the first sentence of the answer the caller got. Retrieval, the gate, the
store and the bus are ours alone: they are the overhead the ratio shows.

Rounds alternate a call and the bare stages; medians are compared.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from bot.core.text import split_sentences
from bot.perception.whisper import default_model_path
from bot.settings import Settings
from bot.telephony import mulaw
from bot.telephony.speech import PiperSynthesizer, speakable
from bot.telephony.turns import TurnDetector, TurnEnded
from tests.benchmarks.conftest import report
from tests.e2e.phone_client import FakeTwilio, MediaStream, line_noise, phone_speech
from tests.e2e.server import ServerProcess
from tests.mediagen import speak
from tests.stubs.openai_stub import StubServer

pytestmark = pytest.mark.bench

D = 0.2
TOKEN = "bench-token"
END_OF_TURN_MS = Settings().phone_end_of_turn_ms
LEAD = 0.5  # seconds of line noise before the question
QUESTIONS = [
    "How do I reset my password?",
    "How long do I have to ask for a refund on a yearly plan?",
    "How do I cancel my subscription?",
    "How do I export my notes?",
    "How do I invite someone to my team?",
]


def speech_end(audio: bytes) -> float:
    """Seconds from the start of ``audio`` to the end of its last voiced frame."""
    pcm = mulaw.decode(audio).astype(np.float32) / 32768
    frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 0.01)
    return float(loud[-1] + 1) * 0.02


def utterance_of(audio: bytes) -> TurnEnded:
    events = TurnDetector(end_silence_ms=END_OF_TURN_MS).feed(mulaw.decode(audio))
    return next(e for e in events if isinstance(e, TurnEnded))


async def call_once(twilio: FakeTwilio, audio: bytes) -> tuple[float, str]:
    sid = "CA" + uuid.uuid4().hex
    call = twilio.incoming(sid)
    async with MediaStream(call["stream_url"], sid, call["parameters"]) as stream:
        await stream.say(line_noise(0.3))
        sent = time.monotonic()
        await stream.say(audio)
        deadline = time.monotonic() + 30
        while stream.played.first_audio_at is None and time.monotonic() < deadline:
            await stream.say(line_noise(0.1, seed=7))
        assert stream.played.first_audio_at is not None, "no answer"
        await stream.stop()
    latency = stream.played.first_audio_at - (sent + LEAD + speech_end(audio[int(LEAD * 8000) :]))
    return latency, sid


def first_sentence(server: ServerProcess, sid: str) -> str:
    db = Path(server.env["SUPPORTBOT_DATA_DIR"]) / "supportbot.db"
    with sqlite3.connect(db) as conn:
        (text,) = conn.execute(
            "select m.text from messages m join calls c on c.conversation_id = m.conversation_id"
            " where c.call_sid = ? and m.role = 'bot' order by m.created_at limit 1",
            (sid,),
        ).fetchone()
    return split_sentences(speakable(text))[0]


def bare_whisper(whisper: Any, utterance: TurnEnded) -> float:
    """faster-whisper on the utterance, with the options the server's Transcriber uses."""
    samples = mulaw.upsample(utterance.audio)
    started = time.perf_counter()
    segments, _ = whisper.transcribe(
        samples, language="en", vad_filter=True, beam_size=5, condition_on_previous_text=False
    )
    list(segments)
    return time.perf_counter() - started


def stub_ttft(stub: StubServer) -> float:
    body = {
        "model": "stub-mini",
        "stream": True,
        "messages": [{"role": "user", "content": '<passage n="1">\nA passage.\n</passage>'}],
    }
    started = time.perf_counter()
    with (
        httpx.Client(timeout=10) as http,
        http.stream("POST", f"{stub.base_url}/chat/completions", json=body) as answer,
    ):
        for line in answer.iter_lines():
            if '"content": "' in line and '"content": ""' not in line:
                return time.perf_counter() - started
    raise AssertionError("the stub sent no text")


def test_end_of_speech_to_first_bot_audio_against_the_bare_stages(tmp_path):
    from faster_whisper import WhisperModel

    settings = Settings()
    whisper = WhisperModel(
        str(default_model_path()), device="cpu", compute_type="int8", cpu_threads=settings.threads
    )
    piper = PiperSynthesizer()
    audios = [line_noise(LEAD) + phone_speech(*speak(q)) + line_noise(1.5) for q in QUESTIONS]
    with StubServer() as stub:
        stub.script(ttft=D)
        env = {
            "SUPPORTBOT_TWILIO_AUTH_TOKEN": TOKEN,
            "SUPPORTBOT_MINI": "openai:stub-mini",
            "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
            "SUPPORTBOT_LARGE": "none",
        }
        server = ServerProcess(tmp_path / "server", env)
        server.env["SUPPORTBOT_PUBLIC_URL"] = server.url  # telephony on needs it
        with server:
            twilio = FakeTwilio(server.url, TOKEN)
            asyncio.run(call_once(twilio, audios[0]))  # warm: first call, first synthesis
            bare_whisper(whisper, utterance_of(audios[0]))  # and the bare models, once each
            piper.synthesize("Warm up.")
            ours, bares, parts = [], [], {"vad": [], "whisper": [], "llm": [], "piper": []}
            for audio in audios:
                latency, sid = asyncio.run(call_once(twilio, audio))
                ours.append(latency)
                time.sleep(0.5)  # the server finishes the call's last writes
                utterance = utterance_of(audio)
                vad = (utterance.ended_ms - utterance.speech_end_ms) / 1000
                heard = bare_whisper(whisper, utterance)
                llm = stub_ttft(stub)
                started = time.perf_counter()
                piper.synthesize(first_sentence(server, sid))
                spoken = time.perf_counter() - started
                for key, value in zip(parts, (vad, heard, llm, spoken), strict=True):
                    parts[key].append(value)
                bares.append(vad + heard + llm + spoken)
    print("\nper call (ours, bare sum, bare stages) ms:")
    for i, latency in enumerate(ours):
        stages = [round(v[i] * 1000) for v in parts.values()]
        print(f"   {latency * 1000:.0f}  {bares[i] * 1000:.0f}  {stages}")
    ratio = statistics.median(ours) / statistics.median(bares)
    report(
        "phone",
        {
            "calls": len(ours),
            "stub_ttft_D_ms": D * 1000,
            "end_of_turn_ms": END_OF_TURN_MS,
            "ours_first_audio_p50_ms": round(statistics.median(ours) * 1000, 1),
            "ours_first_audio_max_ms": round(max(ours) * 1000, 1),
            "bare_sum_p50_ms": round(statistics.median(bares) * 1000, 1),
            **{f"bare_{k}_p50_ms": round(statistics.median(v) * 1000, 1) for k, v in parts.items()},
            "ratio_p50": round(ratio, 3),
            "ratio_per_call_median": round(
                statistics.median(o / b for o, b in zip(ours, bares, strict=True)), 3
            ),
            "target_ratio": 1.15,
        },
    )
    assert all(latency > 0 for latency in ours)
