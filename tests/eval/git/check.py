#!/usr/bin/env python3
"""Verify the Git development set (questions, follow-ups, gate answers) against the KB.

KB: gitfaq.html and user-manual.html from Debian's git-doc 1:2.39.5-0+deb12u3
(/usr/share/doc/git-doc/).  Stdlib only.

Entries of the KB
  * gitfaq.html: one entry per <dt>/<dd> pair.  heading = the <dt> text;
    answer = the <dd> text.  The expected anchor is the first id inside the
    <dt> or its <dd>; failing that, for the first <dt> of a list, the id of the
    <div class="dlist"> wrapper; otherwise null.
  * user-manual.html: one entry per DocBook section/chapter/appendix <div>.
    heading = the text of its <h1>-<h4>; anchor = the <a name> in that heading;
    answer = the div's own text without its title, its nested sections and its
    table of contents.

questions.jsonl: every line is checked for the exact field set, well-formed
sequential ids (in-scope lines first), and
  * in_scope: source is a KB file; heading is an entry's heading (tags
    stripped, whitespace collapsed); anchor equals that entry's expected
    anchor and exists as an id/name in the file; gold is 4-10 words, ASCII,
    occurs in the entry's answer text both with tags removed and with tags
    replaced by a space, in no other entry (answer or heading) of either file,
    and exactly once in the whole text of both files; at most 2 questions per
    entry; the question does not copy the heading (word overlap > 50% or a
    shared content-word bigram is reported as a warning).
  * out_of_scope: source/anchor/heading/gold null; `absent` holds 1-3 terms,
    none of which occurs (case-insensitive, whole word) anywhere in the KB
    text, and at least one of which occurs in the question.
followups.jsonl: ids gitfu-NN / gitsw-NN matching kind, target names an
in-scope line; `then` sharing content words with `first` in a follow-up is
reported as a warning.
gate_answers.jsonl: id names an in-scope line (each line a different entry),
kind in number/claim/contradiction, every sentence of both answers ends with
" [G]" (the citation), both answers plain text.
Counts: >= 44 in_scope (>= 14 on gitfaq.html, >= 30 on user-manual.html spread
over >= 9 chapters/appendices), exactly 14 out_of_scope; >= 22 follow-up lines,
>= 7 switches; >= 27 gate lines, >= 9 of each kind.

Usage: check.py [--kb DIR] [--dir DIR] [--dump]
Exit status 0 when everything passes, 1 otherwise.
"""

import os
import re
import sys
from collections import Counter
from pathlib import Path

# The rules shared with the other sets live in ../checklib.py: found from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import checklib as cl

HERE = os.path.dirname(os.path.abspath(__file__))
KB_FILES = ["gitfaq.html", "user-manual.html"]
ORIG_DIR = "/usr/share/doc/git-doc"  # compared with --kb when present
PREFIX = "git"
MIN_IN, N_OUT, MIN_FAQ, MIN_MANUAL, MIN_CHAPTERS = 44, 14, 14, 30, 9
MIN_FU, MIN_SW, MIN_GATE, MIN_GATE_KIND = 22, 7, 27, 9
WORDS = cl.Wording(
    cl.STOP_WORDS - {"can't", "won't"} | {"git", "i've", "that's", "ve", "ll", "re", "m", "d"},
    token=r"[a-z0-9_+#.'-]+",
    strip=".-'",
    quotes="\u2019",
)


def both(node, skip=None):
    """The text of node with tags removed and with tags as spaces."""
    return cl.text_of(node, "", skip), cl.text_of(node, " ", skip)


# ---------------------------------------------------------------- KB entries
def faq_entries(root):
    entries = []
    for dl in root.iter():
        if dl.tag != "dl":
            continue
        wrapper = dl.parent if dl.parent is not None and "dlist" in dl.parent.classes() else None
        kids = dl.kids()
        first = True
        for i, dt in enumerate(kids):
            if dt.tag != "dt":
                continue
            dd = kids[i + 1] if i + 1 < len(kids) and kids[i + 1].tag == "dd" else None
            own = [n.attrs["id"] for n in dt.iter() if n.attrs.get("id")]
            if dd is not None:
                own += [n.attrs["id"] for n in dd.iter() if n.attrs.get("id")]
            if own:
                anchor = own[0]
            elif first and wrapper is not None and wrapper.attrs.get("id"):
                anchor = wrapper.attrs["id"]
            else:
                anchor = None
            first = False
            body, body_sp = both(dd) if dd is not None else ("", "")
            entries.append(
                {
                    "anchor": anchor,
                    "heading": cl.text_of(dt),
                    "body": body,
                    "body_sp": body_sp,
                    "chapter": "gitfaq",
                }
            )
    return entries


SECTION_CLASSES = {"section", "chapter", "preface", "appendix"}


