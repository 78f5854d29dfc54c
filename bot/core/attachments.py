"""Uploads as the core sees them, and one retrieval query from a message's mix of parts.

A customer message may carry text, voice notes (a transcript) and screenshots (the
text read off them). :func:`build_query` turns that mix into the one query the
knowledge base is searched with: the customer's words first, then what they said,
then the lines of a screenshot that look like an error (codes and messages weigh
most), because the embedder reads only the start of a long query. Pure functions,
no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from bot.core.text import is_identifier, words

Kind = Literal["image", "audio"]


class UploadStatus(StrEnum):
    PROCESSING = "processing"  # stored; transcription or OCR running
    READY = "ready"  # result stored (possibly empty: silence, no text on the image)
    FAILED = "failed"  # perception failed; the file is kept, the result says why


@dataclass(frozen=True)
class Upload:
    """A stored, cleaned upload and what was perceived in it."""

    id: str
    conversation_id: str
    kind: Kind
    mime: str
    bytes: int
    path: str  # relative to the uploads directory
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)  # width/height, duration_s
    status: UploadStatus = UploadStatus.PROCESSING
    result: dict[str, Any] = field(default_factory=dict)

    def attachment(self) -> dict[str, Any]:
        """The ``attachments[i]`` object of a stored message (PROTOCOL.md).

        Audio carries ``transcript`` and image ``text`` (empty when nothing was heard
        or read), both with a 0..1 ``confidence``; ``error`` says why perception failed.
        """
        out: dict[str, Any] = {
            "upload_id": self.id,
            "kind": self.kind,
            "mime": self.mime,
            "bytes": self.bytes,
            **self.meta,
            "status": str(self.status),
        }
        key = "transcript" if self.kind == "audio" else "text"
        out[key] = str(self.result.get(key, ""))
        out["confidence"] = self.result.get("confidence")
        if self.result.get("error"):
            out["error"] = self.result["error"]
        return out


# -- the query of one turn -------------------------------------------------------------

QUERY_IMAGE_CHARS = 400  # of screenshot text in the query (MiniLM reads ~256 tokens)
_ERROR_WORD_TEXT = """
error errors failed failure fail cannot can't couldn't unable invalid denied refused
expired unavailable timeout timed problem warning exception crash crashed declined
blocked forbidden unauthorized missing limit reached wrong incorrect
"""
_ERROR_WORDS = frozenset(_ERROR_WORD_TEXT.split())
# A spoken code comes back from Whisper as "E 2041" or "E2041"; the help center writes
# "E-2041". One capital letter and 3-5 digits: "a 500 error" is left alone.
_SPOKEN_CODE = re.compile(r"\b([A-Z])[ -]?(\d{3,5})\b")


def spoken_codes(transcript: str) -> list[str]:
    """Error codes in a transcript, written the way help centers write them."""
    return [f"{letter}-{digits}" for letter, digits in _SPOKEN_CODE.findall(transcript)]


def line_weight(line: str) -> int:
    """How much a screenshot line says about the problem: 3 a code, 2 an error word,
    1 a sentence, 0 a label (``OK``, ``Settings``)."""
    tokens = words(line)
    if any(is_identifier(t) and not t.isdigit() for t in tokens):
        return 3
    if any(t in _ERROR_WORDS for t in tokens):
        return 2
    return 1 if len(tokens) >= 4 else 0


def screenshot_lines(text: str, budget: int = QUERY_IMAGE_CHARS) -> list[str]:
    """The lines of a screenshot worth searching for, most telling first, within
    ``budget`` characters. Labels are used only when nothing better is there."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    ranked = sorted(lines, key=line_weight, reverse=True)  # stable: screen order kept
    if ranked and line_weight(ranked[0]) > 0:
        ranked = [line for line in ranked if line_weight(line) > 0]
    out: list[str] = []
    used = 0
    for line in ranked:
        if used + len(line) > budget and out:
            break
        out.append(line[:budget])
        used += len(line) + 1
    return out


def build_query(text: str, attachments: Sequence[Mapping[str, Any]]) -> str:
    """One search query from the customer's text, transcripts and screenshot text."""
    parts = [text.strip()] if text.strip() else []
    for att in attachments:
        if att.get("kind") == "audio" and att.get("transcript"):
            transcript = str(att["transcript"]).strip()
            parts.append(transcript)
            parts.extend(c for c in spoken_codes(transcript) if c not in transcript)
    for att in attachments:
        if att.get("kind") == "image" and att.get("text"):
            parts.extend(screenshot_lines(str(att["text"])))
    return "\n".join(parts)


def unreadable(attachments: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Attachments that gave nothing to go on (silence, no text, failed)."""
    key = {"audio": "transcript", "image": "text"}
    return [a for a in attachments if not str(a.get(key.get(str(a.get("kind")), ""), "")).strip()]


def nothing_to_go_on_reply(attachments: Sequence[Mapping[str, Any]]) -> str:
    """What the bot says when a message's attachments gave nothing to search for."""
    kinds = {str(a.get("kind")) for a in attachments}
    if kinds == {"audio"}:
        return (
            "I couldn't make out any words in your voice note. Could you record it again "
            "a little closer to the microphone, or type your question?"
        )
    if kinds == {"image"}:
        return (
            "I couldn't read any text in your screenshot. Could you type the error message "
            "you see, or tell me what you were doing when it appeared?"
        )
    return (
        "I couldn't make out any words in your voice note or read any text in your "
        "screenshot. Could you type your question or the error message you see?"
    )
