"""Agent → server frames of ``/ws/agent`` (PROTOCOL.md, Agents), checked as strictly as a
customer's. No I/O.

A staff console is trusted to be logged in, not to be well formed: a reply whose
``text`` is an object must be refused, not turned into ``"{'a': 1}"`` and shown to the
customer. Types are strict (no coercion); a bad frame raises
:class:`~bot.core.frames.FrameError` (``bad_frame``, ``unknown_type`` or one of
:func:`~bot.core.frames.decode`'s codes) and the socket stays open.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.core.frames import checked, client_id_of, decode

ConversationId = Annotated[str, Field(min_length=1, max_length=64)]
ClientId = Annotated[str, Field(min_length=1, max_length=64)]


class _AgentFrame(BaseModel):
    # Unknown fields are ignored (a newer console may send more); known ones are strict.
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class Take(_AgentFrame):
    type: Literal["take"]
    conversation_id: ConversationId


class Release(_AgentFrame):
    type: Literal["release"]
    conversation_id: ConversationId
    reason: str = Field(default="released", max_length=1000)  # the service keeps 64


class Close(_AgentFrame):
    type: Literal["close"]
    conversation_id: ConversationId


class Reply(_AgentFrame):
    """A message to the customer (idempotent on ``client_id``)."""

    type: Literal["reply"]
    conversation_id: ConversationId
    client_id: ClientId
    text: str


class Note(_AgentFrame):
    """An internal note: agents only, never the customer."""

    type: Literal["note"]
    conversation_id: ConversationId
    client_id: ClientId
    text: str


class Typing(_AgentFrame):
    type: Literal["typing"]
    conversation_id: ConversationId


class Presence(_AgentFrame):
    type: Literal["presence"]
    status: str = Field(max_length=32)  # which statuses exist is the staffing service's


AgentFrame = Take | Release | Close | Reply | Note | Typing | Presence
_ADAPTER: TypeAdapter[AgentFrame] = TypeAdapter(Annotated[AgentFrame, Field(discriminator="type")])
KNOWN_TYPES = ("take", "release", "close", "reply", "note", "typing", "presence")


def parse(raw: str | bytes) -> AgentFrame:
    """Decode and check one frame an agent's console sent after its hello."""
    data = decode(raw)
    return checked(data, _ADAPTER, KNOWN_TYPES, client_id_of(data))
