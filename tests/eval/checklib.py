"""What the evaluation sets' verifiers (tests/eval/<set>/check.py) have in common.

Every set is checked by its own stand-alone script: how its knowledge base is cut
into entries, what a question line points at and the set's counts and thresholds
stay there.  The rules the sets share are written here once, so that a fix reaches
all of them:

* reading JSON-lines files and reporting warnings and errors (`Report`, `read_jsonl`);
* record rules: exact field sets, unique values, word counts, the shape of a gold
  phrase, the `absent` terms of an out-of-scope question;
* line-by-line drivers for questions.jsonl, followups.jsonl and gate_answers.jsonl,
  which call back into the set for what only it knows;
* wording (content words, heading overlap) and the checks of cited gate answers;
* a small HTML tree and the Sphinx `<section>` model used by the Sphinx-built sets.

The scripts find this module in their parent folder and must run with any python3
outside the project's virtualenv: keep it stdlib-only, with no project imports.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Protocol

WS = re.compile(r"\s+")

QUESTION_FIELDS = ("id", "question", "kind", "source", "anchor", "heading", "gold")
OUT_OF_SCOPE_FIELDS = (*QUESTION_FIELDS, "absent")
FOLLOWUP_FIELDS = ("id", "first", "then", "target", "kind")
GATE_FIELDS = ("id", "faithful", "unsupported", "kind")
FOLLOWUP_KINDS = ("followup", "switch")
GATE_KINDS = ("number", "claim", "contradiction")
# Fields an out-of-scope line carries as null (when its set lists them at all).
NULL_WHEN_OUT = ("source", "anchor", "heading", "gold")
TAG_MODES = ("tags removed", "tags as spaces")


def collapse(text: str) -> str:
    """Whitespace runs as one space, ends trimmed: how KB text and phrases are compared."""
    return WS.sub(" ", text).strip()


# ---------------------------------------------------------------- reporting and files
class Report:
    """Warnings (printed, never fatal) and errors (exit status 1), in the order found."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def finish(self, *summary: str) -> int:
        """Print warnings, then errors, then the set's summary lines; return the exit status."""
        for message in self.warnings:
            print("WARN  " + message)
        for message in self.errors:
            print("ERROR " + message)
        for line in summary:
            print(line)
        return 1 if self.errors else 0


def read_jsonl(path: str, rep: Report, label: str | None = None) -> list[dict]:
    """The JSON objects of a JSON-lines file.

    A bad line is reported and skipped rather than fatal, so that one typo does not
    hide what the other lines break.  `label` names the file in messages (default:
    its base name).
    """
    name = label or os.path.basename(path)
    records: list[dict] = []
    if not os.path.isfile(path):
        rep.error(f"missing file {path}")
        return records
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                rep.error(f"{name}:{lineno}: empty line")
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                rep.error(f"{name}:{lineno}: invalid JSON ({e})")
                continue
            if not isinstance(record, dict):
                rep.error(f"{name}:{lineno}: not a JSON object")
                continue
            records.append(record)
    return records


def parse_args(
    doc: str,
    *,
    kb_default: str,
    kb_help: str | None,
    dump_help: str,
    data_dir: str | None = None,
    dir_help: str = "folder holding the .jsonl files",
) -> argparse.Namespace:
    """--kb, --dir (when the set's files may live elsewhere) and --dump.

    The description is the first line of the script's docstring.
    """
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--kb", default=kb_default, help=kb_help)
    if data_dir is not None:
        ap.add_argument("--dir", default=data_dir, help=dir_help)
    ap.add_argument("--dump", action="store_true", help=dump_help)
    return ap.parse_args()


def check_matches_original(rep: Report, path: str, original: str) -> None:
    """Where the Debian package is installed, the KB copy must equal its file byte for byte."""
    if not os.path.isfile(original) or os.path.realpath(original) == os.path.realpath(path):
        return
    with open(path, "rb") as a, open(original, "rb") as b:
        if a.read() != b.read():
            rep.error(f"KB file {path} differs from {original}")


# ---------------------------------------------------------------- record rules
def has_words(text: Any, least: int, most: int | None = None) -> bool:
    """text is a string of least..most whitespace-separated words."""
    if not isinstance(text, str):
        return False
    n = len(text.split())
    return least <= n and (most is None or n <= most)


def check_fields(rep: Report, where: str, record: dict, fields: Sequence[str]) -> None:
    """A line carries exactly the documented fields: a missing or stray one is an error."""
    if sorted(record) != sorted(fields):
        rep.error(f"{where}: fields must be exactly {list(fields)}, got {sorted(record)}")


