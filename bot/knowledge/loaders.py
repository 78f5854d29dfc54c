"""Turn one file into sections: markdown, HTML, PDF, plain text, FAQ CSV.

Each loader returns a :class:`LoadedDocument` or raises a :class:`DocumentError`
subclass naming the file and the reason, so a batch can report it and go on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from bot.core.text import normalize_whitespace, slugify
from bot.core.types import Section
from bot.errors import CorruptDocument, EmptyDocument, UnsupportedDocument
from bot.knowledge.html_sections import parse_html
from bot.knowledge.text_sections import parse_text

MARKDOWN = {".md", ".markdown", ".mdx"}
HTML = {".html", ".htm", ".xhtml"}
PDF = {".pdf"}
TEXT = {".txt", ".text", ".rst"}
CSV = {".csv"}
SUPPORTED = MARKDOWN | HTML | PDF | TEXT | CSV

_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
_TITLE_RULE = re.compile(r"^\s*$|^\s*([=\-~*#])\1{2,}\s*$")  # blank, or an underline
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


@dataclass(frozen=True)
class LoadedDocument:
    source: str
    title: str
    sections: list[Section]


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED


def _decode(source: str, data: bytes) -> str:
    # Binary sniff: text files do not contain NUL bytes.
    if b"\x00" in data[:8192]:
        raise UnsupportedDocument(source, "binary content, not a text document")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorruptDocument(source, "text is neither UTF-8 nor Windows-1252")


def _title_from_name(source: str) -> str:
    stem = Path(source).stem.replace("_", " ").replace("-", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else source


def _from_html(source: str, html: str, fallback_title: str | None = None) -> LoadedDocument:
    page = parse_html(html)
    first_heading = next((s.heading_path[0] for s in page.sections if s.heading_path), None)
    title = fallback_title or first_heading or page.title or _title_from_name(source)
    sections: list[Section] = []
    for raw in page.sections:
        path = raw.heading_path or (title,)
        sections.append(Section(source, path, raw.anchor, raw.text))
    return LoadedDocument(source, title, sections)


def load_markdown(source: str, data: bytes) -> LoadedDocument:
    text = _decode(source, data)
    front_title: str | None = None
    match = _FRONT_MATTER.match(text)
    if match:
        text = text[match.end() :]
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "title" and value.strip():
                front_title = value.strip().strip("\"'")
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    seen: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            slug = slugify(inline.content)
            # GitHub's rule for repeated headings: slug, slug-1, slug-2, …
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            token.attrSet("id", slug if count == 0 else f"{slug}-{count}")
    html = md.renderer.render(tokens, md.options, {})
    # A front-matter title names the document and the text before its first heading.
    return _from_html(source, f"<html><body>{html}</body></html>", fallback_title=front_title)


def load_html(source: str, data: bytes) -> LoadedDocument:
    return _from_html(source, _decode(source, data))


def load_text(source: str, data: bytes) -> LoadedDocument:
    # Indentation tells code from prose and headings apart: kept until the cut.
    text = _decode(source, data).replace("\r\n", "\n").replace("\r", "\n")
    text = _LEADING_BLANK_LINES.sub("", text).rstrip()
    lines = text.split("\n", 2)
    # A short first line followed by a blank line (or underlined) is the document's title.
    if len(lines) >= 2 and 0 < len(lines[0].strip()) <= 80 and _TITLE_RULE.match(lines[1]):
        title, body = normalize_whitespace(lines[0]), lines[2] if len(lines) > 2 else ""
    else:
        title, body = _title_from_name(source), text
    sections = [
        Section(
            source,
            (title, *(normalize_whitespace(h) for h in part.heading_path)),
            None,
            normalize_whitespace(part.text),
        )
        for part in parse_text(body)
    ]
    return LoadedDocument(source, title, sections)


def load_pdf(source: str, data: bytes) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = [normalize_whitespace(page.extract_text() or "") for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or None
        outline = _flatten_outline(reader, reader.outline)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorruptDocument(source, f"cannot read PDF ({exc})") from exc
    title = str(meta_title).strip() if meta_title else _title_from_name(source)
    if not outline:
        sections = [
            Section(source, (title, f"Page {i + 1}"), f"page={i + 1}", text)
            for i, text in enumerate(pages)
            if text
        ]
        return LoadedDocument(source, title, sections)
    return LoadedDocument(source, title, _sections_from_outline(source, title, pages, outline))


def _flatten_outline(
    reader: object,
    outline: object,
    depth: int = 0,
) -> list[tuple[int, str, int]]:
    """(depth, title, page index) for every bookmark, in order."""
    out: list[tuple[int, str, int]] = []
    if not isinstance(outline, list):
        return out
    for item in outline:
        if isinstance(item, list):
            out.extend(_flatten_outline(reader, item, depth + 1))
            continue
        try:
            page = reader.get_destination_page_number(item)  # type: ignore[attr-defined]
        except Exception:  # noqa: S112 - a broken bookmark is skipped, the text is still read
            continue
        out.append((depth, str(item.title).strip(), int(page)))
    return out


def _sections_from_outline(
    source: str, title: str, pages: list[str], outline: list[tuple[int, str, int]]
) -> list[Section]:
    """Cut the page texts at each bookmark's title; text before the first stays untitled."""
    full = ""
    page_starts: list[int] = []
    for text in pages:
        page_starts.append(len(full))
        full += text + "\n\n"
    cuts: list[tuple[int, int, str, int]] = []  # (offset, depth, title, page)
    cursor = 0
    for depth, heading, page in outline:
        start = page_starts[page] if page < len(page_starts) else len(full)
        found = full.find(heading, max(start, cursor))
        offset = found if found >= 0 else max(start, cursor)
        cuts.append((offset, depth, heading, page))
        cursor = offset
    sections: list[Section] = []
    if cuts and full[: cuts[0][0]].strip():
        sections.append(Section(source, (title,), "page=1", full[: cuts[0][0]].strip()))
    stack: list[str] = []
    for i, (offset, depth, heading, page) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(full)
        body = full[offset:end]
        if body.startswith(heading):
            body = body[len(heading) :]
        del stack[depth:]
        stack.append(heading)
        body = normalize_whitespace(body)
        if body:
            path = tuple(stack) if stack[0] == title else (title, *stack)
            sections.append(Section(source, path, f"page={page + 1}", body))
    return sections


