#!/usr/bin/env python3
"""Verify the BorgBackup FAQ development set against the KB HTML (stdlib only).

Files checked (all next to this script unless overridden):
  questions.jsonl     in_scope / out_of_scope questions
  followups.jsonl     two-message conversations (followup / switch)
  gate_answers.jsonl  faithful vs. unsupported model-style answers

questions.jsonl
  * valid JSON, exactly the documented fields, ids borg-001, borg-002, ...
    in order, in_scope lines before out_of_scope lines, no duplicate
    questions or gold phrases, questions of 3-35 words;
  * in_scope: `source` is a KB file, `anchor` is an id/name in that file and
    the id of a <section> with a heading, `heading` equals that heading text
    (tags stripped, whitespace collapsed, permalink sign removed), `gold` is
    4-10 ASCII words and occurs verbatim in the section's answer text (heading
    and nested sections excluded), both with tags removed and with tags
    replaced by a space, and occurs nowhere else in any KB file's text
    (other sections, navigation, title ...);
  * at most 2 questions per entry; a question must not reuse more than half
    of the heading's content words (error) -- shared word pairs are warnings;
  * out_of_scope: source/anchor/heading/gold are null, `absent` lists 1-3
    terms, none of which occurs (case-insensitive, whole word) in any KB
    file's text or raw HTML, and at least one of which is in the question.
followups.jsonl
  * fields id/first/then/target/kind, kind followup|switch, ids borgfu-NN /
    borgsw-NN numbered in order within their kind, `target` names an
    in_scope line of questions.jsonl.
gate_answers.jsonl
  * fields id/faithful/unsupported/kind, kind number|claim|contradiction,
    `id` names an in_scope line, one line per entry (all entries distinct);
  * every sentence of both answers ends with "[G]." (1-4 sentences);
  * faithful: every number, --option and `backticked` span occurs in the
    target entry's text;
  * unsupported of kind number: at least one number / --option / backticked
    span that is NOT in the entry; of kind claim/contradiction: none.
Counts: >= 44 in_scope, >= 14 out_of_scope, >= 22 followups lines of which
>= 7 switches, >= 27 gate lines with >= 9 of each kind.

Usage: check.py [--kb DIR] [--dir DIR] [--dump]
Exit status 0 when everything passes, 1 otherwise.
"""

import os
import sys
from pathlib import Path

# The rules shared with the other sets live in ../checklib.py: found from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import checklib as cl

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_KB = "/tmp/evalkb/borg"
PREFIX = "borg"
LIMITS = cl.Limits(in_scope=44, out_of_scope=14, followups=22, switches=7, gate=27, gate_per_kind=9)
WORDS = cl.Wording(cl.STOP_WORDS | {"borg", "borgbackup"})


def main() -> int:
    args = cl.parse_args(
        __doc__,
        kb_default=DEFAULT_KB,
        kb_help="folder holding faq.html",
        dump_help="print every section and exit",
        data_dir=HERE,
    )
    rep = cl.Report()
    kb = cl.load_sphinx_kb(args.kb)
    if kb is None:
        print(f"ERROR KB folder {args.kb} not found")
        return 1
    if "faq.html" not in kb:
        rep.error(f"faq.html not found in {args.kb}")
    if args.dump:
        cl.dump_sphinx(kb)
        return 0
    all_text = "\n".join(f["text"].lower() + "\n" + f["raw"].lower() for f in kb.values())
    faq = cl.SphinxQuestions(
        rep, kb, WORDS, unit="FAQ entry", empty_note="is a category heading without answer text"
    )
    n = cl.check_set(
        rep,
        args.dir,
        faq,
        prefix=PREFIX,
        limits=LIMITS,
        words=WORDS,
        kb_places=[(all_text, "the KB")],
    )
    return rep.finish(
        f"questions: {n.question_kinds['in_scope']} in_scope on {len(faq.per_entry)} entries,"
        f" {n.question_kinds['out_of_scope']} out_of_scope | followups: {n.followups}"
        f" ({n.followup_kinds['followup']} followup, {n.followup_kinds['switch']} switch)"
        f" | gate: {n.gates} {cl.by_name(n.gate_kinds)}"
        f" | {len(rep.warnings)} warnings, {len(rep.errors)} errors"
    )


if __name__ == "__main__":
    sys.exit(main())