def repeated(values: Iterable[Hashable]) -> list[tuple[Any, int]]:
    """The values that occur more than once, with their counts, in first-seen order."""
    return [(value, n) for value, n in Counter(values).items() if n > 1]


def check_unique(
    rep: Report, label: str, what: str, values: Iterable[Hashable], *, quote: bool = False
) -> None:
    """Each repeated value is an error ('questions: duplicate gold ...')."""
    for value, _ in repeated(values):
        shown = repr(value) if quote else str(value)
        rep.error(f"{label}: duplicate {what} {shown}")


def check_unique_questions(
    rep: Report,
    records: list[dict],
    question_key: Callable[[str], str] = lambda q: collapse(q.lower()),
) -> None:
    """No id, question (compared as question_key makes it) or gold phrase twice."""
    check_unique(rep, "questions", "id", [r.get("id") for r in records])
    check_unique(
        rep,
        "questions",
        "question",
        [question_key(r.get("question") or "") for r in records],
        quote=True,
    )
    golds = [r["gold"] for r in records if r.get("gold")]
    check_unique(rep, "questions", "gold", golds, quote=True)


def check_minimums(rep: Report, label: str, wanted: Sequence[tuple[str, int, int]]) -> None:
    """wanted holds (what, got, least); one error names every minimum when one is missed."""
    if any(got < least for _, got, least in wanted):
        need = " and ".join(f">= {least} {what}" for what, _, least in wanted)
        got = " / ".join(str(got) for _, got, _ in wanted)
        rep.error(f"{label}: need {need}, got {got}")


def check_per_entry(rep: Report, uses: Mapping[str, int], most: int) -> None:
    """Questions spread over the KB: at most `most` on one entry (keys are entry labels)."""
    for label, n in uses.items():
        if n > most:
            rep.error(f"questions: {n} questions on {label} (max {most})")


def check_gold_shape(rep: Report, where: str, gold: Any) -> bool:
    """A gold phrase is 4-10 plain ASCII words.

    Returns False when it is no usable phrase, so that the caller skips the
    occurrence checks that would only repeat the error.
    """
    if not has_words(gold, 4, 10):
        rep.error(f"{where}: gold must be 4-10 words: {gold!r}")
        return False
    if not gold.isascii():
        rep.error(f"{where}: gold must be plain ASCII: {gold!r}")
    return True


def check_gold_in(
    rep: Report, where: str, gold: str, place: str, tags_removed: str, tags_as_spaces: str
) -> None:
    """The gold phrase is in its entry's answer text, with tags removed and as spaces.

    A page's words may be joined or split around inline tags depending on how it
    is rendered; a phrase found in only one form would be a coin toss.
    """
    for mode, text in ((TAG_MODES[0], tags_removed), (TAG_MODES[1], tags_as_spaces)):
        if gold not in text:
            rep.error(f"{where}: gold {gold!r} not in {place} ({mode})")


def whole_word(term: str, lowered: str, *, hyphen_in_words: bool = True) -> bool:
    """term (any case) occurs in the lower-case text `lowered` as a whole word.

    By default a hyphen counts as part of a word, so 'sync' is not found in
    're-sync'; with hyphen_in_words=False it is.
    """
    edge = r"[\w-]" if hyphen_in_words else r"\w"
    return re.search(rf"(?<!{edge}){re.escape(term.lower())}(?!{edge})", lowered) is not None


# ---------------------------------------------------------------- questions.jsonl
def check_out_of_scope(
    rep: Report,
    where: str,
    record: dict,
    question: str,
    *,
    fields: Sequence[str],
    kb_places: Sequence[tuple[str, str]],
    hyphen_in_words: bool = True,
) -> None:
    """An out-of-scope line names 1-3 `absent` terms: none in the KB, one in the question.

    That is what makes it out of scope by construction.  kb_places holds
    (lower-case text, name used in messages), searched in order.
    """
    check_fields(rep, where, record, fields)
    for k in NULL_WHEN_OUT:
        if k in fields and record.get(k) is not None:
            rep.error(f"{where}: out_of_scope must have {k} = null")
    absent = record.get("absent")
    if (
        not isinstance(absent, list)
        or not 1 <= len(absent) <= 3
        or not all(isinstance(t, str) and t.strip() for t in absent)
    ):
        rep.error(f"{where}: absent must be a list of 1-3 terms")
        return
    for term in absent:
        for text, place in kb_places:
            if whole_word(term, text, hyphen_in_words=hyphen_in_words):
                rep.error(f"{where}: absent term {term!r} occurs in {place}")
                break
    lowered = question.lower()
    if not any(whole_word(t, lowered, hyphen_in_words=hyphen_in_words) for t in absent):
        rep.error(f"{where}: none of the absent terms {absent} is in the question")