def load_faq_csv(source: str, data: bytes) -> LoadedDocument:
    text = _decode(source, data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    q_col = columns.get("question") or columns.get("q")
    a_col = columns.get("answer") or columns.get("a")
    if not q_col or not a_col:
        raise CorruptDocument(
            source,
            "an FAQ CSV needs a header row with 'question' and "
            f"'answer' columns (found: {list(columns)})",
        )
    cat_col = columns.get("category")
    title = _title_from_name(source)
    sections: list[Section] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            question = normalize_whitespace(row.get(q_col) or "")
            answer = normalize_whitespace(row.get(a_col) or "")
            if not question or not answer:
                continue
            slug = slugify(question)
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            category = normalize_whitespace(row.get(cat_col) or "") if cat_col else ""
            path = (title, category, question) if category else (title, question)
            sections.append(
                Section(source, path, slug if count == 0 else f"{slug}-{count}", answer)
            )
    except csv.Error as exc:
        raise CorruptDocument(source, f"malformed CSV ({exc})") from exc
    return LoadedDocument(source, title, sections)


LOADERS: dict[str, Callable[[str, bytes], LoadedDocument]] = {
    **dict.fromkeys(MARKDOWN, load_markdown),
    **dict.fromkeys(HTML, load_html),
    **dict.fromkeys(PDF, load_pdf),
    **dict.fromkeys(TEXT, load_text),
    **dict.fromkeys(CSV, load_faq_csv),
}


def load_document(source: str, data: bytes) -> LoadedDocument:
    """Parse ``data`` (the bytes of the file named ``source``) into sections."""
    loader = LOADERS.get(Path(source).suffix.lower())
    if loader is None:
        raise UnsupportedDocument(
            source, f"unsupported file type (supported: {', '.join(sorted(SUPPORTED))})"
        )
    if not data.strip():
        raise EmptyDocument(source, "the file is empty")
    doc = loader(source, data)
    doc = LoadedDocument(doc.source, doc.title, [s for s in doc.sections if s.text.strip()])
    if not doc.sections:
        raise EmptyDocument(source, "no text could be extracted")
    return doc
