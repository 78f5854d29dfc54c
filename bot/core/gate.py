"""The grounding gate: is an answer supported by the passages it cites?

Two checks, both measurable on their own (``check`` returns the evidence):

1. every ``[n]`` in the answer points at a passage that was retrieved;
2. every answer sentence is supported by the passages it cites (or, when the
   sentence carries no marker, by the passages cited in the rest of its
   paragraph): the share of its content terms found in those passages must reach
   ``min_support``, and each of its clauses of three content words or more must
   reach ``MIN_CLAUSE_SUPPORT`` (a claim added to a faithful sentence, "…, and then
   restart the browser", is outweighed by the sentence's other words but not by its
   own clause's); the facts it states (numbers, versions, options, code) must be the
   passages' own, and it must not contradict the passage sentence it restates
   (:mod:`bot.core.facts`, :mod:`bot.core.contradiction`).

Lexical support is deliberately strict: a cheap model that paraphrases freely
fails the gate and the question goes up the ladder, which is the point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core import contradiction, facts
from bot.core.text import content_terms, content_words, plain, split_sentences, stem_all
from bot.core.types import Passage

CITATION = re.compile(r"\[(\d{1,2})\]")
DEFAULT_MIN_SUPPORT = 0.7
MIN_CLAUSE_SUPPORT = 0.5  # half of a clause's own words, or it says something new
MIN_CLAUSE_TERMS = 3  # a shorter clause is judged with its sentence only
# Where a claim gets appended to a sentence ("…, and then restart the browser"). Not at
# ":" or a dash: what stands before those frames the sentence ("As the article
# explains: …") and claims nothing.
_ADDED = re.compile(
    r"\s*(?:;|,\s*(?:and|but|so|while|whereas|which|although|though)\b|\bbut\b)\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SentenceSupport:
    sentence: str
    cited: tuple[int, ...]
    support: float
    contradiction: str | None = None  # the cue (bot.core.contradiction) when it contradicts


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


_CODE = r"`[^`\n]*`"  # a code span: its "[2]" is code, its "#" line no sentence
_CODE_SPAN = re.compile(_CODE)
_CODE_LINE = re.compile(rf"(?:{_CODE}\s*)+")
# A code span, kept whole, or a citation marker with the space before it.
_MARKER = re.compile(rf"({_CODE})|\s*\[\d{{1,2}}\]")


def cited_numbers(text: str) -> list[int]:
    """The ``[n]`` markers of a text; ``[2]`` inside a code span (``squares[2]()``) is code."""
    return [int(m) for m in CITATION.findall(_CODE_SPAN.sub("", text))]


def strip_citations(text: str) -> str:
    """The text without its ``[n]`` markers (code spans are left as they are)."""
    return _MARKER.sub(lambda m: m.group(1) or "", text).strip()


def _dedupe(answer: str) -> str:
    """Drop sentences that repeat an earlier one (small models loop), keep the layout.

    A line of code is not a sentence: a ``#`` line may well come twice in a script. A
    dropped sentence's citation markers stay, on the sentence before it: they may be the
    answer's only ones."""
    seen: set[str] = set()
    cited: set[int] = set()  # the markers the kept text holds
    paragraphs = []
    for paragraph in answer.split("\n"):
        kept: list[str] = []
        for sentence in split_sentences(paragraph):
            key = " ".join(strip_citations(sentence).lower().split())
            if key and key in seen and not _CODE_LINE.fullmatch(key):
                _keep_markers(sentence, kept, cited)
                continue
            seen.add(key)
            cited.update(cited_numbers(sentence))
            kept.append(sentence)
        if kept or not paragraph.strip():
            paragraphs.append(" ".join(kept) if kept else paragraph)
    text = "\n".join(paragraphs)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _keep_markers(dropped: str, kept: list[str], cited: set[int]) -> None:
    """The markers of a dropped sentence that the kept text lacks, on the sentence before."""
    markers = [n for n in cited_numbers(dropped) if n not in cited]
    if not markers:
        return
    cited.update(markers)
    text = " ".join(f"[{n}]" for n in markers)
    if kept:
        kept[-1] = f"{kept[-1]} {text}"
    else:
        kept.append(text)


Related = contradiction.Related
"""``related(words, vocabulary)``: which of ``words`` have a close word in the passages (an
embedder's word similarity): a paraphrase's synonyms ("stress" for "emphasis")."""


