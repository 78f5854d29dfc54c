"""Heading-aware chunking that fits the embedder's token window.

A chunk is the heading path plus as many whole paragraphs of one section as fit;
a paragraph too long for the window is cut at sentence ends, and a sentence too
long at word boundaries. Chunks never cross a section, so every chunk carries
the heading path and anchor of the section it came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

from bot.core.text import split_paragraphs, split_sentences
from bot.core.types import TITLE_SEPARATOR, Chunk, Section

# Counts a text's tokens without the model's special tokens. Counts add up across
# whitespace-joined pieces (WordPiece never merges across spaces), which keeps packing linear.
TokenCounter = Callable[[str], int]
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
# The chunker's own version: bump it when chunk boundaries change, so a re-ingest
# replaces chunks made by an older chunker even if the file did not change.
# 3: questions in definition lists and bold paragraphs open sections, list markers and
# fenced code blocks are kept (bot/knowledge/html_sections.py).
# 4: plain text is cut at its numbered and underlined headings (text_sections.py).
CHUNKER_VERSION = "4"


def approximate_tokens(text: str) -> int:
    """A conservative stand-in for a WordPiece count (about 1.4 tokens a word)."""
    return int(len(text.split()) * 1.4 + 0.999)


def _split_words(text: str, budget: int, count: TokenCounter) -> Iterator[str]:
    piece: list[str] = []
    used = 0
    for word in text.split():
        size = count(word)
        if piece and used + size > budget:
            yield " ".join(piece)
            piece, used = [], 0
        piece.append(word)
        used += size
    if piece:
        yield " ".join(piece)


def _units(paragraph: str, budget: int, count: TokenCounter) -> Iterator[tuple[str, int]]:
    """Pieces of a paragraph with their token counts, each within ``budget`` tokens."""
    size = count(paragraph)
    if size <= budget:
        yield paragraph, size
        return
    for sentence in split_sentences(paragraph):
        size = count(sentence)
        if size <= budget:
            yield sentence, size
        else:
            for piece in _split_words(sentence, budget, count):
                yield piece, count(piece)


def _pack(pieces: Sequence[tuple[str, int, str]], budget: int) -> list[str]:
    """Greedily join pieces (text, tokens, separator before it) while they fit the budget."""
    chunks: list[str] = []
    current, used = "", 0
    for text, size, sep in pieces:
        if current and used + size > budget:
            chunks.append(current)
            current, used = "", 0
        current = f"{current}{sep}{text}" if current else text
        used += size
    if current:
        chunks.append(current)
    return chunks


def chunk_id(source: str, section_index: int, part: int) -> str:
    digest = hashlib.sha1(source.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
    return f"{digest}:{section_index}:{part}"


def chunk_sections(
    sections: Sequence[Section],
    count_tokens: TokenCounter = approximate_tokens,
    max_tokens: int = 256,
) -> list[Chunk]:
    """Chunks for the sections of one document, in reading order."""
    chunks: list[Chunk] = []
    for index, section in enumerate(sections):
        heading = TITLE_SEPARATOR.join(section.heading_path)
        # The heading is embedded with every chunk: keep room for it and the special tokens.
        budget = max(32, max_tokens - SPECIAL_TOKENS - count_tokens(heading) - 1)
        pieces: list[tuple[str, int, str]] = []
        for paragraph in split_paragraphs(section.text):
            units = list(_units(paragraph, budget, count_tokens))
            # A paragraph of lines (a code block, a list) cut into pieces keeps its lines.
            joint = "\n" if "\n" in paragraph else " "
            pieces.extend(
                (unit, size, "\n\n" if i == 0 else joint) for i, (unit, size) in enumerate(units)
            )
        for part, text in enumerate(_pack(pieces, budget)):
            chunks.append(
                Chunk(
                    id=chunk_id(section.source, index, part),
                    source=section.source,
                    heading_path=section.heading_path,
                    anchor=section.anchor,
                    text=text,
                    section_index=index,
                    part=part,
                )
            )
    return chunks
