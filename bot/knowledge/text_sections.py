"""Sections of a plain-text document: numbered and underlined headings.

A company drops its FAQ into the knowledge folder as it is, and many are plain text:
curl's ``FAQ`` ("  3.2 How do I tell curl to resume a transfer?" over its answer),
READMEs and reStructuredText with underlined titles. Read as one section, a question
"hits" a passage that holds the whole file, its answer is quoted from anywhere in it,
and the gate accepts any claim the file makes somewhere. So the text is cut where a
reader sees a heading:

* a paragraph of one short line that starts with a section number ("2.", "3.12",
  "4.5.1") and does not end like a sentence ("1. Run the installer." is a list item),
  with something under it: a numbered line followed by another of its level, or by
  text after such a list ("1. Download", "2. Run it", "Done."), is a step, not a
  heading; its depth is the number's, under any underlined headings;
* a line underlined with ``=``, ``-``, ``~``, ``*``, ``^`` or ``#`` (as long as the
  title, or nearly); the first character seen is the top level, as in reStructuredText.

A table of contents (a paragraph of three or more lines, most of them numbered headings
that reappear below) is furniture and is dropped; a price list or a changelog is not.
Prose a typewriter wrapped (long lines of words) is joined into one line, so a sentence
is not cut at each line end; code, tables, short lines, a line indented unlike the one
before and list items keep their breaks. Pure functions: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A section number: "2." or "3.12" / "4.5.1" (a bare "30 days" is not one).
_NUMBERED = re.compile(r"^(\d{1,3}\.|\d{1,3}(?:\.\d{1,3})+\.?)\s+(\S.*)$")
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
    if not match or len(stripped) > MAX_HEADING or stripped[-1] in ".,;!":
        return None
    return len([n for n in match.group(1).split(".") if n]), stripped


def _is_contents(block: list[str], headings: set[str]) -> bool:
    """Three or more lines, most of them numbered headings that reappear below."""
    entries = [line.strip() for line in block if _numbered(line) is not None]
    listed = sum(entry in headings for entry in entries)
    return len(block) >= 3 and listed >= _TOC_SHARE * len(block)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _wordy(line: str) -> bool:
    """Mostly words (prose), not code, a table or a command line."""
    tokens = line.split()
    words = sum(t.strip(",.;:!?'\"()").isalpha() for t in tokens)
    return bool(tokens) and words >= 0.7 * len(tokens) and "  " not in line.strip()


def _prose(lines: list[str]) -> bool:
    """Lines a typewriter wrapped: most of a line's width each, words rather than code."""
    widths = [len(line.strip()) for line in lines]
    return sum(widths) / len(widths) >= 40 and all(_wordy(line) for line in lines)


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


def _heading(block: list[str], underlines: list[str]) -> tuple[int, str] | None:
    """(depth, title) when ``block`` reads as a heading; underline marks in order seen."""
    if len(block) == 1:
        return _numbered(block[0])
    if len(block) == 2 and _UNDERLINE.match(block[1].strip()):
        title = block[0].strip()
        if len(block[1].strip()) >= 0.6 * len(title) and len(title) <= MAX_HEADING:
            mark = block[1].strip()[0]
            if mark not in underlines:
                underlines.append(mark)
            return underlines.index(mark) + 1, title
    return None


def _kept(blocks: list[list[str]]) -> list[tuple[int, str] | None]:
    """Each block's heading, if it heads something: a numbered line followed by another
    of the same or a higher level (steps "1. Download", "2. Run it"), or by text after
    such a list, is text."""
    underlines: list[str] = []
    found = [_heading(block, underlines) for block in blocks]
    candidates = list(found)
    levels = len(underlines)
    for i, heading in enumerate(candidates):
        if heading is None or len(blocks[i]) != 1:
            continue  # underlined headings (two lines) stand as they are
        after = candidates[i + 1] if i + 1 < len(found) else (0, "")
        before = candidates[i - 1] if i else None
        # The last step of a list is followed by text, but its list came before it.
        continues = before is not None and found[i - 1] is None and before[0] == heading[0]
        if continues or (after is not None and after[0] <= heading[0]):
            found[i] = None
        else:  # numbered headings sit under the underlined ones
            found[i] = (heading[0] + levels, heading[1])
    return found


def parse_text(text: str) -> list[TextSection]:
    """The sections of ``text``: the part before the first heading under no heading."""
    sections: list[TextSection] = []
    path: list[tuple[int, str]] = []  # (depth, heading) of the open headings
    body: list[str] = []
    blocks = _blocks(text)
    headings = _kept(blocks)
    titles = {h[1] for h in headings if h is not None}

    def close() -> None:
        if body:
            sections.append(TextSection(tuple(h for _, h in path), "\n\n".join(body)))
            body.clear()

    for block, heading in zip(blocks, headings, strict=True):
        if heading is not None:
            close()
            path[:] = [(d, h) for d, h in path if d < heading[0]] + [heading]
        elif not _is_contents(block, titles):
            body.append(unwrap(block))
    close()
    return sections
