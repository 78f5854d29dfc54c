#!/usr/bin/env python3
"""Verify followups.jsonl and gate_answers.jsonl (this folder) against the Python FAQ.

Stdlib only. Re-runnable. Exit status 0 when everything passes, 1 otherwise.

Usage:
  python3 check.py [--kb DIR] [--questions FILE]
                   [--shared-followups FILE] [--shared-gate FILE] [--dir DIR]

Defaults: --kb /work/shared/eval/python-faq/kb,
          --questions /work/shared/eval/python-faq/questions.jsonl,
          --shared-followups / --shared-gate: followups.jsonl / gate_answers.jsonl
          next to --questions, --dir: the folder this script is in.

What is checked
  KB / questions
    * every KB file parses; every question line that a follow-up or gate line
      names is in_scope, its id is in py-001..py-048, its source file exists,
      its anchor is a section id in that file, its heading is that section's
      heading text, and its gold phrase is in that section's own text (tags
      removed and tags as spaces) and in no other section of the KB.
  followups.jsonl
    * valid JSON, exactly the fields id/first/then/target/kind;
    * ids unique, of the form pyfu-NN / pysw-NN with NN >= 21, prefix matches
      kind (fu -> followup, sw -> switch), no id that the shared followups.jsonl
      uses, no `first` or `then` copied from the shared file;
    * `target` names an in-scope line (see above);
    * `first` is answerable: FIRST_SOURCES below names the KB section that
      answers it, and that section must exist;
    * a switch's `then` targets a different section than its `first`;
    * counts: >= 22 lines, >= 7 switches, followups mostly on the same section
      as `first`, with some (>= 3) leading to a different section;
    * warning (not failure) when `then` of a followup repeats content words of
      its `first`.
  gate_answers.jsonl
    * valid JSON, exactly the fields id/faithful/unsupported/kind;
    * `id` names an in-scope line, is unique in this file and is not one the
      shared gate_answers.jsonl uses; kind in number/claim/contradiction;
    * counts: >= 27 lines, >= 9 of each kind;
    * both answers are 1-4 sentences, every sentence ends with " [G]." and
      nothing comes after the last one; no markdown headings; the two differ;
      their lengths are comparable;
    * faithful: every token with a digit (or a number word) occurs in the
      target section text or in the question; every called name `foo(`
      occurs in the section text;
    * unsupported, kind number: has at least one digit/number-word token that
      the section does not have; kind claim/contradiction: introduces no
      digit token the section lacks (its one bad claim is not a number);
    * warning (not failure) when the faithful answer copies 10+ consecutive
      words of the section (it should paraphrase).
"""

import argparse
import os
import re
import sys
from collections import Counter
from pathlib import Path

# The rules shared with the other sets live in ../checklib.py: found from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import checklib as cl

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_KB = "/work/shared/eval/python-faq/kb"
DEFAULT_Q = "/work/shared/eval/python-faq/questions.jsonl"
IN_SCOPE_MAX = 48  # py-001..py-048 are the in-scope question ids
MIN_FU_TOTAL, MIN_SWITCH, MIN_CROSS = 22, 7, 3
MIN_GATE_TOTAL, MIN_GATE_KIND = 27, 9
GATE_KINDS = cl.GATE_KINDS

