#!/usr/bin/env python3
"""Verify the curl FAQ development set against the plain-text KB (stdlib only).

KB: FAQ.txt (curl's FAQ as shipped in Debian's libcurl4-doc), a table of
contents, a line of '=' signs, then the body.  In the body an *entry* is the
text from its numbered title line ("  3.2 How do I tell curl to resume a
transfer?", "    4.5.1 \"400 Bad Request\"", " 8.1 Why does curl use C89?")
to the next numbered title line or category line ("4. Running Problems").
A title line is a line indented 1-4 spaces, starting with a dotted number
that the table of contents lists, and preceded by a blank line (so the
wrapped "  4.12 and the SSLCERTS document" inside 3.16 is not a title).
The table of contents is never an entry; its titles differ from the body's
in a few places (1.12, 2.2, 4.17) -- `heading` must be the body's.

Files checked (all next to this script unless overridden):
  questions.jsonl     in_scope / out_of_scope questions
  followups.jsonl     two-message conversations (followup / switch)
  gate_answers.jsonl  faithful vs. unsupported model-style answers

questions.jsonl
  * valid JSON, exactly the documented fields, ids curl-001, curl-002, ...
    in order, in_scope lines before out_of_scope lines, no duplicate
    questions or gold phrases, questions of 3-35 words;
  * in_scope: `source` is "FAQ.txt", `anchor` is null, `heading` is an
    entry's number and title exactly as in the body (whitespace squashed),
    `gold` is 4-10 ASCII words, occurs in that entry's answer text (title
    line excluded, whitespace squashed) and exactly once in the whole file
    (table of contents included; case-insensitive, whitespace squashed);
  * at most 2 questions per entry; a question must not reuse more than half
    of the heading's content words (error) -- shared word pairs are warnings;
  * out_of_scope: exactly id/question/kind/absent; `absent` lists 1-3
    terms, none of which occurs (case-insensitive, whole word) anywhere in
    the KB file, and at least one of which is in the question.
followups.jsonl
  * fields id/first/then/target/kind, kind followup|switch, ids curlfu-NN /
    curlsw-NN numbered in order within their kind, `target` names an
    in_scope line of questions.jsonl.
gate_answers.jsonl
  * fields id/faithful/unsupported/kind, kind number|claim|contradiction,
    `id` names an in_scope line, one line per entry (all entries distinct);
  * every sentence of both answers ends with " [G]." (1-4 sentences);
  * faithful: every number, --option, -X short option and `backticked` span
    occurs in the target entry's answer text;
  * unsupported of kind number: at least one number / option / backticked
    span that is NOT in the entry; of kind claim/contradiction: none.
Counts: >= 45 in_scope, >= 14 out_of_scope, >= 22 followup + >= 7 switch
lines, >= 36 gate lines with >= 12 of each kind.

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
DEFAULT_KB = "/tmp/evalkb/curl"
KB_FILE = "FAQ.txt"
PREFIX = "curl"
LIMITS = cl.Limits(
    in_scope=45, out_of_scope=14, followups=22, switches=7, gate=36, gate_per_kind=12
)
WORDS = cl.Wording(cl.STOP_WORDS | {"curl", "libcurl", "curl's"})

TITLE_RE = re.compile(r"^ {1,4}(\d+(?:\.\d+)+) (\S.*?)\s*$")
CAT_RE = re.compile(r"^(\d+)\. \S")
squash = cl.collapse


def load_kb(path):
    """Parse FAQ.txt into entries {heading: {...}} plus whole-file texts."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    lines = raw.splitlines()
    sep = next((i for i, line in enumerate(lines) if line.startswith("=====")), None)
    if sep is None:
        raise ValueError("no '=====' line separating contents and body")
    toc = {}
    for line in lines[:sep]:
        m = TITLE_RE.match(line)
        if m:
            toc[m.group(1)] = squash(m.group(2))
    starts = []  # (line index, number, title)
    cats = []
    for i in range(sep + 1, len(lines)):
        prev_blank = not lines[i - 1].strip()
        m = TITLE_RE.match(lines[i])
        if m and prev_blank and m.group(1) in toc:
            starts.append((i, m.group(1), squash(m.group(2))))
        elif CAT_RE.match(lines[i]) and prev_blank:
            cats.append(i)
    bounds = sorted([s[0] for s in starts] + cats + [len(lines)])
    entries, problems = {}, []
    for i, num, title in starts:
        end = next(b for b in bounds if b > i)
        heading = f"{num} {title}"
        if heading in entries:
            problems.append(f"entry {heading!r} appears twice in the body")
        entries[heading] = {
            "num": num,
            "title": title,
            "answer": squash("\n".join(lines[i + 1 : end])),
            "raw": "\n".join(lines[i + 1 : end]),
        }
    nums = Counter(e["num"] for e in entries.values())
    for num in toc:
        if nums[num] != 1:
            problems.append(f"contents lists {num} but the body has {nums[num]} title lines for it")
    return {"raw": raw, "text": squash(raw), "toc": toc, "entries": entries, "problems": problems}