def check_question_lines(
    rep: Report,
    records: list[dict],
    *,
    on_in_scope: Callable[[dict, str, str], None],
    kb_places: Sequence[tuple[str, str]],
    where: Callable[[Any], str] = str,
    prefix: str | None = None,
    max_words: int = 35,
    in_scope_first: bool = True,
    out_fields: Sequence[str] = OUT_OF_SCOPE_FIELDS,
    hyphen_in_words: bool = True,
) -> Counter:
    """The rules every question line shares; the set checks its in-scope lines itself.

    Ids run prefix-001, prefix-002, ... in file order (unless prefix is None), the
    question is 3..max_words words, kind is in_scope or out_of_scope (out-of-scope
    lines last when in_scope_first), fields are exact.  on_in_scope(record, where,
    question) is called for each in-scope line whose question is well formed.
    Returns the count of each kind.
    """
    seen_out = False
    for i, r in enumerate(records, 1):
        w = where(r.get("id"))
        if prefix is not None and r.get("id") != f"{prefix}-{i:03d}":
            rep.error(f"{w}: expected id {prefix}-{i:03d} at line {i}")
        question = r.get("question")
        if not has_words(question, 3, max_words):
            rep.error(f"{w}: question missing or not 3-{max_words} words")
            continue
        kind = r.get("kind")
        if kind == "out_of_scope":
            seen_out = True
            check_out_of_scope(
                rep,
                w,
                r,
                question,
                fields=out_fields,
                kb_places=kb_places,
                hyphen_in_words=hyphen_in_words,
            )
            continue
        if kind != "in_scope":
            rep.error(f"{w}: kind must be in_scope or out_of_scope")
            continue
        if in_scope_first and seen_out:
            rep.error(f"{w}: in_scope line after an out_of_scope line")
        check_fields(rep, w, r, QUESTION_FIELDS)
        on_in_scope(r, w, question)
    return Counter(r.get("kind") for r in records)


# ---------------------------------------------------------------- wording
# Words that say nothing about a topic; each set adds its product's names.
STOP_WORDS = frozenset(
    """a an the and or of to in on for with by at from as is are was were be been being
    it its this that these those i me my we you your he she they them do does did done
    can could would should will shall may might must how what why when where which who
    whom whose there here not no yes if then than so but about into out up down over
    under again any some all each more most other such only own same too very just also
    get got have has had having one use using used way ways make s t don doesn isn aren
    what's it's i'm can't won't""".split()  # noqa: SIM905 - a word list reads best as text
)


@dataclass(frozen=True)
class Wording:
    """How a set cuts a question or heading into content words.

    Tokens are runs of `token` in the lower-cased text (after `quotes` become
    "'"), trimmed of `strip`; a token made only of strip and `junk` characters,
    or a stop word, does not count.  The defaults are those of borg, curl and
    restic; the other sets pass their own so their warnings stay as they were.
    """

    stop: frozenset[str]
    token: str = r"[a-z0-9_+#./$'-]+"
    strip: str = ".-'/"
    quotes: str = "\u2019\u2018"
    junk: str = ""

    def words(self, text: str) -> list[str]:
        text = text.lower()
        for quote in self.quotes:
            text = text.replace(quote, "'")
        out = []
        for token in re.findall(self.token, text):
            word = token.strip(self.strip)
            if token.strip(self.strip + self.junk) and word not in self.stop:
                out.append(word)
        return out


@dataclass
class Overlap:
    """What a question shares with its entry's heading (both as content words)."""

    shared: list[str]
    bigrams: list[str]
    fraction: float  # of the heading's distinct content words found in the question


def adjacent_pairs(words: Sequence[str]) -> set[tuple[str, str]]:
    """Each word with the next (itertools.pairwise is younger than some python3s)."""
    return {(words[i], words[i + 1]) for i in range(len(words) - 1)}


def overlap(question_words: Sequence[str], heading_words: Sequence[str]) -> Overlap:
    """Shared words, shared adjacent word pairs, and the share of heading words reused.

    A question that parrots its heading is too easy for retrieval; this measures it.
    """
    qw, hw = list(question_words), list(heading_words)
    shared = sorted(set(hw) & set(qw))
    pairs = adjacent_pairs(hw) & adjacent_pairs(qw)
    fraction = len(shared) / len(set(hw)) if hw else 0.0
    return Overlap(shared, sorted(" ".join(p) for p in pairs), fraction)


