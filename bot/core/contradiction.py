"""Contradictions written in the passage's own words.

"Debian's current su does not use PAM" shares nearly every word with the passage that
says su uses PAM, so a share-of-words check passes it, and so does an embedding (a
negated sentence sits next to its original). What gives it away is what changed between
the claim and the passage sentence it restates: a negation added or dropped, a word
swapped for its opposite ("before" → "after", "enabled" → "disabled"), a restriction
added ("only when…"), or an answer that opens "Yes," where the passage opens "No.".

So each clause of an answer sentence is aligned with the passage sentence that shares
the most of its content terms (at least two, and half of the clause's), and the two are
compared on those cues: a negation in one of them whose words the other states plainly
("does not use PAM" against "uses PAM"; with the gate's word similarity, a synonym
counts: "is needed" against "is not necessary"), a word whose opposite the other holds
(and not the word itself), a restriction the passage does not make ("only when"). A
preference turned round ("use sqlite3_prepare() instead of sqlite3_prepare_v2()" where
a passage sentence on the same thing says the reverse) contradicts too, whichever
sentence it aligns with. A clause that aligns with nothing is left to the support check.

A negation only counts as a flip when the two sentences differ in how many negations
they hold: "you wouldn't fsck a mounted filesystem" restates "you don't want to do that
while the filesystem is mounted" (one each), and "relies on testing rather than on
compiler warnings" restates "done by testing, not by compiler warnings" ("rather than",
"instead of" and "avoid" count as negations). What only looks like a negation is not
one: the value ``None`` in mid-sentence, "whether or not", "not only … but", a "no"
that answers ("In one go: no."), an option such as ``--not`` or anything in a code
span, and a negation in the condition of an "if …," (it states nothing about the
world). A negation passes through "attempt to"/"try to" to the verb it governs, and
past "either" ("isn't safe either" negates "safe"). Pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.text import STOPWORDS, content_terms, split_sentences, stem_all, words

_NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "nothing",
        "nobody",
        "nowhere",
        "neither",
        "nor",
        "without",
        "cannot",
        "unable",
        "can't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "won't",
        "wouldn't",
        "shouldn't",
        "couldn't",
        "mustn't",
        "needn't",
        "hasn't",
        "haven't",
        "hadn't",
    ]
)
# Opposites, as stems (both directions are checked). General English, not one domain's.
_OPPOSITES_TEXT = """
before after; always never; enable disable; enabled disabled; allow prevent; allow forbid;
allow block; increase decrease; more less; more fewer; faster slower; larger smaller;
bigger smaller; higher lower; local remote; same different; first last; required
optional; mandatory optional; public private; mutable immutable; encrypted unencrypted;
encrypted plaintext; safe unsafe; supported unsupported; possible impossible; true false;
include exclude; included excluded; automatic manual; automatically manually; online
offline; free paid; add remove; maximum minimum; older newer; inside outside; success
failure; succeed fail; accept reject; visible hidden; synchronous asynchronous; internal
external; permanent temporary; recommended discouraged; slow fast; upper lower; safe
dangerous; keep delete; keep remove; kept deleted; kept removed
"""
# A restriction that changes a claim's scope: "returns None only when …".
_RESTRICTION = re.compile(
    r"\b(?:only|solely|exclusively)\s+(?:when|if|for|after|before|while|in|on|with|by|to)\b",
    re.IGNORECASE,
)
_RESTRICTION_WORDS = frozenset(["only", "solely", "exclusively", "just", "merely", "unless"])
_SCOPE = 4  # a negation governs the next few words
# What a negation governs: the next content words, these verbs included.
_KEEP = frozenset(
    [
        "use",
        "used",
        "using",
        "uses",
        "need",
        "needs",
        "needed",
        "get",
        "gets",
        "make",
        "makes",
        "know",
    ]
)
# A word that closes a negated phrase and claims nothing: "isn't safe either" negates
# "safe". ("yet", "even", "actually" were measured too: each made a faithful "not yet
# processed" or "not actually deleted" a flip against a passage that states it plainly.)
_HEAD_FILLER = frozenset(["either"])
_MIN_SHARED = 2
Related = Callable[[Sequence[str], Sequence[str]], set[str]]
"""``related(words, vocabulary)``: which of ``words`` have a close word in ``vocabulary``."""
# Verbs that hand a negation on to the verb after "to": "does not attempt to record
# renames" negates recording.
_CATENATIVE = frozenset(["attempt", "attempts", "try", "tries", "bother", "mean", "seem"])
# Words that negate what follows without being a negation word ("avoid running it").
_NEGATING_VERBS = frozenset(["avoid", "avoids", "avoided", "avoiding"])
_NOT_PROSE = re.compile(
    r"`[^`\n]*`"  # a code span
    r"|(?<![\w-])--?[a-z][\w-]*"  # a command-line option (--not, -n)
    r"|\bor not\b|\bnot only\b"  # "whether or not", "not only … but": no polarity
    r"|\bno\b(?=\s*(?:[.,;:!?]|$))"  # "In one go: no.": an answer, not a negation
    r"|(?<=\w)\s+(?-i:None)\b"  # Python's None in mid-sentence: a value
    r"|^\s*(?:if|unless)\b[^,;:]*,"  # a leading condition: states nothing
    r"|(?<=[,;:]\s)(?:if|unless)\b[^,;:]*,",
    re.IGNORECASE,
)
# "Yes, …" / "No." opening an answer; "No fees at all", "No one …" are not answers.
_ANSWER = re.compile(r"\s*(yes|no)\s*(?:[,.!:;—–]|$)", re.IGNORECASE)
_RATHER = re.compile(r"\b(?:rather than|instead of)\b", re.IGNORECASE)
# "A instead of B": the two sides of a preference, each the word next to the connector.
# (Linear: no run of "-" or "." can be read two ways.)
_PREFERENCE = re.compile(
    r"(?<![\w.-])(\w[\w.-]*)[^\w\s]*\s+(?:rather than|instead of)\s+"
    r"(?:(?:the|a|an|your|its|their)\s+)?[^\w\s]*(\w[\w.-]*)",
    re.IGNORECASE,
)


def _pairs() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for pair in _OPPOSITES_TEXT.replace("\n", " ").split(";"):
        parts = pair.split()
        if len(parts) != 2:
            continue
        a, b = stem_all(parts)
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


_OPPOSITES = _pairs()
_CLAUSE = re.compile(r"\s*(?:[;:—–]|,\s*(?:but|and|so|while|whereas|which)\b|\bbut\b)\s*")


@dataclass(frozen=True)
class Contradiction:
    clause: str
    passage_sentence: str
    # negation | opposite:<a>/<b> | swapped:<a>/<b> | restriction:<word> | answer:<yes|no>/<no|yes>
    cue: str


def clauses(sentence: str) -> list[str]:
    """The sentence's clauses; one too short to align joins the one before it (a
    negation may sit in it: "…, but not edit it")."""
    out: list[str] = []
    # One space between words: the split's leading \s* would rescan a long run of
    # whitespace at every position of it (quadratic on a padded model answer).
    for part in _CLAUSE.split(" ".join(sentence.split())):
        if not part or not part.strip():
            continue
        if out and len(set(content_terms(part))) < _MIN_SHARED:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def _align(terms: set[str], sentences: Sequence[tuple[str, set[str]]]) -> str | None:
    best, best_shared = None, 0
    for text, found in sentences:
        shared = len(terms & found)
        if shared > best_shared:
            best, best_shared = text, shared
    if best is None or best_shared < _MIN_SHARED or best_shared * 2 < len(terms):
        return None
    return best


def find(
    sentence: str, passages: Sequence[str], related: Related | None = None
) -> Contradiction | None:
    """The first clause of ``sentence`` that contradicts its passage sentence, if any.
    ``related`` (the gate's word similarity) lets a negation flip over a synonym."""
    per_passage = [[(s, set(content_terms(s))) for s in split_sentences(p)] for p in passages]
    answered = _answered_otherwise(sentence, passages, per_passage)
    if answered is not None:
        return answered
    aligned_to = [pair for sentences in per_passage for pair in sentences]
    for clause in clauses(sentence):
        swapped = _swapped(clause, aligned_to)
        if swapped is not None:
            return swapped
        terms = set(content_terms(clause))
        if len(terms) < _MIN_SHARED:
            continue
        aligned = _align(terms, aligned_to)
        if aligned is None:
            continue
        cue = _cue(clause, aligned, related)
        if cue is not None:
            return Contradiction(clause, aligned, cue)
    return None


def _answered_otherwise(
    sentence: str,
    passages: Sequence[str],
    per_passage: Sequence[Sequence[tuple[str, set[str]]]],
) -> Contradiction | None:
    """ "Yes, …" where the passage that says the same thing opens "No." (or the reverse).
    A passage's particle answers its own question: it only counts when the rest of the
    sentence aligns with that passage. (Aligning with the passage's title, the question
    its "No." answers, was measured: "Yes — no credit card is required" restates "Is a
    credit card required? No." and was stopped.)"""
    said = _particle(sentence)
    if said is None:
        return None
    terms = set(content_terms(sentence))
    for text, sentences in zip(passages, per_passage, strict=True):
        given = _particle(text)
        if given is None or given == said:
            continue
        if _align(terms, sentences) is not None:
            return Contradiction(sentence, sentences[0][0], f"answer:{said}/{given}")
    return None


def _particle(text: str) -> str | None:
    """ "yes" or "no" when ``text`` opens by answering a yes/no question."""
    match = _ANSWER.match(text)
    return match.group(1).lower() if match else None


def _prose(text: str) -> list[str]:
    """The words of ``text`` that carry its polarity (code, options and conditions out)."""
    return words(_NOT_PROSE.sub(" ", text))


def _is_negation(token: str) -> bool:
    return token in _NEGATIONS or token.endswith("n't")


def _negations(tokens: Sequence[str], text: str) -> int:
    count = sum(_is_negation(t) or t in _NEGATING_VERBS for t in tokens)
    return count + len(_RATHER.findall(text))


def _cue(clause: str, aligned: str, related: Related | None = None) -> str | None:
    said, source = _prose(clause), _prose(aligned)
    if _negations(said, clause) != _negations(source, aligned) and (
        _flipped(said, source, related) or _flipped(source, said, related)
    ):
        return "negation"
    said, source = words(clause), words(aligned)
    said_stems, source_stems = set(stem_all(said)), set(stem_all(source))
    for stem in said_stems - source_stems:
        opposite = (_OPPOSITES.get(stem, set()) & source_stems) - said_stems
        if opposite:
            return f"opposite:{stem}/{min(opposite)}"
    restricted = _RESTRICTION.search(clause)
    if restricted and not _RESTRICTION_WORDS & set(source):
        return f"restriction:{restricted.group(0).lower()}"
    return None


def _swapped(clause: str, sentences: Sequence[tuple[str, set[str]]]) -> Contradiction | None:
    """ "A instead of B" where a passage sentence on the same thing says "B instead of A"
    (the sentence it restates may not be the one it shares most words with: "use X
    instead of Y" is often said twice), unless another one says "A instead of B" too."""
    said = _preferences(clause)
    if not said:
        return None
    terms = set(content_terms(clause))
    stated = [(text, found, _preferences(text)) for text, found in sentences]
    if any(said & preferred for _, _, preferred in stated):
        return None
    for text, found, preferred in stated:
        for a, b in sorted(said):
            others = terms - set(stem_all([a, b]))
            if (b, a) in preferred and len(others & found) >= _MIN_SHARED:
                return Contradiction(clause, text, f"swapped:{a}/{b}")
    return None


def _preferences(text: str) -> set[tuple[str, str]]:
    """(preferred, passed over) of each "A instead of B" / "A rather than B" in ``text``,
    as stems."""
    out = set()
    for match in _PREFERENCE.finditer(text):
        a, b = (w.lower().strip(".-") for w in match.groups())
        if a and b and a not in STOPWORDS and b not in STOPWORDS and a != b:
            out.add((stem_all([a])[0], stem_all([b])[0]))
    return out


def _negated_heads(tokens: Sequence[str]) -> list[tuple[str, ...]]:
    """For each negation, the words it negates: the next content words."""
    heads = []
    for i, token in enumerate(tokens):
        if not _is_negation(token):
            continue
        after = list(tokens[i + 1 :])
        while len(after) > 1 and after[0] in _CATENATIVE and after[1] == "to":
            after = after[2:]
        window = after[:_SCOPE]
        head: list[str] = []
        for t in window:
            if t in _HEAD_FILLER:
                if head:  # closes the negated phrase: what follows is not negated
                    break
                continue
            if t not in STOPWORDS or t in _KEEP:
                head.append(t)
        head = head[:2]
        if not head and (token in ("not", "cannot", "never") or token.endswith("n't")):
            # A verb's negation with no content word after it ("… that borg doesn't
            # have"): it negates what came before, the object of a relative clause
            # included ("control", not "borg"). "no more" negates nothing before it.
            head = [t for t in tokens[:i] if t not in STOPWORDS or t in _KEEP][-2:]
        if head:
            heads.append(tuple(head))
    return heads


def _irregular(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return len(short) >= 2 and len(long) == len(short) + 1 and long.startswith(short)


def _flipped(negating: Sequence[str], plain: Sequence[str], related: Related | None = None) -> bool:
    """``negating`` negates words that ``plain`` states without a negation before them
    (with ``related``, a close word counts: "not necessary" against "is needed")."""
    plain_stems = set(stem_all(plain))
    negated_in_plain = {s for head in _negated_heads(plain) for s in stem_all(head)}

    def stated(word: str) -> bool:
        # Irregular forms stem apart ("go"/"goe"): a shared start of 2+ letters counts.
        stem = stem_all([word])[0]
        same = {p for p in plain_stems if p == stem or _irregular(p, stem)}
        return bool(same) and not same & negated_in_plain

    heads = _negated_heads(negating)
    # A word the other side negates is not stated, by a synonym or otherwise.
    missing = sorted({w for head in heads for w in head if stem_all([w])[0] not in plain_stems})
    close: set[str] = set()
    if related is not None and missing:
        free = {
            w
            for w in plain
            if w not in STOPWORDS
            and not _is_negation(w)
            and stem_all([w])[0] not in negated_in_plain
        }
        close = related(missing, sorted(free))
    return any(all(stated(w) or w in close for w in head) for head in heads)