def is_sec(n):
    return n.tag == "div" and bool(SECTION_CLASSES & set(n.classes()))


def manual_entries(root):
    entries = []
    for sec in root.iter():
        if not is_sec(sec):
            continue
        head = None
        for n in sec.iter():
            if n is not sec and is_sec(n):
                break
            if n.tag in ("h1", "h2", "h3", "h4", "h5"):
                head = n
                break
        if head is None:
            continue
        names = [n.attrs["name"] for n in head.iter() if n.tag == "a" and n.attrs.get("name")]
        titlepage = head
        while titlepage.parent is not sec and titlepage.parent is not None:
            titlepage = titlepage.parent

        def skip(n, tp=titlepage):
            return n is tp or is_sec(n) or "toc" in n.classes()

        body, body_sp = both(sec, skip)
        top = sec
        while top.parent is not None and not (
            is_sec(top) and {"chapter", "appendix", "preface"} & set(top.classes())
        ):
            top = top.parent
        chapter = (
            top.attrs.get("class", "") + ":" + (cl.text_of(top.kids()[0]) if top.kids() else "")
        )
        entries.append(
            {
                "anchor": names[0] if names else None,
                "heading": cl.text_of(head),
                "body": body,
                "body_sp": body_sp,
                "chapter": chapter[:60],
            }
        )
    return entries


def load_kb(kbdir, rep):
    kb = {}
    for name in KB_FILES:
        p = os.path.join(kbdir, name)
        if not os.path.isfile(p):
            rep.error(f"KB file missing: {p}")
            continue
        with open(p, encoding="utf-8") as f:
            root = cl.parse_html(f.read())
        ents = faq_entries(root) if name == "gitfaq.html" else manual_entries(root)
        full, full_sp = both(root)
        kb[name] = {"entries": ents, "ids": cl.all_ids(root), "full": full, "full_sp": full_sp}
        cl.check_matches_original(rep, p, os.path.join(ORIG_DIR, name))
    return kb


# ---------------------------------------------------------------- checks
class InScope:
    """The in-scope rules: `heading` (and, where headings repeat, `anchor`) names one entry
    of `source`; the gold phrase is in its answer text and exactly once in the whole KB.

    Collects the valid targets (id -> entry key), questions per entry and per file,
    and the manual's chapters covered.
    """

    def __init__(self, rep, kb):
        self.rep, self.kb = rep, kb
        self.in_ids = {}
        self.per_entry, self.per_file, self.chapters = Counter(), Counter(), set()

    def __call__(self, r, w, q):
        rep, kb = self.rep, self.kb
        src, anchor, heading, gold = (r.get(k) for k in ("source", "anchor", "heading", "gold"))
        if src not in kb:
            rep.error(f"{w}: unknown source {src!r}")
            return
        matches = [e for e in kb[src]["entries"] if e["heading"] == heading]
        if len(matches) != 1:
            # headings like "Examples" repeat: disambiguate by anchor
            matches = [e for e in matches if e["anchor"] == anchor] or matches
        if len(matches) != 1:
            rep.error(f"{w}: heading {heading!r} matches {len(matches)} entries of {src}")
            return
        ent = matches[0]
        if anchor != ent["anchor"]:
            rep.error(f"{w}: anchor {anchor!r}, expected {ent['anchor']!r}")
        if anchor is not None and anchor not in kb[src]["ids"]:
            rep.error(f"{w}: anchor {anchor!r} is no id/name in {src}")
        key = (src, ent["heading"], ent["anchor"])
        self.per_entry[str(key)] += 1
        self.per_file[src] += 1
        self.chapters.add(ent["chapter"])
        self.in_ids[r.get("id")] = key
        if not cl.check_gold_shape(rep, w, gold):
            return
        cl.check_gold_in(rep, w, gold, "answer text", ent["body"], ent["body_sp"])
        others = [
            (n, e["heading"])
            for n, v in kb.items()
            for e in v["entries"]
            if e is not ent and any(gold in t for t in (e["body"], e["body_sp"], e["heading"]))
        ]
        if others:
            rep.error(f"{w}: gold {gold!r} also occurs in {others}")
        n_full = sum(v["full"].count(gold) for v in kb.values())
        n_full_sp = sum(v["full_sp"].count(gold) for v in kb.values())
        if n_full != 1 or n_full_sp != 1:
            rep.error(
                f"{w}: gold {gold!r} occurs {n_full}/{n_full_sp} times in the whole KB text"
                " (want 1)"
            )
        if q.strip().lower().rstrip("?.!") == heading.lower().rstrip("?.!"):
            rep.error(f"{w}: question copies the heading")
        note = cl.overlap_note(cl.overlap(WORDS.words(q), WORDS.words(heading)))
        if note:
            rep.warn(f"{w}: {note} | Q: {q} | H: {heading}")


