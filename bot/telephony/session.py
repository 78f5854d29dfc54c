"""One phone call's media stream: the caller's voice in, the bot's voice out.

The transport is a :class:`Line` (receive a text message, send a JSON message,
close); the server's WebSocket route wraps Starlette's socket in one. Around the
pure parts (``twilio_wire``, ``mulaw``, ``turns``) this runs four loops:

- **receive**: Twilio's messages; the caller's audio goes through the turn detector.
  Speech over the bot (or over an answer still being written) is a barge-in: ``clear``
  goes out at once, the answer is stopped, and the transcript notes what was heard.
- **hear**: each finished utterance is transcribed (Whisper, in a thread) and becomes
  the conversation's next customer message; the conversation core does the rest.
- **follow**: the conversation's events from the bus. Sentences the gate already
  accepted (``sentence`` frames, phone style) are spoken while the rest is written;
  a hand-over (``queued``) is announced, then the stream is closed so that Twilio asks
  ``after-stream`` where the call goes.
- **speak**: text → piper (in a thread) → μ-law 8 kHz → 20 ms ``media`` messages, each
  sentence followed by a ``mark``; Twilio echoes a mark once it has played the audio
  before it, which is how we know what the caller heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bot.chat.service import AuthError, ChatService
from bot.core.protocols import Bus, conversation_topic
from bot.core.text import split_sentences
from bot.core.turn import HUMAN_TIER
from bot.errors import InvalidInput
from bot.perception.base import Transcriber, Transcript
from bot.store.call_rows import Call
from bot.telephony import mulaw, twilio_wire
from bot.telephony.calls import CallService
from bot.telephony.speech import Speech, SpeechSynthesizer, speakable
from bot.telephony.turns import SpeechStarted, TurnDetector, TurnEnded

log = logging.getLogger(__name__)
START_TIMEOUT = 10.0  # seconds from the socket opening to Twilio's ``start``
HANDOVER = "handover"  # the message id of what is said before the call is handed over
MAX_BAD_MESSAGES = 20  # then the socket is not Twilio's: close it


class Line(Protocol):
    async def receive(self) -> str | None:
        """The next text message; None once the peer closed."""
        ...

    async def send(self, message: dict[str, Any]) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


@dataclass
class Voice:
    """The models a call uses, built on first use (they load once per process)."""

    transcriber: Callable[[], Transcriber]
    synthesizer: Callable[[], SpeechSynthesizer]
    end_of_turn_ms: int = 700

    def transcribe(self, samples: NDArray[np.float32]) -> Transcript:
        return self.transcriber().transcribe(samples)

    def synthesize(self, text: str) -> Speech:
        return self.synthesizer().synthesize(text)


@dataclass
class _Said:
    """One sentence handed to the speaker."""

    message_id: str
    text: str


@dataclass
class _Answer:
    """What was sent and heard of one message's audio."""

    spoken: set[str] = field(default_factory=set)  # normalised sentences already queued
    heard: list[str] = field(default_factory=list)  # sentences whose mark came back


def _key(sentence: str) -> str:
    return " ".join(speakable(sentence).lower().split())