def dump(kb):
    """--dump: every entry with its answer text, and where the contents' title differs."""
    for heading, e in kb["entries"].items():
        toc = kb["toc"].get(e["num"])
        note = "" if toc == e["title"] else f"   [contents: {toc}]"
        print(f"=== {heading}{note}\n{e['answer']}\n")
    print(f"{len(kb['entries'])} entries")


class InScope:
    """The in-scope rules of FAQ.txt: `heading` names an entry, gold occurs once in the file.

    Collects the valid targets (id -> line) and the questions per entry: the
    `Entries` of checklib.check_set.
    """

    def __init__(self, rep, kb):
        self.rep, self.entries = rep, kb["entries"]
        self.whole_lower = kb["text"].lower()
        self.in_scope = {}
        self.per_entry = Counter()

    def entry(self, record):
        return self.entries.get(squash(record.get("heading") or ""))

    def answer_text(self, record):
        ent = self.entry(record)
        return ent["answer"] + "\n" + ent["raw"] if ent else None

    def label(self, record):
        return repr(record.get("heading"))

    def __call__(self, r, where, question):
        rep = self.rep
        self.in_scope[r.get("id")] = r
        src, anchor, heading, gold = (r.get(k) for k in ("source", "anchor", "heading", "gold"))
        if src != KB_FILE:
            rep.error(f"{where}: source must be {KB_FILE!r}, got {src!r}")
        if anchor is not None:
            rep.error(f"{where}: plain-text KB has no anchors; anchor must be null")
        ent = self.entry(r)
        if ent is None:
            rep.error(f"{where}: heading {heading!r} is not an entry title in the body")
            return
        if heading != squash(heading):
            rep.error(f"{where}: heading has extra whitespace: {heading!r}")
        if not ent["answer"]:
            rep.error(f"{where}: entry {heading!r} has no answer text")
        self.per_entry[repr(heading)] += 1
        if not cl.check_gold_shape(rep, where, gold):
            return
        g = squash(gold)
        if g not in ent["answer"]:
            rep.error(f"{where}: gold {gold!r} not in the answer text of {heading!r}")
        n_file = self.whole_lower.count(g.lower())
        if n_file != 1:
            rep.error(
                f"{where}: gold {gold!r} occurs {n_file} times in {KB_FILE} (must be exactly once)"
            )
        cl.check_question_wording(
            rep,
            where,
            question,
            g,
            title=ent["title"],
            heading=heading,
            overlap_heading=re.sub(r"^\d+(?:\.\d+)*\s+", "", heading),  # without the number
            words=WORDS,
        )


def main() -> int:
    args = cl.parse_args(
        __doc__,
        kb_default=DEFAULT_KB,
        kb_help="folder holding FAQ.txt",
        dump_help="print every entry and exit",
        data_dir=HERE,
    )
    rep = cl.Report()
    path = os.path.join(args.kb, KB_FILE)
    if not os.path.isfile(path):
        print(f"ERROR {path} not found")
        return 1
    try:
        kb = load_kb(path)
    except ValueError as e:
        print(f"ERROR {path}: {e}")
        return 1
    for problem in kb["problems"]:
        rep.error("KB: " + problem)
    if args.dump:
        dump(kb)
        return 0

    faq = InScope(rep, kb)
    n = cl.check_set(
        rep,
        args.dir,
        faq,
        prefix=PREFIX,
        limits=LIMITS,
        words=WORDS,
        kb_places=[(kb["raw"].lower(), "the KB"), (faq.whole_lower, "the KB")],
        out_fields=("id", "question", "kind", "absent"),
        followup_kind_only=True,
        short_options=True,
    )
    return rep.finish(
        f"KB: {len(kb['entries'])} entries | questions: {n.question_kinds['in_scope']} in_scope"
        f" on {len(faq.per_entry)} entries, {n.question_kinds['out_of_scope']} out_of_scope"
        f" | followups: {n.followups} ({n.followup_kinds['followup']} followup,"
        f" {n.followup_kinds['switch']} switch) | gate: {n.gates}"
        f" {cl.by_name(n.gate_kinds)} | {len(rep.warnings)} warnings,"
        f" {len(rep.errors)} errors"
    )


if __name__ == "__main__":
    sys.exit(main())
