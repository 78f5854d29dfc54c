"""Split an HTML page into sections by its headings.

Used for HTML files and, after rendering, for markdown. A section is the text
under one heading up to the next heading of any level; its heading path is the
chain of enclosing headings, and its anchor is the id a link would use (the
heading's own id, the id of a ``<section>``/``<div>`` the heading opens, or an
``<a id|name>`` inside the heading).
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


@dataclass
class RawSection:
    heading_path: tuple[str, ...]
    anchor: str | None
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return normalize_whitespace("".join(self.parts))


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
        if name in HEADINGS:
            level = HEADINGS[name]
            text = normalize_whitespace(child.get_text(" ")).rstrip("¶#").strip()
            if text:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text))
                sections.append(RawSection(tuple(t for _, t in headings), _anchor_of(child)))
        elif name == "pre":
            sections[-1].parts.append("\n\n" + child.get_text() + "\n\n")
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