def overlap_note(ov: Overlap) -> str | None:
    """The warning text of git and nimbus: shared word pairs, or over half the heading."""
    if ov.bigrams or ov.fraction > 0.5:
        pairs = f" bigrams {ov.bigrams}" if ov.bigrams else ""
        return f"shares heading words {ov.shared}{pairs}"
    return None


def check_question_wording(
    rep: Report,
    where: str,
    question: str,
    gold: str,
    *,
    title: str | None,
    heading: str | None,
    overlap_heading: str,
    words: Wording,
) -> None:
    """borg, curl and restic: the question must not give its answer away.

    Containing the gold phrase is a warning; containing the title, or reusing more
    than half of the heading's content words, is an error; shared word pairs are a
    warning.  heading is shown in messages, overlap_heading is what is measured.
    """
    if gold.lower() in question.lower():
        rep.warn(f"{where}: question contains its gold phrase")
    if title and title.lower().rstrip("?!. ") in question.lower():
        rep.error(f"{where}: question copies the heading")
    ov = overlap(words.words(question), words.words(overlap_heading))
    if ov.fraction > 0.5:
        rep.error(
            f"{where}: question reuses {100 * ov.fraction:.0f}% of heading content words"
            f" {ov.shared}"
        )
    elif ov.bigrams:
        rep.warn(f"{where}: shares heading word pairs {ov.bigrams} | Q: {question} | H: {heading}")


def repeat_note(
    words: Callable[[str], Iterable[str]],
    template: str = "`then` repeats words of `first`: {shared}",
) -> Callable[[str, str], str | None]:
    """A follow-up's warning when `then` repeats content words of `first`.

    A follow-up should lean on the conversation, not restate the first question.
    template may use {shared}, {first} and {then}.
    """

    def note(first: str, then: str) -> str | None:
        shared = sorted(set(words(first)) & set(words(then)))
        return template.format(shared=shared, first=first, then=then) if shared else None

    return note


# ---------------------------------------------------------------- followups.jsonl
def check_followup_lines(
    rep: Report,
    records: list[dict],
    *,
    prefix: str,
    targets: Collection[Any],
    where: Callable[[Any], str] = str,
    min_words: int = 2,
    target_what: str = "an in_scope id",
    repeats: Callable[[str, str], str | None] | None = None,
    ids_in_order: bool = True,
) -> Counter:
    """Two-message conversations: exact fields, ids by kind, a real in-scope target.

    Ids are <prefix>fu-NN for followups and <prefix>sw-NN for switches, numbered
    01, 02, ... in file order within their kind; with ids_in_order=False (git)
    each kind's numbers only have to be 01..N in any order.  `first` and `then`
    have at least min_words words.  repeats(first, then) may return a warning for
    a followup.  Returns the count of each kind.
    """
    check_unique(rep, "followups", "id", [r.get("id") for r in records])
    counts: Counter = Counter()
    for r in records:
        rid = r.get("id")
        w = where(rid)
        check_fields(rep, w, r, FOLLOWUP_FIELDS)
        kind = r.get("kind")
        if kind in FOLLOWUP_KINDS:
            counts[kind] += 1
            tag = f"{prefix}{'fu' if kind == 'followup' else 'sw'}"
            if ids_in_order:
                if rid != f"{tag}-{counts[kind]:02d}":
                    rep.error(f"{w}: expected id {tag}-{counts[kind]:02d}")
            elif not re.fullmatch(rf"{tag}-\d\d", str(rid)):
                rep.error(f"{w}: id does not match kind {kind}")
        else:
            rep.error(f"{w}: kind must be followup or switch")
        for k in ("first", "then"):
            if not has_words(r.get(k), min_words):
                rep.error(f"{w}: {k} missing or too short")
        if r.get("target") not in targets:
            rep.error(f"{w}: target {r.get('target')!r} is not {target_what}")
        first, then = r.get("first"), r.get("then")
        if kind == "followup" and repeats and isinstance(first, str) and isinstance(then, str):
            note = repeats(first, then)
            if note:
                rep.warn(f"{w}: {note}")
    if not ids_in_order:
        for kind in FOLLOWUP_KINDS:
            tag = f"{prefix}{'fu' if kind == 'followup' else 'sw'}"
            seq = sorted(str(r.get("id")) for r in records if r.get("kind") == kind)
            if seq != [f"{tag}-{i:02d}" for i in range(1, len(seq) + 1)]:
                rep.error(f"followups: {kind} ids not numbered 01..{len(seq):02d}")
    return counts


