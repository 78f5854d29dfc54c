#!/usr/bin/env python3
"""Verify the SQLite FAQ development set (questions, follow-ups, gate answers).

Knowledge base: faq.html from Debian's sqlite3-doc 3.40.1-2+deb12u2
(/usr/share/doc/sqlite3/faq.html). Its entries are not headings: each one is
`<a name="qN"></a>`, then a paragraph `<p><b>(N) question</b></p>`, then the
answer (a blockquote) up to the next `<a name="q...">` or the page footer.

Checks (stdlib only):
  questions.jsonl
    * valid JSON, exact field set, ids sq-001.. in order, in_scope lines first;
    * in_scope: source == "faq.html", anchor is an existing `<a name>` in it,
      heading == the bold question text (tags removed, whitespace collapsed),
      gold is 4-10 words of ASCII, occurs in that entry's answer text both with
      tags removed and with tags replaced by a space, and occurs nowhere else in
      the page (other entries, the table of contents, header, footer);
    * at most 2 questions per entry, every entry used at least once;
    * question 3-35 words, not a copy of the heading (heading-word overlap is
      reported as a warning);
    * out_of_scope: null source/anchor/heading/gold, `absent` has 1-3 terms,
      none occurs as a whole word (case-insensitive) in the page text nor in
      the raw HTML, and at least one occurs in the question;
    * counts: >= 40 in_scope, exactly 13 out_of_scope.
  followups.jsonl
    * ids sqfu-NN / sqsw-NN, kind followup|switch, target names an in_scope
      line; >= 21 lines, >= 7 switches; a followup's `then` sharing content
      words with its `first` is reported as a warning.
  gate_answers.jsonl
    * id names an in_scope line, kind number|claim|contradiction, each
      sentence of both answers ends with " [G]", the two answers differ, one
      line per entry at most; >= 27 lines, >= 9 of each kind.

Usage: check.py [--kb DIR] [--dir DIR] [--dump]
Exit status 0 when everything passes, 1 otherwise.
"""

import os
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

# The rules shared with the other sets live in ../checklib.py: found from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import checklib as cl

HERE = os.path.dirname(os.path.abspath(__file__))
KB_FILE = "faq.html"
ORIG = "/usr/share/doc/sqlite3/faq.html"  # compared byte for byte when present
PREFIX = "sq"
MIN_IN, N_OUT = 40, 13
MIN_FU, MIN_SW = 21, 7
MIN_GATE, MIN_GATE_KIND = 27, 9
# Function names such as sqlite3_open() keep their parentheses.
WORDS = cl.Wording(
    cl.STOP_WORDS - {"can't", "what's", "won't"}
    | {"sqlite", "sqlite's", "didn", "won", "ok", "okay", "thanks"},
    token=r"[a-z0-9_+#.'()-]+",
    strip=".-'",
    quotes="\u2019",
    junk="()",
)


