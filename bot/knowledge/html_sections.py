"""Split an HTML page into sections by its headings.

Used for HTML files and, after rendering, for markdown. A section is the text
under one heading up to the next heading of any level; its heading path is the
chain of enclosing headings, and its anchor is the id a link would use (the
heading's own id, the id of a ``<section>``/``<div>`` the heading opens, or an
``<a id|name>`` inside the heading).

Many FAQ pages mark their questions without headings: a definition list whose terms
are the questions (asciidoc's, Git's FAQ), or a paragraph that is nothing but a bold
question after an ``<a name>`` (SQLite's FAQ). Each such question opens a section one
level below the heading it sits under; otherwise a whole page of questions would be one
section, cited and quoted as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from bs4.element import (
    Comment,
    Doctype,
    NavigableString,
    PageElement,
    ProcessingInstruction,
    Tag,
)

from bot.core.text import normalize_whitespace
from bot.knowledge.hidden_html import drop_hidden

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Page furniture that is never an answer.
DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "svg",
    "iframe",
    "object",
    "embed",
)
DROP_SELECTORS = (
    ".headerlink",
    "[role=navigation]",
    "[role=banner]",
    "[role=contentinfo]",
    ".sphinxsidebar",
    ".related",
    ".breadcrumb",
    ".breadcrumbs",
    "[hidden]",
    "[aria-hidden=true]",
)
BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "ul",
    "ol",
    "dl",
    "pre",
    "blockquote",
    "table",
    "hr",
    "figure",
    "figcaption",
    "details",
    "summary",
    "body",
    "html",
}
LINES = {"li", "tr", "dt", "dd", "br"}  # one line each, no blank line between them
CELLS = {"td", "th"}
_WS = re.compile(r"\s+")
FENCE = "```"  # around the text of a <pre> block
_LONE_MARKER = re.compile(r"(?m)^(-|\d+\.)\n+")
QUESTION_MARK = "\x00"  # tags a heading that was a question, not an <h1>-<h6>


@dataclass
class RawSection:
    heading_path: tuple[str, ...]
    anchor: str | None
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        # An item whose content is a block (<li><p>…) would leave its marker alone on a line.
        return _LONE_MARKER.sub(r"\1 ", normalize_whitespace("".join(self.parts)))


@dataclass
class HtmlPage:
    title: str | None
    sections: list[RawSection]


def _anchor_of(heading: Tag) -> str | None:
    if heading.get("id"):
        return str(heading["id"])
    for a in heading.find_all("a"):
        for attr in ("id", "name"):
            if a.get(attr):
                return str(a[attr])
    parent = heading.parent
    # A heading that opens a <section id> (Sphinx, many doc generators) is named by it.
    if (
        isinstance(parent, Tag)
        and parent.get("id")
        and parent.name in ("section", "div", "article")
    ):
        first = parent.find(list(HEADINGS))
        if first is heading:
            return str(parent["id"])
    return None


_MAX_QUESTION_CHARS = 300


def _question_text(tag: Tag) -> str | None:
    """The question a ``<dt>`` asks, or a ``<p>`` that is all bold and either asks or is
    a link target (an entry whose title states a problem: "… lets me insert a string!")."""
    text = " ".join(tag.get_text(" ").split())
    if not text or len(text) > _MAX_QUESTION_CHARS:
        return None
    if tag.name == "dt":
        return text if text.endswith("?") else None
    bold = tag.find(["b", "strong"])
    if not isinstance(bold, Tag) or " ".join(bold.get_text(" ").split()) != text:
        return None
    return text if text.endswith("?") or _target_before(tag) else None


def _target_before(tag: Tag) -> str | None:
    """The name of an empty ``<a name|id>`` right before ``tag`` (a link target)."""
    previous = tag.find_previous_sibling()
    if previous is not None and previous.name == "a" and not previous.get_text(strip=True):
        for attr in ("name", "id"):
            if previous.get(attr):
                return str(previous[attr])
    return None


def _question_anchor(tag: Tag) -> str | None:
    """The id a link to a question uses: its own, an empty ``<a name|id>`` just before
    it, the id of the list that the first term opens, or the first id in its answer."""
    if tag.get("id"):
        return str(tag["id"])
    target = _target_before(tag)
    if target is not None or tag.name != "dt":
        return target
    dl = tag.parent
    if isinstance(dl, Tag) and dl.find("dt") is tag:
        for holder in (dl, dl.parent):
            if isinstance(holder, Tag) and holder.get("id"):
                return str(holder["id"])
    answer = tag.find_next_sibling()
    if isinstance(answer, Tag) and answer.name == "dd":
        marked = answer.find(id=True)
        if isinstance(marked, Tag):
            return str(marked["id"])
    return None


def _item_marker(item: Tag) -> str:
    """``- `` for an item of an unordered list, ``N. `` for the Nth of an ordered one."""
    parent = item.parent
    if not isinstance(parent, Tag) or parent.name != "ol":
        return "- "
    start = str(parent.get("start") or "1")
    number = int(start) if start.isdigit() else 1
    number += len(item.find_previous_siblings("li"))
    return f"{number}. "


def _clean(soup: BeautifulSoup) -> None:
    for node in soup.find_all(
        string=lambda s: isinstance(s, Comment | Doctype | ProcessingInstruction)
    ):
        node.extract()
    for name in DROP_TAGS:
        for tag in soup.find_all(name):
            tag.decompose()
    for selector in DROP_SELECTORS:
        for tag in soup.select(selector):
            tag.decompose()
    # Text an inline style hides (display:none, off-screen, zero-size…) is not the page's
    # content as a reader sees it; quoted, it would be a planted offer or instruction.
    drop_hidden(soup)
    for listing in soup.find_all(["ul", "ol"]):
        if _is_table_of_contents(listing):
            listing.decompose()


def _is_table_of_contents(listing: Tag) -> bool:
    """A list whose every item is only a link within the page: a table of contents (it
    repeats every heading, so it would look relevant to every question)."""
    items = listing.find_all("li", recursive=False)
    if len(items) < 3:
        return False
    for item in items:
        links = item.find_all("a", href=True, recursive=False)
        text = item.get_text(" ", strip=True)
        if not links or not all(str(a["href"]).startswith("#") for a in links):
            return False
        if " ".join(a.get_text(" ", strip=True) for a in links) != text:
            return False
    return True


def parse_html(html: str) -> HtmlPage:
    """Parse a page into heading-delimited sections (text before any heading is kept)."""
    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    title = normalize_whitespace(title_tag.get_text(" ")) if title_tag else None
    _clean(soup)
    root = (
        soup.find("main")
        or soup.find(True, attrs={"role": "main"})
        or soup.find("article")
        or soup.body
        or soup
    )

    headings: list[tuple[int, str]] = []  # (level, text) of the open headings
    sections: list[RawSection] = [RawSection((), None)]
    # Iterative walk (a stack of child iterators, each with the text that closes it): a
    # hostile page nested thousands of levels deep must not hit Python's recursion limit.
    pending: list[tuple[Iterator[PageElement], str]] = [(iter(root.children), "")]
    while pending:
        children, closing = pending[-1]
        child = next(children, None)
        if child is None:
            pending.pop()
            sections[-1].parts.append(closing)
            continue
        if isinstance(child, NavigableString):
            # Outside <pre>, HTML whitespace (source line breaks included) is one space.
            sections[-1].parts.append(_WS.sub(" ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name or ""
        question = _question_text(child) if name in ("dt", "p") else None
        if question is not None:
            level = (headings[-1][0] if headings else 0) + 1
            if headings and headings[-1][1].startswith(QUESTION_MARK):
                level = headings[-1][0]  # the next question of the same list
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, QUESTION_MARK + question))
            path = tuple(t.removeprefix(QUESTION_MARK) for _, t in headings)
            sections.append(RawSection(path, _question_anchor(child)))
        elif name in HEADINGS:
            level = HEADINGS[name]
            text = normalize_whitespace(child.get_text(" ")).rstrip("¶#").strip()
            if text:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text))
                path = tuple(t.removeprefix(QUESTION_MARK) for _, t in headings)
                sections.append(RawSection(path, _anchor_of(child)))
        elif name == "pre":
            # Fenced, so an answer can keep a command whole and show it as code.
            code = child.get_text().strip("\n")
            if code.strip():
                sections[-1].parts.append(f"\n\n{FENCE}\n{code}\n{FENCE}\n\n")
        elif name == "li":
            sections[-1].parts.append("\n" + _item_marker(child))
            pending.append((iter(child.children), ""))
        elif name in LINES:
            sections[-1].parts.append("\n")
            pending.append((iter(child.children), ""))
        elif name in BLOCKS:
            sections[-1].parts.append("\n\n")
            pending.append((iter(child.children), "\n\n"))
        elif name in CELLS:
            sections[-1].parts.append(" | ")
            pending.append((iter(child.children), ""))
        else:
            pending.append((iter(child.children), ""))
    return HtmlPage(title=title, sections=[s for s in sections if s.text])