# ---------------------------------------------------------------- gate_answers.jsonl
def check_gate_lines(
    rep: Report,
    records: list[dict],
    *,
    targets: Mapping[Any, Any],
    check: Callable[[str, dict, Any], None],
    entry_of: Callable[[Any], str] | None = None,
    target_what: str = "an in_scope question",
) -> Counter:
    """Faithful/unsupported answer pairs: exact fields, kind, an in-scope question id.

    check(where, record, target) runs the set's checks of the two answers; target
    is targets[id], or None when the id names no in-scope question (it is an error
    already, the set decides what else it can check).  With entry_of, each entry
    (as labelled by entry_of(target)) may carry one line only.  Returns the count
    of each kind.
    """
    check_unique(rep, "gate", "id", [r.get("id") for r in records])
    entries: Counter = Counter()
    for r in records:
        rid = r.get("id")
        w = f"gate {rid}"
        check_fields(rep, w, r, GATE_FIELDS)
        if r.get("kind") not in GATE_KINDS:
            rep.error(f"{w}: bad kind {r.get('kind')!r}")
        target = targets.get(rid)
        if target is None:
            rep.error(f"{w}: id is not {target_what}")
        elif entry_of is not None:
            entries[entry_of(target)] += 1
        check(w, r, target)
    for label, n in entries.items():
        if n > 1:
            rep.error(f"gate: {n} lines on the same entry {label}")
    return Counter(r.get("kind") for r in records)


def by_name(counts: Mapping[Any, int]) -> dict[Any, int]:
    """counts in the order of their keys' names, for summary lines (a key may be None)."""
    return dict(sorted(counts.items(), key=lambda kv: str(kv[0])))


def check_gate_counts(rep: Report, lines: int, kinds: Counter, least: int, per_kind: int) -> None:
    """Enough gate lines, and enough of each kind for per-kind scores to mean something."""
    if lines < least or any(kinds[k] < per_kind for k in GATE_KINDS):
        rep.error(
            f"gate: need >= {least} lines and >= {per_kind} of each kind, got {lines} {dict(kinds)}"
        )


def answers_of(rep: Report, where: str, record: dict) -> Iterator[tuple[str, str]]:
    """(label, text) of each non-empty answer; an empty or missing one is an error."""
    for label in ("faithful", "unsupported"):
        text = record.get(label)
        if not isinstance(text, str) or not text.strip():
            rep.error(f"{where}: {label} missing")
            continue
        yield label, text


def check_cited(
    rep: Report,
    where: str,
    label: str,
    text: str,
    *,
    one_marker: bool = False,
    warn_uncited: bool = True,
) -> None:
    """1-4 sentences, each ending with ' [G].' (the citation the bot must give).

    one_marker: a sentence carries no other [G].  warn_uncited: a capital after
    a full stop inside a sentence hints at an uncited sentence (a warning only).
    """
    sentences = re.split(r"(?<=\[G\]\.)\s+", text.strip())
    if not 1 <= len(sentences) <= 4:
        rep.error(f"{where}: {label} has {len(sentences)} cited sentences (1-4)")
    for s in sentences:
        if not s.endswith(" [G]."):
            rep.error(f"{where}: {label} sentence does not end with ' [G].': {s!r}")
        if one_marker and s.count("[G]") != 1:
            rep.error(f"{where}: {label} sentence must carry exactly one [G], at its end: {s!r}")
        if warn_uncited and re.search(r"[.!?] [A-Z]", s[:-5]):
            rep.warn(f"{where}: {label} may hold an uncited sentence: {s!r}")


def check_no_markdown(rep: Report, where: str, label: str, text: str) -> None:
    """Answers are plain text: no '#' line start, no '**'."""
    if re.search(r"^#|\*\*", text, re.M):
        rep.error(f"{where}: {label} uses markdown")


TOKEN_RES = (
    re.compile(r"`([^`]+)`"),  # backticked span
    re.compile(r"(?<![\w-])(--[A-Za-z][\w-]*(?:=[^\s`,;)]+)?)"),  # --option[=value]
    re.compile(r"(?<![\w.])(\d+(?:[.,:]\d+)*[A-Za-z]*)(?![\w])"),  # numbers (with unit)
)
SHORT_OPTION_RE = re.compile(r"(?<![\w-])(-[A-Za-z])(?![\w-])")  # -X (curl)


def checkable_tokens(text: str, *, short_options: bool = False) -> list[str]:
    """Backticked spans, --options, numbers (and -X options): facts a checker can verify."""
    patterns = list(TOKEN_RES)
    if short_options:
        patterns.insert(2, SHORT_OPTION_RE)
    tokens = []
    for rx in patterns:
        for m in rx.finditer(text):
            token = m.group(1).rstrip(".,")
            if token:
                tokens.append(token)
    return tokens


