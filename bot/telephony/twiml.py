"""The TwiML the voice webhooks answer, built with the ``twilio`` package's helpers
(which escape what they are given). No I/O."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, Dial, Stream, VoiceResponse

QUEUE_PREFIX = "queue:"


def connect(greeting: str, stream_url: str, action_url: str, parameters: dict[str, str]) -> str:
    """Greet the caller, then connect the call's audio both ways to ``stream_url``;
    Twilio asks ``action_url`` what next once the stream is closed."""
    response = VoiceResponse()
    if greeting:
        response.say(greeting)
    connect = Connect(action=action_url)
    stream = Stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    connect.append(stream)
    response.append(connect)
    return str(response)


def transfer(target: str) -> str:
    """Put the call through to a person: ``queue:NAME`` enqueues it, a ``sip:`` address
    or phone number is dialled."""
    response = VoiceResponse()
    if target.startswith(QUEUE_PREFIX):
        response.enqueue(target.removeprefix(QUEUE_PREFIX))
        return str(response)
    dial = Dial()
    if target.startswith(("sip:", "sips:")):
        dial.sip(target)
    else:
        dial.number(target)
    response.append(dial)
    return str(response)


def hang_up(goodbye: str = "") -> str:
    response = VoiceResponse()
    if goodbye:
        response.say(goodbye)
    response.hangup()
    return str(response)