# The KB section (file, anchor) that answers each conversation's `first`.
FIRST_SOURCES = {
    "pyfu-21": ("library.html", "none-of-my-threads-seem-to-run-why"),
    "pyfu-22": ("windows.html", "how-do-i-run-a-python-program-under-windows"),
    "pyfu-23": ("programming.html", "how-do-i-copy-an-object-in-python"),
    "pyfu-24": ("extending.html", "can-i-create-my-own-functions-in-c"),
    "pyfu-25": ("installed.html", "why-is-python-installed-on-my-machine"),
    "pyfu-26": (
        "programming.html",
        "i-want-to-do-a-complicated-sort-can-you-do-a-schwartzian-transform-in-python",
    ),
    "pyfu-27": (
        "programming.html",
        "what-is-the-most-efficient-way-to-concatenate-many-strings-together",
    ),
    "pyfu-28": (
        "programming.html",
        "why-am-i-getting-an-unboundlocalerror-when-the-variable-has-a-value",
    ),
    "pyfu-29": (
        "programming.html",
        "why-do-lambdas-defined-in-a-loop-with-different-values-all-return-the-same-result",
    ),
    "pyfu-30": (
        "programming.html",
        "when-i-edit-an-imported-module-and-reimport-it-the-changes-don-t-show-up-why-does-this-happen",
    ),
    "pyfu-31": ("library.html", "how-do-i-read-or-write-binary-data"),
    "pyfu-32": ("windows.html", "why-does-python-sometimes-take-so-long-to-start"),
    "pyfu-33": ("gui.html", "i-can-t-get-key-bindings-to-work-in-tkinter-why"),
    "pyfu-34": ("gui.html", "can-i-have-tk-events-handled-while-waiting-for-i-o"),
    "pyfu-35": ("general.html", "how-does-the-python-version-numbering-scheme-work"),
    "pyfu-36": ("extending.html", "how-can-i-execute-arbitrary-python-statements-from-c"),
    "pyfu-37": ("gui.html", "how-do-i-freeze-tkinter-applications"),
    "pyfu-38": ("design.html", "why-must-self-be-used-explicitly-in-method-definitions-and-calls"),
    "pysw-21": ("design.html", "why-does-python-use-indentation-for-grouping-of-statements"),
    "pysw-22": (
        "programming.html",
        "is-there-a-source-code-level-debugger-with-breakpoints-single-stepping-etc",
    ),
    "pysw-23": ("programming.html", "how-do-i-convert-a-string-to-a-number"),
    "pysw-24": ("library.html", "how-do-i-generate-random-numbers-in-python"),
    "pysw-25": ("gui.html", "what-gui-toolkits-exist-for-python"),
    "pysw-26": ("library.html", "how-do-i-access-the-serial-rs232-port"),
    "pysw-27": ("library.html", "how-do-i-send-mail-from-a-python-script"),
    "pysw-28": ("programming.html", "how-do-you-remove-duplicates-from-a-list"),
    "pysw-29": ("programming.html", "what-s-a-negative-index"),
    "pysw-30": ("programming.html", "how-can-i-create-a-stand-alone-binary-from-a-python-script"),
}

WORDS = cl.Wording(
    cl.STOP_WORDS
    - {"aren", "can't", "doesn", "don", "having", "isn", "s", "t", "ways", "what's", "won't"}
    | {
        "python",
        "ok",
        "really",
        "still",
        "thanks",
        "another",
        "thing",
        "though",
        "instead",
        "even",
    },
    token=r"[a-z0-9_+#'-]+",
    strip="'-",
    quotes="\u2019",
)
NUMWORDS = set(
    "zero two three four five six seven eight nine ten eleven twelve "  # noqa: SIM905
    "hundred thousand million half double twice".split()
)
STRIP = "()[]{},.;:!?\"'`"


def content_words(s):
    """Content words of 3+ letters, a plural 's' dropped."""
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in WORDS.words(s) if len(w) > 2}


def norm_dash(s):
    return s.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")


def num_tokens(s):
    """Whitespace tokens with a digit, plus number words, punctuation-stripped."""
    toks = set()
    for t in norm_dash(s).split():
        t2 = t.strip(STRIP)
        if any(ch.isdigit() for ch in t2):
            toks.add(t2)
        elif t2.lower() in NUMWORDS:
            toks.add(t2.lower())
    return toks


def called_names(s):
    return set(re.findall(r"([A-Za-z_][\w.]*)\(", s))


def split_sentences(s):
    """Sentences must each end with ' [G].'; returns (sentences, leftover)."""
    parts = s.split(" [G].")
    leftover = parts[-1].strip()
    sents = [p.strip() for p in parts[:-1]]
    return sents, leftover


