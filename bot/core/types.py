"""Values that cross the seams: sections, chunks, retrieved passages, citations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TITLE_SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Section:
    """A span of a document under one heading path (the unit a citation points at)."""

    source: str
    heading_path: tuple[str, ...]
    anchor: str | None
    text: str

    @property
    def title(self) -> str:
        return TITLE_SEPARATOR.join(self.heading_path)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a section small enough for the embedder's window.

    Every chunk of a section carries the section's heading path and anchor, so a
    chunk found on its own can still be cited as "Heading › Sub-heading".
    """

    id: str
    source: str
    heading_path: tuple[str, ...]
    anchor: str | None
    text: str
    section_index: int
    part: int

    @property
    def title(self) -> str:
        return TITLE_SEPARATOR.join(self.heading_path)

    @property
    def section_key(self) -> str:
        return f"{self.source}#{self.section_index}"

    def embedding_text(self) -> str:
        """What the embedder and the lexical index see: the heading path, then the text."""
        return f"{self.title}\n{self.text}" if self.heading_path else self.text


@dataclass(slots=True)
class Passage:
    """A retrieved section (its matching chunks merged) with a 0..1 relevance score."""

    source: str
    title: str
    anchor: str | None
    text: str
    score: float
    section_key: str
    signals: dict[str, float] = field(default_factory=dict)

    def citation(self, n: int) -> Citation:
        return Citation(
            n=n,
            source=self.source,
            title=self.title,
            anchor=self.anchor,
            text=self.text,
            score=round(self.score, 4),
        )


@dataclass(frozen=True, slots=True)
class Citation:
    """The wire form of a cited passage (see PROTOCOL.md, Citation)."""

    n: int
    source: str
    title: str
    anchor: str | None
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "anchor": self.anchor,
            "text": self.text,
            "score": self.score,
        }