class _Evidence:
    """What the retrieved passages (numbered from 1) offer a sentence as support."""

    def __init__(self, passages: Sequence[Passage], related: Related | None) -> None:
        self.terms = {
            i + 1: set(content_terms(p.text + " " + p.title)) for i, p in enumerate(passages)
        }
        self.text = {i + 1: " ".join(p.text.split()) for i, p in enumerate(passages)}
        self.raw = {i + 1: p.text for i, p in enumerate(passages)}
        self.titles = {i + 1: p.title for i, p in enumerate(passages)}
        self.related = related
        self._vocabulary: dict[tuple[int, ...], list[str]] = {}

    def support(self, sentence: str, numbers: tuple[int, ...], soft: bool = True) -> float:
        """Share of the sentence's content terms the passages hold; with ``related`` (and
        ``soft``), a term may be held by a close word instead."""
        terms = content_terms(sentence)
        evidence: set[str] = set().union(*(self.terms[n] for n in numbers))
        found = sum(t in evidence for t in terms)
        if soft and self.related is not None and found < len(terms):
            found += self._related(sentence, evidence, numbers)
        return found / len(terms) if terms else 1.0

    def _related(self, sentence: str, evidence: set[str], numbers: tuple[int, ...]) -> int:
        missing = [w for w in content_words(sentence) if stem_all([w])[0] not in evidence]
        if not missing or self.related is None:
            return 0
        if numbers not in self._vocabulary:  # once per passage set, not per sentence
            words = {w for n in numbers for w in content_words(self.raw[n])}
            self._vocabulary[numbers] = sorted(words)
        return len(set(missing) & self.related(missing, self._vocabulary[numbers]))

    def quotes(self, sentence: str, numbers: tuple[int, ...]) -> bool:
        """The sentence is the passages' own text (code marks aside)."""
        said = plain(sentence)
        return len(said) > 1 and any(said in self.text[n] for n in numbers)

    def facts_found(self, sentence: str, numbers: tuple[int, ...]) -> bool:
        # A heading states facts too ("E-2042: Storage quota exceeded").
        evidence = " ".join(f"{self.titles[n]}. {self.text[n]}" for n in numbers)
        return all(facts.stated(fact, sentence, evidence) for fact in facts.in_text(sentence))

    def contradiction(self, sentence: str, numbers: tuple[int, ...]) -> str | None:
        found = contradiction.find(sentence, [self.raw[n] for n in numbers], self.related)
        return found.cue if found else None


def check(
    answer: str,
    passages: Sequence[Passage],
    min_support: float = DEFAULT_MIN_SUPPORT,
    related: Related | None = None,
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
    evidence = _Evidence(passages, related)
    results: list[SentenceSupport] = []
    attributed: list[str] = []
    for paragraph in text.split("\n"):
        paragraph_cites = tuple(dict.fromkeys(cited_numbers(paragraph))) or cited
        out = []
        for sentence in split_sentences(paragraph):
            bare = strip_citations(sentence)
            own = tuple(dict.fromkeys(cited_numbers(sentence))) or paragraph_cites
            if content_terms(bare) and not own:
                # Nothing cited anywhere: attribute to the best-supporting passage.
                best = max(
                    evidence.terms, key=lambda n: evidence.support(bare, (n,), False), default=0
                )
                own = (best,) if best else ()
                sentence = f"{sentence} [{best}]" if best else sentence
            out.append(sentence)
            if content_terms(bare):
                results.append(_judge(bare, own, evidence))
        attributed.append(" ".join(out) if out else paragraph)
    if not cited:
        text = "\n".join(attributed)
        cited = tuple(dict.fromkeys(cited_numbers(text)))
        if not cited:
            return GateVerdict(False, "no_citation", cited, text=text)
    if any(r.contradiction for r in results):
        return GateVerdict(False, "contradiction", cited, results, text)
    if any(r.support < min_support for r in results):
        return GateVerdict(False, "unsupported_sentence", cited, results, text)
    return GateVerdict(True, None, cited, results, text)


def _judge(sentence: str, own: tuple[int, ...], evidence: _Evidence) -> SentenceSupport:
    if not own:
        return SentenceSupport(sentence, own, 0.0)
    if evidence.quotes(sentence, own):  # a quotation neither invents nor contradicts
        return SentenceSupport(sentence, own, 1.0)
    if not evidence.facts_found(sentence, own):
        return SentenceSupport(sentence, own, 0.0)
    cue = evidence.contradiction(sentence, own)
    support = evidence.support(sentence, own)
    for clause in _ADDED.split(" ".join(sentence.split())):
        if len(set(content_terms(clause))) >= MIN_CLAUSE_TERMS:
            held = evidence.support(clause, own)
            if held < MIN_CLAUSE_SUPPORT:
                support = min(support, held)
    return SentenceSupport(sentence, own, support, cue)
