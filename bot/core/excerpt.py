"""Which words of a passage answer the question: the extractive answerer's excerpt.

A quoted answer is only as good as what it keeps. Picking the best-scoring sentences
from anywhere in a section (what this replaced) dropped the command a sentence
introduced ("use the ``lsb_release -a`` command" lost its code block), spliced sentences
that were paragraphs apart into one, and could open with a bare "No." that reads as
the opposite of the passage once its question is not the customer's.

So the passage is read as *units* in reading order: prose sentences, list items (kept
with their marker) and fenced code blocks (kept whole; the loader fences ``<pre>``).
The excerpt is **one contiguous window** around the unit that best matches the
question: widened backwards while its first unit leans on the one before ("This
deletes…", a list item, a code block and the sentence before it) or to the
passage's start when that fits the budget (answers state their point first), forwards
over what the window's last sentence introduces (a sentence ending in ":" is followed by
its list or code), over the rest of its paragraph and on up to ``min_words`` (a code
block that nothing introduced only when it fits whole). A leading bare "Yes."/"No." is
dropped, and so is a last sentence whose list or code did not fit ("… follow these
steps:").

The unit that best matches is often the one that restates the customer's problem (the
error message, "by default Git uses vi"); what solves it comes after ("you can set
core.editor"). So the chat answer fills its budget forwards rather than stopping at a
paragraph's end, and a question word counts by how rare it is among the passage's
units: the product's name, in every sentence of the article, does not pick the anchor.
What the bot's previous answer already quoted is not the anchor of a follow-up's
excerpt: "and on the server side?" gets the next part of the article, not the same one.
Pure functions: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.text import content_terms, plain, split_paragraphs, split_sentences

FENCE = "```"
_ITEM = re.compile(r"^(?:[-*•]|\d{1,3}[.)])\s+")
_BARE_YES_NO = re.compile(r"^(?:yes|no|nope|yep|correct|right)\s*[.!]?$", re.IGNORECASE)
# A sentence that opens with one of these continues the one before it.
_LEANS_BACK = re.compile(
    r"^(?:this|that|these|those|it|its|they|them|such|however|but|so|then|also|otherwise|"
    r"instead|thus|therefore|here|there|in this case|in that case|for example|e\.g\.)\b",
    re.IGNORECASE,
)
MAX_CODE_LINES = 15
MAX_LEAD_IN = 30  # words of a code block's lead-in sentence that may pass the budget
POSITION_PRIOR = 0.15  # the opening sentence of an article often states the answer
SIMILARITY_WEIGHT = 1.0  # cosine of question and unit, beside the share of question terms


@dataclass(frozen=True)
class Unit:
    text: str
    kind: str  # sentence | item | code
    paragraph: int

    @property
    def words(self) -> int:
        # A code block is shown cut at MAX_CODE_LINES: only what is shown spends the budget.
        shown = self.text.split("\n")[:MAX_CODE_LINES] if self.kind == "code" else [self.text]
        return sum(len(line.split()) for line in shown)

    @property
    def introduces(self) -> bool:
        return self.kind != "code" and self.text.rstrip().endswith(":")


def units(passage: str) -> list[Unit]:
    """The passage in reading order: sentences, list items and whole code blocks."""
    out: list[Unit] = []
    code: list[str] | None = None
    paragraph = 0
    for block in split_paragraphs(passage.replace(FENCE, f"\n\n{FENCE}\n\n")):
        if block == FENCE:
            if code is not None:
                if code:
                    out.append(Unit("\n".join(code), "code", paragraph))
                code = None
            else:
                code = []
            paragraph += 1
            continue
        if code is not None:
            code.extend(line for line in block.split("\n") if line.strip())
            continue
        paragraph += 1
        for line in block.split("\n"):
            if _ITEM.match(line):
                out.append(Unit(line.strip(), "item", paragraph))
            else:
                out.extend(Unit(s, "sentence", paragraph) for s in split_sentences(line))
    if code:  # an unclosed fence: keep what it held
        out.append(Unit("\n".join(code), "code", paragraph))
    return out


def _scores(
    question: str,
    found: Sequence[Unit],
    similarity: Sequence[float] | None,
    shown: Sequence[bool],
) -> list[float]:
    wanted = set(content_terms(question))
    held = [set(content_terms(unit.text)) for unit in found]
    weight = _local_idf(wanted, held)
    # Over all the question's terms, those no unit holds included (they weigh the most):
    # normalising by the held ones only made the shared words outweigh the embedder's
    # similarity (borg's gold phrase 0.81 -> 0.73).
    total = sum(weight.values()) or 1.0
    scores = []
    for i, unit in enumerate(found):
        if shown[i]:  # the customer just read it: a follow-up wants what comes next
            scores.append(-0.5)
            continue
        overlap = sum(weight[t] for t in wanted & held[i]) / total
        meaning = similarity[i] if similarity is not None else 0.0
        score = overlap + SIMILARITY_WEIGHT * meaning + POSITION_PRIOR / (1 + i)
        # A bare "No." answers nothing by itself: never the unit a window is built on.
        scores.append(-1.0 if _BARE_YES_NO.match(unit.text) else score)
    return scores


def _local_idf(wanted: set[str], held: Sequence[set[str]]) -> dict[str, float]:
    """Each question term's weight within this passage: a word every unit holds (the
    product's name, the article's topic) says nothing about which unit answers."""
    n = len(held)
    return {t: math.log((n + 1) / (sum(t in terms for terms in held) + 0.5)) for t in wanted}


def choose(
    question: str,
    found: Sequence[Unit],
    max_words: int,
    min_words: int = 0,
    similarity: Sequence[float] | None = None,
    shown: str = "",
) -> list[Unit]:
    """One contiguous window of ``found`` (see the module docstring). ``similarity``: the
    question's semantic similarity to each unit (an embedder's cosine), when there is one;
    ``shown``: the bot's previous answer, whose units are not quoted again unless nothing
    else is left (a follow-up on the same article wants its next part)."""
    candidates = list(found)
    if not candidates:
        return []
    said = plain(shown).lower()
    repeated = [bool(said) and plain(u.text).lower() in said for u in candidates]
    scores = _scores(question, candidates, similarity, repeated)
    start = end = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    used = candidates[start].words

    def fits(unit: Unit) -> bool:
        return used + unit.words <= max_words or (unit.kind == "code" and used < max_words)

    # Backwards while the window's first unit leans on the one before it.
    while start > 0 and _leans_back(candidates[start], candidates[start - 1]):
        # A long code block still gets the (short) sentence that says what it is for.
        lead_in = (
            start == end
            and candidates[start].kind == "code"
            and candidates[start - 1].words <= MAX_LEAD_IN
        )
        if not (fits(candidates[start - 1]) or lead_in):
            break
        start -= 1
        used += candidates[start].words
    # An answer whose beginning fits in the budget with the best unit is quoted from its
    # beginning: FAQ answers state the point first ("Short answer: …").
    prefix = sum(u.words for u in candidates[:start])
    if start and used + prefix <= max_words and not any(repeated[:start]):
        start, used = 0, used + prefix
    # Forwards over what the window introduces and the rest of its paragraph, and on
    # while the window is short of ``min_words`` (what solves a problem follows the
    # sentence that states it), then backwards for the same reason: one stretch of text.
    while end + 1 < len(candidates):
        last, nxt = candidates[end], candidates[end + 1]
        follows = last.introduces or (nxt.kind != "sentence" and last.kind == nxt.kind)
        same_paragraph = nxt.paragraph == last.paragraph and nxt.kind == "sentence"
        # Filling up, a code block nobody introduced comes only whole within the budget.
        fill = used < min_words and (nxt.kind != "code" or used + nxt.words <= max_words)
        if not (follows or same_paragraph or fill) or not fits(nxt):
            break
        end += 1
        used += nxt.words
    while start > 0 and used < min_words and fits(candidates[start - 1]):
        if repeated[start - 1] and not repeated[start]:
            break
        start -= 1
        used += candidates[start].words
    window = list(candidates[start : end + 1])
    if len(window) > 1 and _BARE_YES_NO.match(window[0].text):
        window = window[1:]
    if len(window) > 1 and window[-1].introduces:
        window = window[:-1]  # "… follow these steps:" without its steps promises nothing
    return window


def _leans_back(unit: Unit, before: Unit) -> bool:
    if unit.kind == "sentence":
        return bool(_LEANS_BACK.match(unit.text)) or before.introduces
    if unit.kind == "code" and before.kind == "sentence":
        return True  # a command or an example means little without the sentence before it
    return before.introduces or before.kind == unit.kind  # a list or code from its start


def render(window: Sequence[Unit], with_code: bool = True) -> str:
    """The excerpt as the widget's markdown: sentences of a paragraph on one line, items
    one a line, code lines as inline code one a line (``with_code`` off: plain text)."""
    out: list[str] = []
    previous: Unit | None = None
    for unit in window:
        text = _code(unit.text) if unit.kind == "code" and with_code else unit.text
        if unit.kind != "sentence" and not with_code:
            text = _ITEM.sub("", text)
        if previous is None:
            out.append(text)
        elif (
            unit.kind == "sentence"
            and previous.kind == "sentence"
            and (unit.paragraph == previous.paragraph or not with_code)
        ):
            out.append(" " + text)
        else:
            out.append(("\n" if with_code else " ") + text)
        previous = unit
    return "".join(out)


def _code(block: str) -> str:
    lines = block.split("\n")[:MAX_CODE_LINES]
    return "\n".join(f"`{line}`" if "`" not in line else line for line in lines)