class Text(HTMLParser):
    """Visible text of an HTML fragment; every tag is replaced by `sep`.

    A flat parser, not a tree: the entries are slices of the page, full of end
    tags whose start lies in another slice.
    """

    def __init__(self, sep):
        super().__init__(convert_charrefs=True)
        self.sep, self.parts, self.skip = sep, [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.parts.append(self.sep)

    def handle_startendtag(self, tag, attrs):
        self.parts.append(self.sep)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        self.parts.append(self.sep)

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def text(html, sep=""):
    p = Text(sep)
    p.feed(html)
    p.close()
    return cl.collapse("".join(p.parts))


ANCHOR = re.compile(r'<a name="(q\d+)"></a>')
HEAD = re.compile(r"\s*<p><b>(.*?)</b></p>", re.S)
FOOTER = '<p align="center">'


def parse_kb(path):
    """Return (entries, whole-page texts, raw html); entries[anchor] has
    heading / body / body_sp."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    marks = list(ANCHOR.finditer(raw))
    end_all = raw.index(FOOTER, marks[-1].end())
    entries = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else end_all
        seg = raw[m.end() : end]
        h = HEAD.match(seg)
        if not h:
            raise SystemExit(f"cannot find the bold question after {m.group(1)}")
        body = seg[h.end() :]
        entries[m.group(1)] = {
            "heading": text(h.group(1)),
            "body": text(body),
            "body_sp": text(body, " "),
        }
    page = (text(raw), text(raw, " "))
    return entries, page, raw


class InScope:
    """The in-scope rules: `anchor` is an entry's `<a name>`, `heading` its bold question,
    the gold phrase in its answer and nowhere else on the page.

    Collects the valid targets (id -> line) and the questions per entry.
    """

    def __init__(self, rep, entries, page, raw):
        self.rep, self.entries, self.page, self.raw = rep, entries, page, raw
        self.in_ids = {}
        self.per_entry = Counter()

    def __call__(self, r, w, q):
        rep, entries = self.rep, self.entries
        self.in_ids[r.get("id")] = r
        if r.get("source") != KB_FILE:
            rep.error(f"{w}: source must be {KB_FILE!r}")
            return
        anchor = r.get("anchor")
        e = entries.get(anchor)
        if e is None or f'<a name="{anchor}">' not in self.raw:
            rep.error(f"{w}: anchor {anchor!r} not found")
            return
        self.per_entry[anchor] += 1
        if r.get("heading") != e["heading"]:
            rep.error(f"{w}: heading {r.get('heading')!r} != {e['heading']!r}")
        gold = r.get("gold")
        if not cl.check_gold_shape(rep, w, gold):
            return
        own = (e["body"], e["body_sp"])
        cl.check_gold_in(rep, w, gold, f"answer of {anchor}", *own)
        for i, mode in enumerate(cl.TAG_MODES):
            if self.page[i].count(gold) != own[i].count(gold):
                rep.error(f"{w}: gold {gold!r} also occurs outside {anchor}'s answer ({mode})")
        for a2, e2 in entries.items():
            if a2 != anchor and (
                gold in e2["body"] or gold in e2["body_sp"] or gold in e2["heading"]
            ):
                rep.error(f"{w}: gold {gold!r} also occurs in {a2}")
        hq = re.sub(r"^\(\d+\)\s*", "", e["heading"])
        if q.strip().lower().rstrip("?.!") == hq.lower().rstrip("?.!"):
            rep.error(f"{w}: question copies the heading")
        ov = cl.overlap(WORDS.words(q), WORDS.words(hq))
        if ov.bigrams or ov.fraction > 0.5:
            rep.warn(
                f"{w}: shares heading words {ov.shared} bigrams {ov.bigrams} | Q: {q} | H: {hq}"
            )


def main() -> int:
    args = cl.parse_args(
        __doc__,
        kb_default="/tmp/evalkb/sqlite",
        kb_help="folder holding faq.html (default /tmp/evalkb/sqlite)",
        dump_help="print every entry and exit",
        data_dir=HERE,
        dir_help="folder holding the jsonl files",
    )
    rep = cl.Report()
    kb_path = os.path.join(args.kb, KB_FILE)
    if not os.path.isfile(kb_path):
        print(f"ERROR KB file missing: {kb_path}")
        return 1
    cl.check_matches_original(rep, kb_path, ORIG)
    entries, page, raw = parse_kb(kb_path)
    if args.dump:
        for a, e in entries.items():
            print(f"=== {a}\n# {e['heading']}\n{e['body']}\n")
        return 0

    # ---------------- questions.jsonl ----------------
    qs = cl.read_jsonl(os.path.join(args.dir, "questions.jsonl"), rep)
    kinds = Counter(r.get("kind") for r in qs)
    if (
        kinds["in_scope"] < MIN_IN
        or kinds["out_of_scope"] != N_OUT
        or len(qs) != kinds["in_scope"] + N_OUT
    ):
        rep.error(
            f"questions: need >= {MIN_IN} in_scope and exactly {N_OUT} out_of_scope,"
            f" got {dict(kinds)}"
        )
    for k in ("id", "question", "gold"):
        values = [(r.get(k) or "").lower() for r in qs if r.get(k)]
        cl.check_unique(rep, "questions", k, values, quote=True)
    faq = InScope(rep, entries, page, raw)
    cl.check_question_lines(
        rep,
        qs,
        on_in_scope=faq,
        kb_places=[
            ((page[0] + "\n" + page[1]).lower(), "the KB text"),
            (raw.lower(), "the KB HTML source"),
        ],
        prefix=PREFIX,
    )
    cl.check_per_entry(rep, faq.per_entry, 2)
    for a in entries:
        if faq.per_entry[a] == 0:
            rep.error(f"entry {a} has no in_scope question")

    # ---------------- followups.jsonl ----------------
    fus = cl.read_jsonl(os.path.join(args.dir, "followups.jsonl"), rep)
    fk = Counter(r.get("kind") for r in fus)
    cl.check_minimums(
        rep, "followups", [("lines", len(fus), MIN_FU), ("switches", fk["switch"], MIN_SW)]
    )
    cl.check_followup_lines(
        rep,
        fus,
        prefix=PREFIX,
        targets=faq.in_ids,
        min_words=3,
        target_what="an in_scope question id",
        repeats=cl.repeat_note(
            WORDS.words, "then repeats words of first {shared} | {first} -> {then}"
        ),
    )

    # ---------------- gate_answers.jsonl ----------------
    def check_answers(w, r, _q):
        for label, a in cl.answers_of(rep, w, r):
            cl.check_cited(rep, w, label, a, one_marker=True, warn_uncited=False)
            cl.check_no_markdown(rep, w, label, a)
        if r.get("faithful") == r.get("unsupported"):
            rep.error(f"{w}: faithful == unsupported")

    gates = cl.read_jsonl(os.path.join(args.dir, "gate_answers.jsonl"), rep)
    gk = cl.check_gate_lines(
        rep, gates, targets=faq.in_ids, check=check_answers, entry_of=lambda q: str(q.get("anchor"))
    )
    cl.check_gate_counts(rep, len(gates), gk, MIN_GATE, MIN_GATE_KIND)

    return rep.finish(
        f"questions: {dict(kinds)}, {len(faq.per_entry)}/{len(entries)} entries used;"
        f" followups: {dict(fk)}; gate: {dict(gk)}; {len(rep.warnings)} warnings,"
        f" {len(rep.errors)} errors"
    )


if __name__ == "__main__":
    sys.exit(main())