def in_text(token: str, text: str, *, short_options: bool = False) -> bool:
    """token occurs in text, not as part of a longer word, number (or option)."""
    if short_options and re.match(r"^-[A-Za-z]$", token):
        return re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", text) is not None
    return re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text) is not None or (
        not token[:1].isalnum() and token in text
    )


def check_gate_tokens(
    rep: Report,
    where: str,
    record: dict,
    body: str,
    *,
    one_marker: bool = False,
    short_options: bool = False,
) -> None:
    """borg, curl and restic: the answers against the text of their entry.

    Both answers are cited sentence by sentence and differ.  Every number,
    option and backticked span of the faithful answer is in the entry; an
    unsupported answer of kind number brings at least one that is not, one of
    kind claim or contradiction none (its fault must be a claim, not a figure).
    """
    for label, text in answers_of(rep, where, record):
        check_cited(rep, where, label, text, one_marker=one_marker)
    faithful, unsupported = record.get("faithful"), record.get("unsupported")
    kind = record.get("kind")
    if not isinstance(faithful, str) or not isinstance(unsupported, str):
        return
    if faithful.strip() == unsupported.strip():
        rep.error(f"{where}: faithful and unsupported are identical")

    def missing(text: str) -> list[str]:
        tokens = checkable_tokens(text, short_options=short_options)
        return [t for t in tokens if not in_text(t, body, short_options=short_options)]

    missing_f, missing_u = missing(faithful), missing(unsupported)
    if missing_f:
        rep.error(f"{where}: faithful has numbers/options not in the entry: {missing_f}")
    if kind == "number" and not missing_u:
        rep.error(f"{where}: number kind but every number/option of `unsupported` is in the entry")
    if kind in ("claim", "contradiction") and missing_u:
        rep.error(
            f"{where}: {kind} kind but `unsupported` has numbers/options not in the entry:"
            f" {missing_u}"
        )
    lf, lu = len(faithful), len(unsupported)
    if lf and not 0.4 <= lu / lf <= 2.5:
        rep.warn(f"{where}: lengths differ a lot ({lf} vs {lu} chars)")


# ---------------------------------------------------------------- the three files at once
@dataclass(frozen=True)
class Limits:
    """A set's counts: the fewest lines of each sort, the most questions on one entry."""

    in_scope: int
    out_of_scope: int
    followups: int  # lines of followups.jsonl (or of kind followup: see check_set)
    switches: int
    gate: int
    gate_per_kind: int
    per_entry: int = 2


class Entries(Protocol):
    """A set's in-scope rules, as check_set uses them.

    Called for each in-scope question line like check_question_lines' on_in_scope,
    it checks the line against the KB and fills `in_scope` (id -> line, the valid
    targets) and `per_entry` (questions per entry label).
    """

    in_scope: dict[str, dict]
    per_entry: Counter

    def __call__(self, record: dict, where: str, question: str) -> None: ...

    def answer_text(self, record: dict) -> str | None:
        """The entry text a gate answer on this question line is checked against."""

    def label(self, record: dict) -> str:
        """The entry as named in messages (one gate line per entry)."""


@dataclass
class SetCounts:
    """What check_set counted, for the set's summary line."""

    question_kinds: Counter
    followups: int
    followup_kinds: Counter
    gates: int
    gate_kinds: Counter