def check_questions(kb, records, rep):
    kb_text = "\n".join(v["full"] + "\n" + v["full_sp"] for v in kb.values()).lower()
    cl.check_unique_questions(rep, records, question_key=lambda q: q.strip().lower())
    manual = InScope(rep, kb)
    kinds = cl.check_question_lines(
        rep, records, on_in_scope=manual, kb_places=[(kb_text, "the KB")], prefix=PREFIX
    )
    cl.check_per_entry(rep, manual.per_entry, 2)
    n_in = kinds["in_scope"]
    if n_in < MIN_IN or kinds["out_of_scope"] != N_OUT or len(records) != n_in + N_OUT:
        rep.error(
            f"questions: want >= {MIN_IN} in_scope and {N_OUT} out_of_scope, got {dict(kinds)}"
        )
    per_file = manual.per_file
    if per_file["gitfaq.html"] < MIN_FAQ or per_file["user-manual.html"] < MIN_MANUAL:
        rep.error(
            f"questions: want >= {MIN_FAQ} on gitfaq.html and >= {MIN_MANUAL} on user-manual.html,"
            f" got {dict(per_file)}"
        )
    man_chapters = {c for c in manual.chapters if c != "gitfaq"}
    if len(man_chapters) < MIN_CHAPTERS:
        rep.error(f"questions: user-manual questions cover only {len(man_chapters)} chapters")
    return manual.in_ids, kinds, per_file, man_chapters


def check_answer(rep, w, label, a):
    """One gate answer: plain text, 1-4 sentences, each closed by its [G] citation."""
    if not a.rstrip().rstrip(".").endswith(" [G]"):
        rep.error(f"{w}: {label} must end with a [G] citation")
    # every sentence ends with the citation: split after "[G]." / "[G]"
    rest = re.sub(r"\[G\][.!?]?", "\x00", a)
    for piece in rest.split("\x00")[:-1]:
        if re.search(r"[.!?]\s+[A-Z]", piece.strip()):
            rep.error(f"{w}: {label} has a sentence without [G]: {piece.strip()!r}")
    if rest.split("\x00")[-1].strip():
        rep.error(f"{w}: {label} has text after the last [G]")
    cl.check_no_markdown(rep, w, label, a)
    if not 1 <= len(re.findall(r"\[G\]", a)) <= 4:
        rep.error(f"{w}: {label} should have 1-4 cited sentences")


def check_gate(records, in_ids, rep):
    def check_answers(w, r, _key):
        for label, a in cl.answers_of(rep, w, r):
            check_answer(rep, w, label, a)
        if r.get("faithful") == r.get("unsupported"):
            rep.error(f"{w}: faithful == unsupported")

    counts = cl.check_gate_lines(rep, records, targets=in_ids, check=check_answers, entry_of=str)
    cl.check_gate_counts(rep, len(records), counts, MIN_GATE, MIN_GATE_KIND)
    return counts


def main() -> int:
    args = cl.parse_args(
        __doc__,
        kb_default="/tmp/evalkb/git",
        kb_help="folder holding gitfaq.html and user-manual.html",
        dump_help="print every KB entry and exit",
        data_dir=HERE,
        dir_help="folder holding the three .jsonl files",
    )
    rep = cl.Report()
    kb = load_kb(args.kb, rep)
    if args.dump:
        for name, v in kb.items():
            for e in v["entries"]:
                print(f"=== {name}#{e['anchor']} [{e['chapter']}]\n# {e['heading']}\n{e['body']}\n")
        return 0
    if len(kb) != len(KB_FILES):
        return rep.finish()
    qs = cl.read_jsonl(os.path.join(args.dir, "questions.jsonl"), rep)
    fus = cl.read_jsonl(os.path.join(args.dir, "followups.jsonl"), rep)
    gate = cl.read_jsonl(os.path.join(args.dir, "gate_answers.jsonl"), rep)
    in_ids, qkinds, per_file, chapters = check_questions(kb, qs, rep)
    fkinds = cl.check_followup_lines(
        rep,
        fus,
        prefix=PREFIX,
        targets=in_ids,
        target_what="an in_scope question id",
        repeats=cl.repeat_note(WORDS.words, "then repeats words of first {shared}"),
        ids_in_order=False,
    )
    cl.check_minimums(
        rep, "followups", [("lines", len(fus), MIN_FU), ("switches", fkinds["switch"], MIN_SW)]
    )
    gkinds = check_gate(gate, in_ids, rep)
    return rep.finish(
        f"questions: {len(qs)} ({dict(qkinds)}; per file {dict(per_file)};"
        f" {len(chapters)} manual chapters)",
        f"followups: {len(fus)} {dict(fkinds)}; gate answers: {len(gate)} {dict(gkinds)}",
        f"{len(rep.warnings)} warnings, {len(rep.errors)} errors",
    )


if __name__ == "__main__":
    sys.exit(main())
