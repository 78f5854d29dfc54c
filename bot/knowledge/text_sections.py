"""Sections of a plain-text document: numbered and underlined headings.

A company drops its FAQ into the knowledge folder as it is, and many are plain text:
curl's ``FAQ`` ("  3.2 How do I tell curl to resume a transfer?" over its answer),
READMEs and reStructuredText with underlined titles. Read as one section, a question
"hits" a passage that holds the whole file, its answer is quoted from anywhere in it,
and the gate accepts any claim the file makes somewhere. So the text is cut where a
reader sees a heading:

* a paragraph of one short line that starts with a section number ("2.", "3.12",
  "4.5.1") and does not end like a sentence ("1. Run the installer." is a list item);
  its depth is the number's;
* a line underlined with ``=``, ``-``, ``~``, ``*``, ``^`` or ``#`` (as long as the
  title, or nearly); the first character seen is the top level, as in reStructuredText.

A table of contents (a paragraph of three or more lines, most of them numbered
headings) is furniture and is dropped: its entries are the headings below. Paragraphs
that a typewriter wrapped are joined into one line, so a sentence is not cut at each line
end; lines more indented than the paragraph's first (code, a URL on its own line) and
list items keep their breaks. Pure functions: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s+(\S.*)$")
_UNDERLINE = re.compile(r"^([=\-~*^#])\1{2,}\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]\s|\d{1,3}[.)]\s|[a-z][.)]\s)")
MAX_HEADING = 120  # characters: a longer line is prose
_TOC_SHARE = 0.6  # of a paragraph's lines numbered: a table of contents


@dataclass(frozen=True)
class TextSection:
    heading_path: tuple[str, ...]  # under the document's title
    text: str


def _blocks(text: str) -> list[list[str]]:
    """Paragraphs: runs of non-blank lines (indentation kept)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _numbered(line: str) -> tuple[int, str] | None:
    """(depth, heading) when ``line`` reads as a numbered heading."""
    stripped = line.strip()
    match = _NUMBERED.match(stripped)
    if not match or len(stripped) > MAX_HEADING or stripped[-1] in ".,;":
        return None
    return match.group(1).count(".") + 1, stripped


def _is_contents(block: list[str]) -> bool:
    numbered = sum(_numbered(line) is not None for line in block)
    return len(block) >= 3 and numbered >= _TOC_SHARE * len(block)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _prose(lines: list[str]) -> bool:
    """Lines a typewriter wrapped: one indentation, most of a line's width each."""
    widths = [len(line.strip()) for line in lines]
    return len({_indent(line) for line in lines}) == 1 and sum(widths) / len(widths) >= 40


def unwrap(block: list[str]) -> str:
    """One paragraph: wrapped prose joined into one line; code-like lines (a block of
    short lines, a line more indented than the one before) and list items kept apart."""
    if len(block) == 1:
        return block[0].rstrip()
    out: list[list[str]] = []  # runs of lines to join
    for line in block:
        anew = not out or _LIST_ITEM.match(line) is not None or _indent(line) != _indent(out[-1][0])
        if anew:
            out.append([line])
        else:
            out[-1].append(line)
    return "\n".join(
        " ".join(part.strip() for part in run) if _prose(run) else "\n".join(run) for run in out
    )


def parse_text(text: str) -> list[TextSection]:
    """The sections of ``text``: the part before the first heading under no heading."""
    sections: list[TextSection] = []
    path: list[tuple[int, str]] = []  # (depth, heading) of the open headings
    underline_levels: list[str] = []
    body: list[str] = []

    def close() -> None:
        if body:
            sections.append(TextSection(tuple(h for _, h in path), "\n\n".join(body)))
            body.clear()

    for block in _blocks(text):
        heading: tuple[int, str] | None = None
        if len(block) == 1:
            heading = _numbered(block[0])
        elif len(block) == 2 and _UNDERLINE.match(block[1].strip()):
            mark = block[1].strip()[0]
            title = block[0].strip()
            if len(block[1].strip()) >= 0.6 * len(title) and len(title) <= MAX_HEADING:
                if mark not in underline_levels:
                    underline_levels.append(mark)
                heading = (underline_levels.index(mark) + 1, title)
        if heading is not None:
            close()
            depth = heading[0]
            path[:] = [(d, h) for d, h in path if d < depth] + [heading]
            continue
        if _is_contents(block):
            continue
        body.append(unwrap(block))
    close()
    return sections