def check_set(
    rep: Report,
    data_dir: str,
    entries: Entries,
    *,
    prefix: str,
    limits: Limits,
    words: Wording,
    kb_places: Sequence[tuple[str, str]],
    max_words: int = 35,
    out_fields: Sequence[str] = OUT_OF_SCOPE_FIELDS,
    followup_kind_only: bool = False,
    one_marker: bool = False,
    short_options: bool = False,
) -> SetCounts:
    """questions.jsonl, followups.jsonl and gate_answers.jsonl of borg, curl and restic.

    The three sets differ only in their KB (entries) and a few options: the
    question length, the fields of an out-of-scope line, whether the follow-up
    minimum counts all lines or only those of kind followup (followup_kind_only,
    curl), and the gate options of check_gate_tokens.
    """
    questions = read_jsonl(os.path.join(data_dir, "questions.jsonl"), rep)
    check_unique_questions(rep, questions)
    kinds = check_question_lines(
        rep,
        questions,
        on_in_scope=entries,
        kb_places=kb_places,
        where=lambda rid: f"questions {rid}",
        prefix=prefix,
        max_words=max_words,
        out_fields=out_fields,
    )
    check_per_entry(rep, entries.per_entry, limits.per_entry)
    check_minimums(
        rep,
        "questions",
        [
            ("in_scope", kinds["in_scope"], limits.in_scope),
            ("out_of_scope", kinds["out_of_scope"], limits.out_of_scope),
        ],
    )

    fus = read_jsonl(os.path.join(data_dir, "followups.jsonl"), rep)
    fu_kinds = check_followup_lines(
        rep,
        fus,
        prefix=prefix,
        targets=entries.in_scope,
        where=lambda rid: f"followups {rid}",
        repeats=repeat_note(words.words),
    )
    n_fu = fu_kinds["followup"] if followup_kind_only else len(fus)
    what = ("followup", "switch lines") if followup_kind_only else ("lines", "switches")
    least = [(what[0], n_fu, limits.followups), (what[1], fu_kinds["switch"], limits.switches)]
    check_minimums(rep, "followups", least)

    def check_answers(where: str, record: dict, question: dict | None) -> None:
        body = entries.answer_text(question) if question else None
        if body is not None:
            check_gate_tokens(
                rep, where, record, body, one_marker=one_marker, short_options=short_options
            )

    gates = read_jsonl(os.path.join(data_dir, "gate_answers.jsonl"), rep)
    gate_kinds = check_gate_lines(
        rep, gates, targets=entries.in_scope, check=check_answers, entry_of=entries.label
    )
    check_gate_counts(rep, len(gates), gate_kinds, limits.gate, limits.gate_per_kind)
    return SetCounts(kinds, len(fus), fu_kinds, len(gates), gate_kinds)


# ---------------------------------------------------------------- HTML
VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()  # noqa: SIM905
)
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


class Node:
    """An element of a parsed page: tag, attributes, children (Nodes and strings)."""

    __slots__ = ("attrs", "children", "parent", "tag")

    def __init__(self, tag: str, attrs: Iterable[tuple[str, str | None]], parent: Node | None):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children: list[Node | str] = []

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def iter(self) -> Iterator[Node]:
        """This node and all elements below it, in document order."""
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def kids(self) -> list[Node]:
        """The child elements (text left out)."""
        return [c for c in self.children if isinstance(c, Node)]


class TreeBuilder(HTMLParser):
    """A forgiving tree builder: an end tag closes up to its latest open match.

    Text inside the `ignore` elements (script and style by default) is dropped,
    since the bot never shows it.
    """

    def __init__(self, ignore: Collection[str] = ("script", "style")) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.stack = [self.root]
        self.ignore = ignore

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, attrs, self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.stack[-1].tag not in self.ignore:
            self.stack[-1].children.append(data)


def parse_html(markup: str, ignore: Collection[str] = ("script", "style")) -> Node:
    """The root of markup's element tree."""
    tb = TreeBuilder(ignore)
    tb.feed(markup)
    tb.close()
    return tb.root


def raw_text(node: Node, sep: str = "", skip: Callable[[Node], bool] | None = None) -> str:
    """Text below node, every tag replaced by sep, subtrees where skip(n) left out.

    Gold phrases are checked with sep "" and " " because a renderer may join or
    split the words around inline tags.
    """
    parts: list[str] = []

    def walk(n: Node) -> None:
        for c in n.children:
            if isinstance(c, str):
                parts.append(c)
            elif skip is None or not skip(c):
                parts.append(sep)
                walk(c)
                parts.append(sep)

    walk(node)
    return "".join(parts)


def text_of(node: Node, sep: str = "", skip: Callable[[Node], bool] | None = None) -> str:
    """raw_text with whitespace collapsed."""
    return collapse(raw_text(node, sep, skip))


def is_heading(node: Node) -> bool:
    return node.tag in HEADING_TAGS


def all_ids(root: Node) -> set[str]:
    """Every id and name below root: what an anchor may point at."""
    return {n.attrs[k] for n in root.iter() for k in ("id", "name") if n.attrs.get(k)}


# ---------------------------------------------------------------- Sphinx pages
def sphinx_sections(root: Node, *, with_rest: bool = True) -> dict[str, dict[str, str]]:
    """Each `<section id>` with a heading child: {id: heading, body, body_sp[, rest]}.

    heading is the heading's text without the permalink sign; body and body_sp
    are the section's own text (heading and nested sections left out) with tags
    removed and as spaces.  rest is the page's text outside that body (nested
    sections count as outside), where a gold phrase must not occur.
    """
    sections = {}
    for sec in root.iter():
        if sec.tag != "section" or "id" not in sec.attrs:
            continue
        head = next((c for c in sec.kids() if is_heading(c)), None)
        if head is None:
            continue

        def own(n: Node, head: Node = head) -> bool:
            return n is head or n.tag == "section"

        entry = {
            "heading": text_of(head, skip=lambda n: "headerlink" in n.classes()),
            "body": text_of(sec, "", own),
            "body_sp": text_of(sec, " ", own),
        }
        if with_rest:
            nested = [c for c in sec.iter() if c is not sec and c.tag == "section"]
            rest = []
            for sep in ("", " "):
                rest.append(text_of(root, sep, lambda n, sec=sec: n is sec))
                rest.extend(text_of(ns, sep) for ns in nested)
            entry["rest"] = "\n".join(rest)
        sections[sec.attrs["id"]] = entry
    return sections


