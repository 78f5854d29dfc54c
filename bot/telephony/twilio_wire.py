"""Twilio Media Streams messages, parsed and built. No I/O, no framework.

Twilio → us (JSON text frames): ``connected``; ``start`` (``streamSid``, ``callSid``,
``customParameters``, ``mediaFormat``); ``media`` (base64 μ-law 8 kHz mono in
``media.payload``, with ``track``, ``chunk`` and ``timestamp`` in ms); ``dtmf``
(``dtmf.digit``); ``mark`` (``mark.name``: a mark we sent has been played); ``stop``.
Us → Twilio: ``media`` (our audio), ``mark`` (tell us when playback reaches here) and
``clear`` (drop what is buffered: the caller barged in). Every outgoing message names
the ``streamSid``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from bot.errors import InvalidInput

MAX_MESSAGE_BYTES = 64 * 1024
CHUNK_BYTES = 160  # 20 ms of 8 kHz μ-law: Twilio's own frame size


@dataclass(frozen=True)
class Connected:
    protocol: str


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str
    parameters: dict[str, str] = field(default_factory=dict)
    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000


@dataclass(frozen=True)
class Media:
    audio: bytes  # μ-law
    timestamp_ms: int
    track: str = "inbound"


@dataclass(frozen=True)
class Dtmf:
    digit: str


@dataclass(frozen=True)
class Mark:
    name: str


@dataclass(frozen=True)
class Stop:
    call_sid: str


Message = Connected | Start | Media | Dtmf | Mark | Stop


def parse(raw: str | bytes) -> Message | None:
    """One message from Twilio; None for an event this version does not use.

    Raises :class:`InvalidInput` for what no Twilio stream sends (not JSON, too large,
    a payload that is not base64), so a stranger's socket is refused plainly.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidInput(f"Stream messages are limited to {MAX_MESSAGE_BYTES // 1024} KiB.")
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidInput("A stream message is a JSON object.") from None
    if not isinstance(data, dict):
        raise InvalidInput("A stream message is a JSON object.")
    event = data.get("event")
    found = data.get(str(event))
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if event == "connected":
        return Connected(str(data.get("protocol", "")))
    if event == "start":
        fmt = body.get("mediaFormat") or {}
        params = body.get("customParameters") or {}
        return Start(
            stream_sid=str(body.get("streamSid") or data.get("streamSid") or ""),
            call_sid=str(body.get("callSid", "")),
            parameters={str(k): str(v) for k, v in params.items()}
            if isinstance(params, dict)
            else {},
            encoding=str(fmt.get("encoding", "audio/x-mulaw")),
            sample_rate=int(fmt.get("sampleRate", 8000)),
        )
    if event == "media":
        try:
            audio = base64.b64decode(str(body.get("payload", "")), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("A media payload is base64.") from None
        return Media(audio, int(body.get("timestamp") or 0), str(body.get("track", "inbound")))
    if event == "dtmf":
        return Dtmf(str(body.get("digit", ""))[:1])
    if event == "mark":
        return Mark(str(body.get("name", "")))
    if event == "stop":
        return Stop(str(body.get("callSid", "")))
    return None


def media(stream_sid: str, audio: bytes) -> list[dict[str, Any]]:
    """Our μ-law audio as ``media`` messages of 20 ms each."""
    return [
        {
            "event": "media",
            "streamSid": stream_sid,
            "media": {"payload": base64.b64encode(audio[i : i + CHUNK_BYTES]).decode()},
        }
        for i in range(0, len(audio), CHUNK_BYTES)
    ]


def mark(stream_sid: str, name: str) -> dict[str, Any]:
    return {"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}


def clear(stream_sid: str) -> dict[str, Any]:
    return {"event": "clear", "streamSid": stream_sid}
