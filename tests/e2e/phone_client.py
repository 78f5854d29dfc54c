"""A fake Twilio: signs webhook requests, plays a caller into the media stream, and
plays the bot's audio back in real time, echoing marks as Twilio does.

The signature is computed here from Twilio's published algorithm (HMAC-SHA1, keyed
with the auth token, over the URL followed by each POST parameter's name and value
sorted by name, base64), not with the server's own validator, so a test shows the two
agree.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import websockets

from bot.telephony import mulaw

FRAME = 160  # 20 ms of μ-law at 8 kHz


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def line_noise(seconds: float, level: float = 0.002, seed: int = 0) -> bytes:
    """Quiet background hiss, as μ-law: a phone line is never digitally silent."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, level, int(8000 * seconds)).astype(np.float32)
    return mulaw.encode((noise * 32767).astype(np.int16))


def phone_speech(samples: np.ndarray, rate: int) -> bytes:
    """Speech samples as the caller's phone sends them."""
    return mulaw.model_to_phone(samples, rate)


@dataclass
class Played:
    """The bot's audio as the caller heard it."""

    audio: bytearray = field(default_factory=bytearray)
    first_audio_at: float | None = None  # monotonic time the first media frame arrived
    marks: list[str] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)


class FakeTwilio:
    def __init__(self, base_url: str, auth_token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_token = auth_token
        self.http = httpx.Client(timeout=30)

    def post(
        self,
        path_or_url: str,
        params: dict[str, str],
        *,
        signature: str | None = None,
        host: str | None = None,
    ) -> httpx.Response:
        """POST signed over the full URL; ``host`` sends another Host header (a proxy or
        an attacker can), keeping the URL the signature was computed over."""
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        headers = {"Host": host} if host else {}
        sig = twilio_signature(self.auth_token, url, params) if signature is None else signature
        if sig:
            headers["X-Twilio-Signature"] = sig
        return self.http.post(url, data=params, headers=headers)

    @staticmethod
    def voice_params(call_sid: str, caller: str = "+15550001111") -> dict[str, str]:
        """What Twilio posts to the Voice webhook when a call comes in."""
        return {
            "CallSid": call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": caller,
            "To": "+15550009999",
            "CallStatus": "ringing",
            "Direction": "inbound",
        }

    def incoming(self, call_sid: str, caller: str = "+15550001111") -> dict[str, Any]:
        """The Voice webhook for a new call; the TwiML's stream URL, token and action."""
        response = self.post("/telephony/twilio/voice", self.voice_params(call_sid, caller))
        assert response.status_code == 200, response.text
        root = ET.fromstring(response.text)
        connect = root.find("Connect")
        assert connect is not None, response.text
        stream = connect.find("Stream")
        assert stream is not None
        parameters = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
        return {
            "twiml": response.text,
            "say": root.findtext("Say"),
            "stream_url": stream.get("url"),
            "action": connect.get("action"),
            "parameters": parameters,
        }

    def after_stream(self, action: str, call_sid: str) -> ET.Element:
        response = self.post(action, {"CallSid": call_sid, "CallStatus": "in-progress"})
        assert response.status_code == 200, response.text
        return ET.fromstring(response.text)


class MediaStream:
    """One call's stream socket, as Twilio drives it."""

    def __init__(self, url: str, call_sid: str, parameters: dict[str, str]) -> None:
        self.url = url
        self.call_sid = call_sid
        self.parameters = parameters
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.ws: Any = None
        self.played = Played()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self._buffer = bytearray()  # received, not yet played
        self._marks: list[tuple[int, str]] = []  # (buffer position, name)
        self._tasks: list[asyncio.Task[None]] = []
        self._sent = 0  # our media messages (for their sequence numbers)

    async def __aenter__(self) -> MediaStream:
        self.ws = await websockets.connect(self.url)
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send(
            {
                "event": "start",
                "sequenceNumber": "1",
                "start": {
                    "streamSid": self.stream_sid,
                    "accountSid": "AC" + "0" * 32,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": self.parameters,
                    "mediaFormat": {
                        "encoding": "audio/x-mulaw",
                        "sampleRate": 8000,
                        "channels": 1,
                    },
                },
                "streamSid": self.stream_sid,
            }
        )
        self._tasks = [
            asyncio.create_task(self._listen()),
            asyncio.create_task(self._play()),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def _send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def say(self, audio: bytes) -> float:
        """Send μ-law audio in real time, 20 ms a frame; when the last frame went out."""
        start = time.monotonic()
        for i in range(0, len(audio), FRAME):
            # Paced against the start, so sending never drifts behind real time.
            delay = start + (i // FRAME) * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._sent += 1
            payload = base64.b64encode(audio[i : i + FRAME]).decode()
            await self._send(
                {
                    "event": "media",
                    "sequenceNumber": str(self._sent + 1),
                    "media": {
                        "track": "inbound",
                        "chunk": str(self._sent),
                        "timestamp": str((self._sent - 1) * 20),
                        "payload": payload,
                    },
                    "streamSid": self.stream_sid,
                }
            )
        return time.monotonic()

    async def stop(self) -> None:
        await self._send(
            {"event": "stop", "stop": {"callSid": self.call_sid}, "streamSid": self.stream_sid}
        )

    async def _listen(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                event = message.get("event")
                if event == "media":
                    if self.played.first_audio_at is None:
                        self.played.first_audio_at = time.monotonic()
                    self._buffer += base64.b64decode(message["media"]["payload"])
                elif event == "mark":
                    self._marks.append((len(self._buffer), message["mark"]["name"]))
                elif event == "clear":
                    self.played.clears.append(time.monotonic())
                    # Twilio drops what it has not played and sends the pending marks back.
                    self._buffer.clear()
                    pending, self._marks = self._marks, []
                    for _, name in pending:
                        await self._mark(name)
        except websockets.ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else None
        else:
            self.close_code = self.ws.close_code
        finally:
            self.closed.set()

    async def _mark(self, name: str) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._send(
                {"event": "mark", "mark": {"name": name}, "streamSid": self.stream_sid}
            )

    async def _play(self) -> None:
        """Play the bot's audio at the phone's pace; echo each mark once reached."""
        start = time.monotonic()
        tick = 0
        while True:
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * 0.02 - time.monotonic()))
            if self._buffer:
                chunk = bytes(self._buffer[:FRAME])
                del self._buffer[:FRAME]
                self.played.audio += chunk
                self._marks = [(max(0, pos - len(chunk)), name) for pos, name in self._marks]
            while self._marks and self._marks[0][0] == 0:
                _, name = self._marks.pop(0)
                self.played.marks.append(name)
                await self._mark(name)

    def heard(self) -> np.ndarray:
        """What the caller heard so far, at 16 kHz for Whisper."""
        return mulaw.phone_to_model(bytes(self.played.audio))

    async def wait_quiet(self, timeout: float = 60.0, quiet: float = 1.5) -> None:
        """Until the bot has said something and then nothing for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        last = -1
        still_since = time.monotonic()
        while time.monotonic() < deadline:
            size = len(self.played.audio) + len(self._buffer)
            if size != last:
                last, still_since = size, time.monotonic()
            elif size and not self._buffer and time.monotonic() - still_since > quiet:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot kept talking (or never spoke)")