class Targets:
    """The shared question lines that follow-up and gate lines point at, checked once each.

    A target must be an in-scope line py-001..py-048 whose source, anchor, heading
    and gold phrase agree with the KB (the gold phrase in its section only).
    """

    def __init__(self, rep, kb, questions, questions_path):
        self.rep, self.kb, self.questions, self.path = rep, kb, questions, questions_path
        self.checked = {}

    def sections_containing(self, phrase):
        return [
            (n, a)
            for n, secs in self.kb.items()
            for a, s in secs.items()
            if phrase in s["body"] or phrase in s["body_sp"]
        ]

    def key(self, qid):
        q = self.questions.get(qid) or {}
        return (q.get("source"), q.get("anchor"))

    def check(self, qid, where):
        """Validate the question line qid; return its KB section dict or None."""
        if qid in self.checked:
            return self.checked[qid]
        rep, kb = self.rep, self.kb
        sec = None
        m = re.fullmatch(r"py-(\d{3})", qid or "")
        q = self.questions.get(qid)
        if not m:
            rep.error(f"{where}: target/id {qid!r} is not of the form py-NNN")
        elif q is None:
            rep.error(f"{where}: {qid} is not a line of {self.path}")
        elif not 1 <= int(m.group(1)) <= IN_SCOPE_MAX:
            rep.error(f"{where}: {qid} is outside py-001..py-{IN_SCOPE_MAX:03d}")
        elif q.get("kind") != "in_scope":
            rep.error(f"{where}: {qid} is not an in_scope line")
        elif q.get("source") not in kb:
            rep.error(f"{where}: {qid} source {q.get('source')!r} not in KB")
        elif q.get("anchor") not in kb[q["source"]]:
            rep.error(f"{where}: {qid} anchor {q.get('anchor')!r} not in {q['source']}")
        else:
            sec = kb[q["source"]][q["anchor"]]
            if q.get("heading") != sec["heading"]:
                rep.error(f"{where}: {qid} heading {q.get('heading')!r} != KB {sec['heading']!r}")
            gold = q.get("gold") or ""
            if gold not in sec["body"] or gold not in sec["body_sp"]:
                rep.error(f"{where}: {qid} gold {gold!r} not in its section")
            others = [x for x in self.sections_containing(gold) if x != self.key(qid)]
            if others:
                rep.error(f"{where}: {qid} gold {gold!r} also in {others}")
        self.checked[qid] = sec
        return sec


