"""Client → server frames of ``/ws/chat`` (PROTOCOL.md), parsed and checked. No I/O.

A frame that cannot be used raises :class:`FrameError` with a stable ``code`` and a
message that says what was wrong (and which limit was hit); the connection stays
open unless ``fatal``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

MAX_FRAME_BYTES = 64 * 1024
MAX_ATTACHMENTS = 5


class FrameError(Exception):
    def __init__(
        self, code: str, message: str, *, client_id: str | None = None, fatal: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id
        self.fatal = fatal

    def frame(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.client_id is not None:
            out["client_id"] = self.client_id
        return out


class _Frame(BaseModel):
    # Unknown fields are ignored: newer clients may send more than we know.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Hello(_Frame):
    type: Literal["hello"]
    conversation_id: str | None = Field(default=None, max_length=64)
    token: str | None = Field(default=None, max_length=256)
    last_seq: int = Field(default=0, ge=0)
    visitor: dict[str, Any] = Field(default_factory=dict)


class AttachmentRef(_Frame):
    upload_id: str = Field(max_length=64)


class CustomerMessage(_Frame):
    type: Literal["message"]
    client_id: str = Field(min_length=1, max_length=64)
    text: str | None = None
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class Human(_Frame):
    type: Literal["human"]
    client_id: str = Field(min_length=1, max_length=64)


class Typing(_Frame):
    type: Literal["typing"]


class Feedback(_Frame):
    type: Literal["feedback"]
    message_id: str = Field(max_length=64)
    rating: Literal["up", "down"]


class Contact(_Frame):
    """An email for a follow-up (offered when nobody can answer now)."""

    type: Literal["contact"]
    client_id: str = Field(min_length=1, max_length=64)
    email: str = Field(max_length=320)


class Rating(_Frame):
    """The customer's rating of a conversation an agent closed (CSAT)."""

    type: Literal["rating"]
    client_id: str = Field(min_length=1, max_length=64)
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


AnyFrame = Hello | CustomerMessage | Human | Typing | Feedback | Contact | Rating
ClientFrame = Annotated[AnyFrame, Field(discriminator="type")]
_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
KNOWN_TYPES = ("hello", "message", "human", "typing", "feedback", "contact", "rating")


def parse(raw: str | bytes) -> AnyFrame:
    """Decode one text frame."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_FRAME_BYTES:
        raise FrameError(
            "too_large",
            f"Frames are limited to {MAX_FRAME_BYTES // 1024} KiB; this one has "
            f"{size // 1024} KiB.",
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise FrameError(
            "bad_json", "Frames are JSON objects; this one is not valid JSON."
        ) from None
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "A frame is a JSON object with a 'type'.")
    client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
    kind = data.get("type")
    if kind not in KNOWN_TYPES:
        raise FrameError(
            "unknown_type",
            f"Unknown frame type {str(kind)[:40]!r}; expected one of {', '.join(KNOWN_TYPES)}.",
            client_id=client_id,
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or kind}: {e['msg']}"
            for e in exc.errors()[:3]
        )
        raise FrameError(
            "bad_frame", f"Invalid {kind} frame: {problems}.", client_id=client_id
        ) from None
