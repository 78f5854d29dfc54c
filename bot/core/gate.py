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

    @property
    def min_support(self) -> float:
        return min((s.support for s in self.sentences), default=0.0)


def cited_numbers(text: str) -> list[int]:
    return [int(m) for m in CITATION.findall(text)]


def strip_citations(text: str) -> str:
    return re.sub(r"\s*\[\d{1,2}\]", "", text).strip()


def check(
    answer: str, passages: Sequence[Passage], min_support: float = DEFAULT_MIN_SUPPORT
) -> GateVerdict:
    """Judge ``answer`` against the retrieved ``passages`` (numbered from 1)."""
    numbers = cited_numbers(answer)
    cited = tuple(dict.fromkeys(numbers))
    if not strip_citations(answer):
        return GateVerdict(False, "empty_answer", cited)
    if not cited:
        return GateVerdict(False, "no_citation", cited)
    if any(n < 1 or n > len(passages) for n in cited):
        return GateVerdict(False, "unknown_citation", cited)
    passage_terms = {
        i + 1: set(content_terms(p.text + " " + p.title)) for i, p in enumerate(passages)
    }
    results: list[SentenceSupport] = []
    for paragraph in answer.split("\n"):
        sentences = split_sentences(paragraph)
        paragraph_cites = tuple(dict.fromkeys(cited_numbers(paragraph))) or cited
        for sentence in sentences:
            own = tuple(dict.fromkeys(cited_numbers(sentence))) or paragraph_cites
            terms = content_terms(strip_citations(sentence))
            if not terms:
                continue
            evidence: set[str] = set().union(*(passage_terms[n] for n in own))
            support = sum(t in evidence for t in terms) / len(terms)
            results.append(SentenceSupport(sentence, own, support))
    if any(r.support < min_support for r in results):
        return GateVerdict(False, "unsupported_sentence", cited, results)
    return GateVerdict(True, None, cited, results)