def check_followups(rep, fus, kb, targets, shared_fu_recs, shared_fu):
    """Own ids from 21 on, no collision with the shared file, answerable `first`,
    followups mostly on the section of `first` and some leading elsewhere."""
    shared_fu_ids = {r.get("id") for r in shared_fu_recs}
    shared_texts = {
        cl.collapse((r.get(k) or "").lower()) for r in shared_fu_recs for k in ("first", "then")
    }
    kinds = Counter()
    same_entry = cross_entry = 0
    cl.check_unique(rep, "followups", "id", [r.get("id") for r in fus])
    for dup, _ in cl.repeated((r.get("first"), r.get("then")) for r in fus):
        rep.error(f"followups: duplicate conversation {dup!r}")
    for r in fus:
        rid = r.get("id")
        where = f"followups {rid}"
        cl.check_fields(rep, where, r, cl.FOLLOWUP_FIELDS)
        m = re.fullmatch(r"py(fu|sw)-(\d{2,})", rid or "")
        if not m:
            rep.error(f"{where}: id must be pyfu-NN or pysw-NN")
            continue
        if int(m.group(2)) < 21:
            rep.error(f"{where}: id number must be >= 21")
        if rid in shared_fu_ids:
            rep.error(f"{where}: id collides with shared {shared_fu}")
        kind = r.get("kind")
        if kind not in cl.FOLLOWUP_KINDS or (m.group(1) == "fu") != (kind == "followup"):
            rep.error(f"{where}: kind {kind!r} does not match the id prefix")
        kinds[kind] += 1
        first, then = r.get("first"), r.get("then")
        for k, v in (("first", first), ("then", then)):
            if not cl.has_words(v, 3):
                rep.error(f"{where}: {k} missing or shorter than 3 words")
            elif cl.collapse(v.lower()) in shared_texts:
                rep.error(f"{where}: {k} is copied from the shared followups")
        if not isinstance(first, str) or not isinstance(then, str):
            continue
        targets.check(r.get("target"), where)
        fs = FIRST_SOURCES.get(rid)
        if fs is None:
            rep.error(f"{where}: no FIRST_SOURCES entry (section answering `first`)")
            continue
        if fs[0] not in kb or fs[1] not in kb[fs[0]]:
            rep.error(f"{where}: FIRST_SOURCES {fs[0]}#{fs[1]} not in KB")
        same = fs == targets.key(r.get("target"))
        if kind == "switch" and same:
            rep.error(f"{where}: switch targets the section that answers `first`")
        if kind == "followup":
            if same:
                same_entry += 1
            else:
                cross_entry += 1
            shared = content_words(first) & content_words(then)
            if shared:
                rep.warn(f"{where}: `then` repeats words of `first`: {sorted(shared)}")
    cl.check_minimums(
        rep,
        "followups",
        [("lines", len(fus), MIN_FU_TOTAL), ("switches", kinds["switch"], MIN_SWITCH)],
    )
    if cross_entry < MIN_CROSS or same_entry <= cross_entry:
        rep.error(
            f"followups: want most followups on the same section as `first` and >= {MIN_CROSS}"
            f" leading elsewhere; got same={same_entry} cross={cross_entry}"
        )
    return kinds, same_entry, cross_entry


def check_answer_pair(rep, where, fa, un):
    """Both answers 1-4 sentences, each ending ' [G].', plain text, comparable length."""
    if fa.strip() == un.strip():
        rep.error(f"{where}: faithful == unsupported")
    for label, ans in (("faithful", fa), ("unsupported", un)):
        sents, leftover = split_sentences(ans)
        if leftover:
            rep.error(f"{where}: {label} has text after the last ' [G].': {leftover!r}")
        if not 1 <= len(sents) <= 4:
            rep.error(f"{where}: {label} has {len(sents)} sentences (want 1-4)")
        for s in sents:
            if not s:
                rep.error(f"{where}: {label} has an empty sentence")
            elif "[G]" in s:
                rep.error(f"{where}: {label} has [G] mid-sentence: {s!r}")
        if re.search(r"(^|\n)\s*#", ans) or "**" in ans.replace("n**2", "").replace("x**2", ""):
            rep.error(f"{where}: {label} looks like markdown")
    lf, lu = len(fa.split()), len(un.split())
    if not 0.5 <= lu / max(lf, 1) <= 2.0:
        rep.error(f"{where}: lengths differ too much ({lf} vs {lu} words)")


def check_answer_facts(rep, where, r, sec, question):
    """Numbers and called names of the answers against the section (and the question)."""
    fa, un, kind = r["faithful"], r["unsupported"], r.get("kind")
    sec_text = norm_dash(sec["heading"] + " " + sec["body_sp"] + " " + sec["body"])
    sec_nums = num_tokens(sec_text)
    q_nums = num_tokens(question.get("question") or "")
    bad = num_tokens(fa) - sec_nums - q_nums
    if bad:
        rep.error(f"{where}: faithful has numbers not in the section or question: {sorted(bad)}")
    badn = [n for n in called_names(fa) if n.split(".")[-1] not in sec_text]
    if badn:
        rep.error(f"{where}: faithful calls names not in the section: {badn}")
    new_nums = num_tokens(un) - sec_nums - q_nums
    if kind == "number" and not new_nums:
        rep.error(
            f"{where}: kind number but unsupported has no number/value absent from the section"
        )
    if kind in ("claim", "contradiction") and new_nums:
        rep.error(f"{where}: kind {kind} but unsupported adds numbers {sorted(new_nums)}")
    fw = re.findall(r"\w+", fa.lower().replace("[g]", " "))
    sw = " ".join(re.findall(r"\w+", sec_text.lower()))
    for i in range(len(fw) - 9):
        if " ".join(fw[i : i + 10]) in sw:
            rep.warn(
                f"{where}: faithful copies 10+ words of the section: {' '.join(fw[i : i + 10])!r}"
            )
            break


