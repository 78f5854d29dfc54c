"""The grounding gate: is an answer supported by the passages it cites?

Two checks, both measurable on their own (``check`` returns the evidence):

1. every ``[n]`` in the answer points at a passage that was retrieved;
2. every answer sentence is supported by the passages it cites (or, when the
   sentence carries no marker, by the passages cited in the rest of its
   paragraph): the share of its content terms found in those passages must reach
   ``min_support``.

Lexical support is deliberately strict: a cheap model that paraphrases freely
fails the gate and the question goes up the ladder, which is the point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.text import content_terms, split_sentences
from bot.core.types import Passage

CITATION = re.compile(r"\[(\d{1,2})\]")
# Numbers, dates, versions, prices and links are the facts a customer acts on and a
# small model invents most easily: each one must appear verbatim in the cited passages.
FACT = re.compile(r"https?://[^\s)\]>]+|\d+(?:[.,:/-]\d+)*")
DEFAULT_MIN_SUPPORT = 0.7


@dataclass(frozen=True)
class SentenceSupport:
    sentence: str
    cited: tuple[int, ...]
    support: float


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    reason: str | None  # None when passed; otherwise a short code
    cited: tuple[int, ...]  # passage numbers the answer cites, in order of first use
    sentences: list[SentenceSupport] = field(default_factory=list)
    text: str = ""  # the answer to show: repeats dropped, missing citations attributed

    @property
    def min_support(self) -> float:
        return min((s.support for s in self.sentences), default=0.0)


def cited_numbers(text: str) -> list[int]:
    return [int(m) for m in CITATION.findall(text)]


def strip_citations(text: str) -> str:
    return re.sub(r"\s*\[\d{1,2}\]", "", text).strip()


def _dedupe(answer: str) -> str:
    """Drop sentences that repeat an earlier one (small models loop), keep the layout."""
    seen: set[str] = set()
    paragraphs = []
    for paragraph in answer.split("\n"):
        kept = []
        for sentence in split_sentences(paragraph):
            key = " ".join(strip_citations(sentence).lower().split())
            if key and key in seen:
                continue
            seen.add(key)
            kept.append(sentence)
        if kept or not paragraph.strip():
            paragraphs.append(" ".join(kept) if kept else paragraph)
    text = "\n".join(paragraphs)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def check(
    answer: str, passages: Sequence[Passage], min_support: float = DEFAULT_MIN_SUPPORT
) -> GateVerdict:
    """Judge ``answer`` against the retrieved ``passages`` (numbered from 1).

    The verdict's ``text`` is the answer as the customer should see it: repeated
    sentences dropped and, when the model cited nothing at all, each sentence followed by
    the number of the passage that supports it best (small models forget the markers; a
    sentence no passage supports still fails).
    """
    text = _dedupe(answer)
    numbers = cited_numbers(text)
    cited = tuple(dict.fromkeys(numbers))
    if not strip_citations(text):
        return GateVerdict(False, "empty_answer", cited, text=text)
    if any(n < 1 or n > len(passages) for n in cited):
        return GateVerdict(False, "unknown_citation", cited, text=text)
    passage_terms = {
        i + 1: set(content_terms(p.text + " " + p.title)) for i, p in enumerate(passages)
    }

    passage_text = {i + 1: " ".join(p.text.split()) for i, p in enumerate(passages)}

    def support(terms: list[str], numbers: tuple[int, ...]) -> float:
        evidence: set[str] = set().union(*(passage_terms[n] for n in numbers))
        return sum(t in evidence for t in terms) / len(terms)

    def facts_found(sentence: str, numbers: tuple[int, ...]) -> bool:
        evidence = " ".join(passage_text[n] for n in numbers)
        return all(f.rstrip(".,;:") in evidence for f in FACT.findall(strip_citations(sentence)))

    results: list[SentenceSupport] = []
    attributed: list[str] = []
    for paragraph in text.split("\n"):
        sentences = split_sentences(paragraph)
        paragraph_cites = tuple(dict.fromkeys(cited_numbers(paragraph))) or cited
        out = []
        for sentence in sentences:
            terms = content_terms(strip_citations(sentence))
            own = tuple(dict.fromkeys(cited_numbers(sentence))) or paragraph_cites
            if terms and not own:
                # Nothing cited anywhere: attribute to the best-supporting passage.
                best = max(passage_terms, key=lambda n: support(terms, (n,)), default=None)
                own = (best,) if best is not None else ()
                sentence = f"{sentence} [{best}]" if best is not None else sentence
            out.append(sentence)
            if terms and own:
                score = support(terms, own) if facts_found(sentence, own) else 0.0
                results.append(SentenceSupport(sentence, own, score))
            elif terms:
                results.append(SentenceSupport(sentence, own, 0.0))
        attributed.append(" ".join(out) if out else paragraph)
    if not cited:
        text = "\n".join(attributed)
        cited = tuple(dict.fromkeys(cited_numbers(text)))
        if not cited:
            return GateVerdict(False, "no_citation", cited, text=text)
    if any(r.support < min_support for r in results):
        return GateVerdict(False, "unsupported_sentence", cited, results, text)
    return GateVerdict(True, None, cited, results, text)