class CallSession:
    def __init__(
        self, line: Line, *, calls: CallService, chat: ChatService, bus: Bus, voice: Voice
    ) -> None:
        self.line = line
        self.calls = calls
        self.chat = chat
        self.bus = bus
        self.voice = voice
        self.detector = TurnDetector(end_silence_ms=voice.end_of_turn_ms)
        self.call: Call | None = None
        self.stream_sid = ""
        self._utterances: asyncio.Queue[TurnEnded] = asyncio.Queue()
        self._to_say: asyncio.Queue[_Said] = asyncio.Queue()
        self._answers: dict[str, _Answer] = {}
        self._silenced: set[str] = set()  # message ids the caller spoke over
        self._marks: dict[str, _Said] = {}  # sent, not yet played
        self._synthesizing = False
        self._waiting = False  # a message went to the core; its answer has not come
        self._turns = 0
        self._closing = False
        self._handed_over = asyncio.Event()

    @property
    def conversation_id(self) -> str:
        assert self.call is not None and self.call.conversation_id is not None
        return self.call.conversation_id

    @property
    def speaking(self) -> bool:
        return bool(self._marks) or self._synthesizing or not self._to_say.empty()

    # -- the loops ------------------------------------------------------------------------

    async def run(self) -> None:
        if not await self._start():
            return
        subscription = await self.bus.subscribe(conversation_topic(self.conversation_id))
        loops = [
            asyncio.create_task(self._follow(subscription)),
            asyncio.create_task(self._hear()),
            asyncio.create_task(self._speak()),
        ]
        try:
            await self._receive()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await subscription.close()

    async def _start(self) -> bool:
        """Wait for ``start`` and check the stream token it carries."""
        try:
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    raw = await self.line.receive()
                    if raw is None:
                        return False
                    message = twilio_wire.parse(raw)
                    if isinstance(message, twilio_wire.Start):
                        break
        except (TimeoutError, InvalidInput) as exc:
            await self.line.close(1008, str(exc) or "expected Twilio's start message")
            return False
        try:
            self.call = await self.calls.open_stream(
                message.call_sid, message.parameters.get("token", "")
            )
        except AuthError as exc:
            log.warning("refused a media stream: %s", exc)
            await self.line.close(1008, str(exc))
            return False
        self.stream_sid = message.stream_sid
        return True

    async def _receive(self) -> None:
        bad = 0
        while (raw := await self.line.receive()) is not None:
            try:
                message = twilio_wire.parse(raw)
            except InvalidInput as exc:
                bad += 1
                log.warning("call %s: %s", self.stream_sid, exc)
                if bad > MAX_BAD_MESSAGES:
                    await self.line.close(1008, "too many malformed messages")
                    return
                continue
            if isinstance(message, twilio_wire.Media) and message.track in ("inbound", ""):
                for event in self.detector.feed(mulaw.decode(message.audio)):
                    if isinstance(event, SpeechStarted):
                        await self._barge_in()
                    else:
                        self._utterances.put_nowait(event)
            elif isinstance(message, twilio_wire.Mark):
                self._played(message.name)
            elif isinstance(message, twilio_wire.Dtmf) and message.digit == "0":
                await self.chat.request_human(self.conversation_id)  # "press 0 for a person"
            elif isinstance(message, twilio_wire.Stop):
                return

    async def _hear(self) -> None:
        """Utterances → Whisper → the conversation, one at a time, in order."""
        while True:
            utterance = await self._utterances.get()
            if self._closing:
                continue
            try:
                await self._heard(utterance)
            except Exception:
                # One bad utterance must not leave the rest of the call unheard.
                log.exception("call %s: an utterance could not be handled", self.stream_sid)

    async def _heard(self, utterance: TurnEnded) -> None:
        samples = mulaw.upsample(utterance.audio)
        # The model loads on first use, which blocks too: both happen in the thread.
        transcript = await asyncio.to_thread(self.voice.transcribe, samples)
        if not transcript.text or self._closing:
            return  # noise, a cough: nothing was said
        self._turns += 1
        self._waiting = True
        # Unique per stream: a stream Twilio reconnects starts counting again.
        client_id = f"{self.stream_sid}:{self._turns}"
        await self.chat.customer_message(self.conversation_id, client_id, transcript.text)

    async def _follow(self, subscription: Any) -> None:
        async for frame in subscription:
            try:
                await self._on_frame(frame)
            except Exception:
                log.exception("call %s: a conversation event failed", self.stream_sid)

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "sentence":
            self._say(str(frame["message_id"]), str(frame["text"]))
        elif kind == "retract":
            self._silence(str(frame["message_id"]))
        elif kind == "message":
            await self._message(frame["message"])
        elif kind == "state" and frame.get("state") == "queued":
            await self._hand_over()

    async def _speak(self) -> None:
        while True:
            said = await self._to_say.get()
            if said.message_id in self._silenced:
                continue
            self._synthesizing = True
            try:
                await self._send_speech(said)
            except Exception:
                log.exception("call %s: a sentence could not be spoken", self.stream_sid)
                if said.message_id == HANDOVER:
                    self._handed_over.set()  # close the stream anyway: the transfer stands
            finally:
                self._synthesizing = False

    async def _send_speech(self, said: _Said) -> None:
        speech = await asyncio.to_thread(self.voice.synthesize, said.text)
        if said.message_id in self._silenced:
            return
        audio = mulaw.model_to_phone(speech.samples, speech.rate)
        for message in twilio_wire.media(self.stream_sid, audio):
            await self.line.send(message)
        name = f"{said.message_id}:{len(self._marks)}:{time.monotonic_ns()}"
        self._marks[name] = said
        await self.line.send(twilio_wire.mark(self.stream_sid, name))

    # -- what the loops do ---------------------------------------------------------------

    async def _message(self, message: dict[str, Any]) -> None:
        if message.get("role") != "bot":
            return
        self._waiting = False
        if message.get("tier") == HUMAN_TIER:
            return  # hand-over notices are written for a screen; the call says its own
        # The final text: say what the sentence frames did not already say.
        for sentence in split_sentences(speakable(str(message.get("text", "")))):
            self._say(str(message["id"]), sentence)

    def _say(self, message_id: str, text: str) -> None:
        if message_id in self._silenced or (self._closing and message_id != HANDOVER):
            return
        answer = self._answers.setdefault(message_id, _Answer())
        key = _key(text)
        if not key or key in answer.spoken:
            return
        answer.spoken.add(key)
        self._to_say.put_nowait(_Said(message_id, speakable(text)))

    def _silence(self, message_id: str) -> None:
        self._silenced.add(message_id)

    def _played(self, name: str) -> None:
        said = self._marks.pop(name, None)
        if said is None:
            return  # a mark of audio we cleared: Twilio echoes those too
        self._answers.setdefault(said.message_id, _Answer()).heard.append(said.text)
        if said.message_id == HANDOVER and not any(
            s.message_id == HANDOVER for s in self._marks.values()
        ):
            self._handed_over.set()

    async def _barge_in(self) -> None:
        """The caller speaks: stop talking and stop the answer being written."""
        if self._closing or not (self.speaking or self._waiting):
            return
        interrupted = {s.message_id for s in self._marks.values()}
        while not self._to_say.empty():
            interrupted.add(self._to_say.get_nowait().message_id)
        if self._marks:
            await self.line.send(twilio_wire.clear(self.stream_sid))
        self._marks.clear()
        self._silenced |= interrupted
        await self.chat.interrupt(self.conversation_id)
        self._waiting = False
        for message_id in interrupted:
            await self._note_heard(message_id)

    async def _note_heard(self, message_id: str) -> None:
        """Record in the transcript how much of an answer the caller heard."""
        heard = self._answers.get(message_id, _Answer()).heard
        text = (
            f"The caller spoke over the answer after hearing: “{' '.join(heard)}”"
            if heard
            else "The caller spoke over the answer before hearing any of it."
        )
        await self.chat.system_note(self.conversation_id, text, client_id=f"heard:{message_id}")

    async def _hand_over(self) -> None:
        """Say where the call goes, wait until it was heard, close the stream."""
        if self._closing or self.call is None:
            return
        self._closing = True
        # The call's number, caller and conversation never change: no need to read it again.
        handover = await self.calls.hand_over(self.call)
        self._say(HANDOVER, handover.say)
        with contextlib.suppress(TimeoutError):
            # Long enough for the words; a caller who hung up does not hold the socket.
            async with asyncio.timeout(30):
                await self._handed_over.wait()
        await self.line.close(1000, handover.outcome)