def check_gate(rep, gates, targets, questions, shared_gate_recs, shared_gate):
    """Own ids (not in the shared file), kinds, answers against the target section."""
    shared_gate_ids = {r.get("id") for r in shared_gate_recs}
    gkinds = Counter()
    cl.check_unique(rep, "gate", "id", [r.get("id") for r in gates])
    for r in gates:
        rid = r.get("id")
        where = f"gate {rid}"
        cl.check_fields(rep, where, r, cl.GATE_FIELDS)
        if rid in shared_gate_ids:
            rep.error(f"{where}: id also used in shared {shared_gate}")
        kind = r.get("kind")
        if kind not in GATE_KINDS:
            rep.error(f"{where}: kind {kind!r} not in {GATE_KINDS}")
        gkinds[kind] += 1
        sec = targets.check(rid, where)
        fa, un = r.get("faithful"), r.get("unsupported")
        if not isinstance(fa, str) or not isinstance(un, str):
            rep.error(f"{where}: faithful/unsupported must be strings")
            continue
        check_answer_pair(rep, where, fa, un)
        if sec is not None:
            check_answer_facts(rep, where, r, sec, questions[rid])
    cl.check_gate_counts(rep, len(gates), gkinds, MIN_GATE_TOTAL, MIN_GATE_KIND)
    return gkinds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kb", default=DEFAULT_KB)
    ap.add_argument("--questions", default=DEFAULT_Q)
    ap.add_argument("--shared-followups", default=None)
    ap.add_argument("--shared-gate", default=None)
    ap.add_argument(
        "--dir", default=HERE, help="folder holding followups.jsonl and gate_answers.jsonl"
    )
    args = ap.parse_args()
    qdir = os.path.dirname(os.path.abspath(args.questions))
    shared_fu = args.shared_followups or os.path.join(qdir, "followups.jsonl")
    shared_gate = args.shared_gate or os.path.join(qdir, "gate_answers.jsonl")

    rep = cl.Report()
    pages = cl.load_sphinx_kb(args.kb, with_rest=False)
    if pages is None:
        print(f"ERROR KB folder missing: {args.kb}")
        return 1
    if not pages:
        print(f"ERROR no .html files in {args.kb}")
        return 1
    kb = {name: page["sections"] for name, page in pages.items()}

    questions = {}
    for r in cl.read_jsonl(args.questions, rep, "questions"):
        if r.get("id") in questions:
            rep.error(f"questions: duplicate id {r.get('id')}")
        questions[r.get("id")] = r
    targets = Targets(rep, kb, questions, args.questions)

    shared_fu_recs = cl.read_jsonl(shared_fu, rep, "shared followups")
    shared_gate_recs = cl.read_jsonl(shared_gate, rep, "shared gate")
    fus = cl.read_jsonl(os.path.join(args.dir, "followups.jsonl"), rep, "followups")
    kinds, same_entry, cross_entry = check_followups(
        rep, fus, kb, targets, shared_fu_recs, shared_fu
    )
    gates = cl.read_jsonl(os.path.join(args.dir, "gate_answers.jsonl"), rep, "gate")
    gkinds = check_gate(rep, gates, targets, questions, shared_gate_recs, shared_gate)

    return rep.finish(
        f"followups: {len(fus)} lines ({kinds['followup']} followup: {same_entry} same-section,"
        f" {cross_entry} cross-section; {kinds['switch']} switch); gate: {len(gates)} lines"
        f" {dict(gkinds)}; {len(targets.checked)} question lines checked;"
        f" {len(rep.warnings)} warnings, {len(rep.errors)} errors"
    )


if __name__ == "__main__":
    sys.exit(main())
