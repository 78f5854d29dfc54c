"""Which parts of a page a sighted reader never sees, read from inline ``style`` attributes.

The index must hold what a reader of the page reads. Text a page hides from view (a
``display:none`` paragraph, a zero-size or off-screen box) would otherwise be retrieved
and quoted to customers as if it were the page's content: the classic way to plant an
offer or an instruction for a model in a page that looks clean in a browser.

Only inline styles are read. Hiding done by a stylesheet rule (``.promo {display:none}``)
needs the cascade, which the loader does not evaluate; ``hidden``, ``aria-hidden``,
``<template>``, ``<noscript>`` and comments are dropped by :mod:`html_sections` itself.

Screen-reader-only text ("visually hidden": 1 px, clipped, or moved off-screen) is
dropped too. Sighted readers never see it, and it is exactly the technique a planted
sentence would use; what it holds is usually a label repeating something visible
("opens in a new tab"), seldom an answer. Content a script reveals (an accordion whose
answers start as ``display:none``) is dropped with it: the page as served hides it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

# A box moved this far off the left or top edge is out of view (the usual tricks use
# -9999px or -10000px; real layouts do not push content half a screen away).
OFFSCREEN_PX = 500.0
FAINT = 0.05  # an opacity or scale this small leaves nothing a reader can make out
_FILTER_OPACITY = re.compile(r"opacity\(\s*([0-9.]+%?)\s*\)")
# No colour: "transparent", or rgb()/hsl() with an alpha of zero (the fourth value, or
# the one after "/"), not merely a last channel of zero (rgb(255, 255, 0) is yellow).
_ZERO = r"\s*0*\.?0+%?\s*\)"
_TRANSPARENT = re.compile(
    rf"transparent|(?:rgb|hsl)a?\((?:[^,/)]*,){{3}}{_ZERO}|(?:rgb|hsl)a?\([^/)]*/{_ZERO}"
)
# A box at most this wide or tall that clips its overflow shows nothing legible
# (the screen-reader-only pattern is 1px × 1px).
TINY_PX = 1.0
_PX_PER = {
    "px": 1.0,
    "pt": 4 / 3,
    "pc": 16.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 96 / 25.4,
    "q": 96 / 101.6,
    "em": 16.0,
    "rem": 16.0,
    "ex": 8.0,
    "ch": 8.0,
    "vw": 19.2,  # 1% of a 1920px screen: -100vw is a screen's width away
    "vh": 10.8,
    "%": 19.2,  # of the container: -100% of a full-width box, likewise
}
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z%]*)$")
_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.DOTALL)
_IMPORTANT = re.compile(r"!\s*important\s*$")
_TRANSLATE = re.compile(r"translate(?:x|y|3d)?\(([^)]*)\)")
_SCALE = re.compile(r"scale(?:x|y|3d)?\(([^)]*)\)")
_INSET = re.compile(r"^inset\(\s*(\d+\.?\d*)%")
_NO_SHAPE = re.compile(r"^(?:circle|ellipse)\(\s*0(?:px|%)?[\s)]")


def _unescape(text: str) -> str:
    """CSS escapes (``disp\\lay``, ``\\6e one``) spell the same property and value."""

    def char(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return match.group(2)

    return _ESCAPE.sub(char, text)


def _declarations(style: str) -> list[str]:
    """Split on ``;`` outside quotes and parentheses (``url("a;b")`` is one value)."""
    out: list[str] = []
    current: list[str] = []
    quote = ""
    depth = 0
    for ch in style:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ";" and depth == 0:
            out.append("".join(current))
            current = []
            continue
        current.append(ch)
    out.append("".join(current))
    return out


def parse_style(style: str) -> dict[str, str]:
    """``{property: value}`` as a browser applies an inline style: names and keywords in
    lower case, whitespace collapsed, the last declaration of a property winning unless
    an earlier one is ``!important``."""
    winners: dict[str, tuple[bool, str]] = {}
    for declaration in _declarations(_COMMENT.sub(" ", style)):
        name, colon, value = declaration.partition(":")
        name = _unescape(name).strip().lower()
        if not colon or not name:
            continue
        value = " ".join(_unescape(value).lower().split())
        important = bool(_IMPORTANT.search(value))
        value = _IMPORTANT.sub("", value).strip()
        if not value:
            continue
        if winners.get(name, (False, ""))[0] and not important:
            continue  # an !important declaration beats later ordinary ones
        winners[name] = (important, value)
    return {name: value for name, (_, value) in winners.items()}


def length_px(value: str) -> float | None:
    """A CSS length in (approximate) CSS pixels; None for anything else (``auto``)."""
    match = _LENGTH.match(value.strip())
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if number == 0:
        return 0.0
    if unit not in _PX_PER:
        return None
    return number * _PX_PER[unit]


def _at_most(value: str | None, limit: float) -> bool:
    px = length_px(value) if value is not None else None
    return px is not None and px <= limit


def _clipped_away(style: dict[str, str]) -> bool:
    """``clip: rect(…)`` with no area (on a positioned box), ``clip-path`` with none."""
    clip = style.get("clip", "")
    if clip.startswith("rect(") and style.get("position") in ("absolute", "fixed"):
        edges = [length_px(v) for v in re.split(r"[\s,]+", clip[5:].rstrip(")").strip())]
        if len(edges) == 4 and None not in edges:
            top, right, bottom, left = (e or 0.0 for e in edges)
            if bottom - top <= TINY_PX or right - left <= TINY_PX:
                return True
    path = style.get("clip-path", "")
    inset = _INSET.match(path)
    if inset and float(inset.group(1)) >= 50:  # insets of half the box from each side
        return True
    return bool(_NO_SHAPE.match(path))


def _offscreen(style: dict[str, str]) -> bool:
    """Moved out of view: a positioned box far to the left or above, a first line
    indented past the left edge, or a transform that translates it away."""
    far = -OFFSCREEN_PX
    positioned = style.get("position") in ("absolute", "fixed", "relative")
    if positioned and any(_at_most(style.get(side), far) for side in ("left", "top")):
        return True
    if any(_at_most(style.get(side), far) for side in ("margin-left", "margin-top")):
        return True
    if _at_most(style.get("text-indent"), far):
        return True
    for args in _TRANSLATE.findall(style.get("transform", "")):
        if any(_at_most(a, far) for a in args.split(",")):
            return True
    return False


def _tiny(style: dict[str, str]) -> bool:
    """At most 1px wide or tall with its overflow clipped: nothing legible shows."""
    overflow = (style.get(k, "").split(" ")[0] for k in ("overflow", "overflow-x", "overflow-y"))
    if not {"hidden", "clip"} & set(overflow):
        return False
    sizes = ("width", "height", "max-width", "max-height")
    return any(_at_most(style.get(k), TINY_PX) for k in sizes)


def hides_box(style: dict[str, str]) -> bool:
    """The element and everything in it are out of sight (no descendant can undo it)."""
    if style.get("display") == "none" or style.get("content-visibility") == "hidden":
        return True
    if _faint(style.get("opacity")) or _faint(_FILTER_OPACITY.search(style.get("filter", ""))):
        return True
    if _TRANSPARENT.fullmatch(style.get("color", "")):
        return True  # text drawn in no colour (a descendant's own colour is not looked for)
    scales = _SCALE.findall(style.get("transform", ""))
    if any(_faint(a) for args in scales for a in args.split(",")):
        return True
    return _clipped_away(style) or _offscreen(style) or _tiny(style)


def _faint(value: str | re.Match[str] | None) -> bool:
    """An opacity or scale (``0.01``, ``1%``, a ``filter: opacity(…)`` match) at most
    FAINT, negative scales included (a mirror image of nothing is nothing)."""
    if isinstance(value, re.Match):
        value = value.group(1)
    if value is None:
        return False
    value = value.strip()
    try:
        number = abs(float(value.removesuffix("%")))
    except ValueError:
        return False
    return number / 100 <= FAINT if value.endswith("%") else number <= FAINT


def _visibility(style: dict[str, str]) -> bool | None:
    value = style.get("visibility")
    return None if value is None else value not in ("hidden", "collapse")


def _font_shows(style: dict[str, str]) -> bool | None:
    """``font-size: 0`` hides text; a descendant shows it again only with an absolute
    size (``1em`` or ``100%`` of zero is still zero)."""
    value = style.get("font-size")
    if value is None:
        return None
    px = length_px(value)
    if px == 0.0:
        return False
    relative = value in ("smaller", "larger") or (
        value.endswith(("em", "%", "ex", "ch")) and not value.endswith("rem")
    )
    return None if relative else True


# Inherited properties: a descendant can make its own text visible again.
_INHERITED: tuple[Callable[[dict[str, str]], bool | None], ...] = (_visibility, _font_shows)


def drop_hidden(soup: BeautifulSoup) -> int:
    """Remove what inline styles hide from ``soup``; the number of elements hiding text."""
    styled = [(tag, parse_style(str(tag.get("style") or ""))) for tag in soup.find_all(style=True)]
    styles = {id(tag): style for tag, style in styled}
    dropped = 0
    for tag, style in styled:
        if tag.decomposed:
            continue
        if hides_box(style):
            tag.decompose()
            dropped += 1
            continue
        for shows in _INHERITED:
            if shows(style) is False and _drop_text(tag, shows, styles):
                dropped += 1
    return dropped


def _drop_text(
    tag: Tag, shows: Callable[[dict[str, str]], bool | None], styles: dict[int, dict[str, str]]
) -> bool:
    """Remove the text under ``tag`` that no descendant makes visible again."""
    removed = False
    for text in list(tag.find_all(string=True)):
        if not isinstance(text, NavigableString):
            continue
        node = text.parent
        visible = False
        while node is not None and node is not tag:
            verdict = shows(styles.get(id(node), {}))
            if verdict is not None:
                visible = verdict
                break
            node = node.parent
        if not visible:
            text.extract()
            removed = True
    return removed
