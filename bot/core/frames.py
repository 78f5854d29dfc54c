"""Client → server frames of ``/ws/chat`` (PROTOCOL.md), parsed and checked. No I/O.

A frame that cannot be used raises :class:`FrameError` with a stable ``code`` and a
message that says what was wrong (and which limit was hit); the connection stays
open unless ``fatal``.

:func:`decode` is the first step for both sockets (``/ws/agent`` too): size, then
nesting depth (counted before ``json.loads``, whose recursion a frame of 20,000 ``[``
would exhaust), then JSON, then every string storable (a ``\\ud800`` escape decodes to
a lone surrogate, which no database column can hold).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

F = TypeVar("F")  # a frame type of one socket
MAX_FRAME_BYTES = 64 * 1024
MAX_ATTACHMENTS = 5
MAX_DEPTH = 32  # arrays and objects inside each other; real frames use 3
# The depth scan: escapes dropped, then strings, then all but brackets.
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A \uD800-\uDFFF escape: the only way a lone surrogate gets into a decoded frame.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


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


def decode(raw: str | bytes) -> dict[str, Any]:
    """One frame of either socket as a JSON object whose strings can all be stored."""
    try:
        encoded = raw.encode() if isinstance(raw, str) else raw
        text = raw if isinstance(raw, str) else raw.decode()
    except UnicodeError:
        raise FrameError("invalid_input", "Frames are UTF-8 text.") from None
    if len(encoded) > MAX_FRAME_BYTES:
        raise FrameError(
            "too_large",
            f"Frames are limited to {MAX_FRAME_BYTES // 1024} KiB; this one has "
            f"{len(encoded) // 1024} KiB.",
        )
    if _too_deep(text):
        raise FrameError(
            "bad_json",
            f"Frames may nest arrays and objects at most {MAX_DEPTH} levels deep; "
            "this one nests deeper.",
        )
    try:
        data = json.loads(text)
    except ValueError:
        raise FrameError(
            "bad_json", "Frames are JSON objects; this one is not valid JSON."
        ) from None
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "A frame is a JSON object with a 'type'.")
    if _SURROGATE_ESCAPE.search(text) and (where := _unstorable(data, "")) is not None:
        raise FrameError(
            "invalid_input",
            # A customer reads this in the widget: what to do first, then the detail.
            "This holds a character that cannot be saved, so it was not sent; please type "
            f"it again. ({where} is not valid Unicode text: a lone UTF-16 surrogate such "
            "as \\ud800.)",
            client_id=client_id_of(data),
        )
    return data


def client_id_of(data: dict[str, Any]) -> str | None:
    """The frame's ``client_id`` if it can be sent back (a string of valid Unicode)."""
    value = data.get("client_id")
    if isinstance(value, str) and len(value) <= 64 and _storable(value):
        return value
    return None


def _too_deep(text: str) -> bool:
    """Whether arrays and objects nest past MAX_DEPTH, brackets inside strings not
    counted. No recursion (``json.loads`` recurses once per level) and no Python loop
    per character: a 64 KiB frame of brackets takes a few milliseconds."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # every real frame: no scan needed
    # Escapes first (an escaped quote does not end a string); then, split at quotes,
    # the even pieces are outside strings. Invalid JSON may be judged oddly past its
    # first error, but json.loads stops there too.
    outside = "".join(_ESCAPE.sub("", text).split('"')[0::2])
    brackets = _NOT_BRACKET.sub("", outside)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH


def _storable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _unstorable(value: Any, path: str) -> str | None:
    """The field path of the first string (or key) in ``value`` that cannot be stored
    as UTF-8; None when all can. Depth is bounded by MAX_DEPTH, checked before."""
    if isinstance(value, str):
        return None if _storable(value) else repr(path)
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not _storable(key):
                return f"A field name in {path!r}" if path else "A field name"
            items.append((f"{path}.{key}" if path else key, item))
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    for where, item in items:
        if (found := _unstorable(item, where)) is not None:
            return found
    return None


def parse(raw: str | bytes) -> AnyFrame:
    """Decode one text frame."""
    data = decode(raw)
    client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
    return checked(data, _ADAPTER, KNOWN_TYPES, client_id)


def checked(
    data: dict[str, Any], adapter: TypeAdapter[F], known: tuple[str, ...], client_id: str | None
) -> F:
    """A decoded frame as one of ``adapter``'s frame types (its ``type`` among ``known``),
    or :class:`FrameError` ``unknown_type`` / ``bad_frame`` naming at most three problems:
    the one check both sockets' frames go through (:mod:`bot.core.agent_frames` too)."""
    kind = data.get("type")
    if kind not in known:
        raise FrameError(
            "unknown_type",
            f"Unknown frame type {str(kind)[:40]!r}; expected one of {', '.join(known)}.",
            client_id=client_id,
        )
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or kind}: {e['msg']}"
            for e in exc.errors()[:3]
        )
        raise FrameError(
            "bad_frame", f"Invalid {kind} frame: {problems}.", client_id=client_id
        ) from None