def load_sphinx_page(path: str, *, with_rest: bool = True) -> dict[str, Any]:
    """One Sphinx page: raw HTML, anchors, sections and whole-page text (both modes)."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    root = parse_html(raw)
    return {
        "raw": raw,
        "anchors": all_ids(root),
        "sections": sphinx_sections(root, with_rest=with_rest),
        "text": text_of(root, "") + "\n" + text_of(root, " "),
    }


def load_sphinx_kb(folder: str, *, with_rest: bool = True) -> dict[str, dict] | None:
    """Every .html page of folder by file name, or None when there is no such folder."""
    if not os.path.isdir(folder):
        return None
    return {
        name: load_sphinx_page(os.path.join(folder, name), with_rest=with_rest)
        for name in sorted(os.listdir(folder))
        if name.endswith(".html")
    }


def dump_sphinx(kb: Mapping[str, dict]) -> None:
    """--dump: every section as the checker sees it."""
    for name, page in kb.items():
        for anchor, s in page["sections"].items():
            print(f"=== {name}#{anchor}\n# {s['heading']}\n{s['body']}\n")


class SphinxQuestions:
    """The in-scope rules of a set built from Sphinx pages (borg, restic).

    `anchor` is the id of a `<section>` with a heading in page `source`;
    `heading` is that heading's text; the gold phrase is in the section's own
    text in both tag modes and nowhere else in any page.  Call it for each
    in-scope line (check_question_lines' on_in_scope); it collects the valid
    targets (id -> line) and the questions per entry: an `Entries` for check_set.
    """

    def __init__(
        self, rep: Report, kb: Mapping[str, dict], words: Wording, *, unit: str, empty_note: str
    ) -> None:
        self.rep, self.kb, self.words = rep, kb, words
        self.unit, self.empty_note = unit, empty_note
        self.in_scope: dict[str, dict] = {}
        self.per_entry: Counter = Counter()

    def section(self, record: dict) -> dict | None:
        """The section a (valid) in-scope line points at."""
        page = self.kb.get(record.get("source"))
        return page["sections"].get(record.get("anchor")) if page else None

    def answer_text(self, record: dict) -> str | None:
        sec = self.section(record)
        return sec["body"] + "\n" + sec["body_sp"] if sec else None

    def label(self, record: dict) -> str:
        return f"{record.get('source')}#{record.get('anchor')}"

    def __call__(self, r: dict, where: str, question: str) -> None:
        rep, kb = self.rep, self.kb
        self.in_scope[r.get("id")] = r
        src, anchor, heading, gold = (r.get(k) for k in ("source", "anchor", "heading", "gold"))
        if src not in kb:
            rep.error(f"{where}: unknown source {src!r}")
            return
        if anchor is None:
            rep.error(f"{where}: every {self.unit} here has an id; anchor must not be null")
            return
        if anchor not in kb[src]["anchors"]:
            rep.error(f"{where}: anchor {anchor!r} is no id/name in {src}")
            return
        sec = kb[src]["sections"].get(anchor)
        if sec is None:
            rep.error(f"{where}: anchor {anchor!r} is not a section with a heading")
            return
        if not sec["body"]:
            rep.error(f"{where}: {anchor} {self.empty_note}")
        self.per_entry[self.label(r)] += 1
        if heading != sec["heading"]:
            rep.error(f"{where}: heading {heading!r} != actual {sec['heading']!r}")
        if not check_gold_shape(rep, where, gold):
            return
        place = f"answer text of {src}#{anchor}"
        check_gold_in(rep, where, gold, place, sec["body"], sec["body_sp"])
        if gold in sec["rest"]:
            rep.error(f"{where}: gold {gold!r} also occurs elsewhere in {src}")
        for other, page in kb.items():
            if other != src and gold in page["text"]:
                rep.error(f"{where}: gold {gold!r} also occurs in {other}")
        check_question_wording(
            rep,
            where,
            question,
            gold,
            title=heading,
            heading=heading,
            overlap_heading=heading or "",
            words=self.words,
        )
