#!/usr/bin/env python3
"""Verify the restic user-documentation development set against the KB HTML (stdlib only).

KB: eight Sphinx pages of restic 0.14.0 (Debian package restic 0.14.0-1+b5),
default folder /tmp/evalkb/restic (override with --kb DIR). `source` is the
page's file name, `anchor` the id of a <section> in that page.

Files checked (all next to this script unless overridden with --dir):
  questions.jsonl     in_scope / out_of_scope questions
  followups.jsonl     two-message conversations (followup / switch)
  gate_answers.jsonl  faithful vs. unsupported model-style answers

questions.jsonl
  * valid JSON, exactly the documented fields, ids restic-001, restic-002, ...
    in order, in_scope lines before out_of_scope lines, no duplicate
    questions or gold phrases, questions of 3-45 words;
  * in_scope: `source` is one of the KB pages, `anchor` is an id/name in that
    page and the id of a <section> with a heading, `heading` equals that
    heading text (tags stripped, whitespace collapsed, permalink sign
    removed), `gold` is 4-10 ASCII words and occurs verbatim in the section's
    own text (heading and nested sections excluded), both with tags removed
    and with tags replaced by a space, and occurs nowhere else in any KB
    page's text (other sections, nested sections, navigation, title ...);
  * at most 2 questions per section; a question must not reuse more than
    half of the heading's content words (error) -- shared word pairs are
    warnings;
  * out_of_scope: source/anchor/heading/gold are null, `absent` lists 1-3
    terms, none of which occurs (case-insensitive, whole word) in any KB
    page's text or raw HTML, and at least one of which is in the question.
followups.jsonl
  * fields id/first/then/target/kind, kind followup|switch, ids resticfu-NN /
    resticsw-NN numbered in order within their kind, `target` names an
    in_scope line of questions.jsonl.
gate_answers.jsonl
  * fields id/faithful/unsupported/kind, kind number|claim|contradiction,
    `id` names an in_scope line, one line per section (all distinct);
  * every sentence of both answers ends with " [G]." (1-4 sentences) and
    holds no other [G] marker;
  * faithful: every number, --option and `backticked` span occurs in the
    target section's text;
  * unsupported of kind number: at least one number / --option / backticked
    span that is NOT in the section; of kind claim/contradiction: none.
Counts: >= 45 in_scope, >= 14 out_of_scope, >= 22 followups lines of which
>= 7 switches, >= 36 gate lines, the three kinds equally often (one third each).

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
DEFAULT_KB = "/tmp/evalkb/restic"
PREFIX = "restic"
PAGES = [
    "030_preparing_a_new_repo.html",
    "040_backup.html",
    "045_working_with_repos.html",
    "047_tuning_backup_parameters.html",
    "050_restore.html",
    "060_forget.html",
    "070_encryption.html",
    "faq.html",
]
LIMITS = cl.Limits(
    in_scope=45, out_of_scope=14, followups=22, switches=7, gate=36, gate_per_kind=12
)
WORDS = cl.Wording(cl.STOP_WORDS | {"restic"})


def main() -> int:
    args = cl.parse_args(
        __doc__,
        kb_default=DEFAULT_KB,
        kb_help=f"folder holding the KB pages (default {DEFAULT_KB})",
        dump_help="print every section and exit",
        data_dir=HERE,
    )
    rep = cl.Report()
    kb = cl.load_sphinx_kb(args.kb)
    if kb is None:
        print(f"ERROR KB folder {args.kb} not found")
        return 1
    for page in PAGES:
        if page not in kb:
            rep.error(f"{page} not found in {args.kb}")
    if args.dump:
        cl.dump_sphinx(kb)
        return 0
    all_text = "\n".join(f["text"].lower() + "\n" + f["raw"].lower() for f in kb.values())
    docs = cl.SphinxQuestions(
        rep,
        kb,
        WORDS,
        unit="section",
        empty_note="is a heading without own text (only nested sections)",
    )
    n = cl.check_set(
        rep,
        args.dir,
        docs,
        prefix=PREFIX,
        limits=LIMITS,
        words=WORDS,
        kb_places=[(all_text, "the KB")],
        max_words=45,
        one_marker=True,
    )
    per_kind = [n.gate_kinds[k] for k in cl.GATE_KINDS]
    if max(per_kind) - min(per_kind) > 1:
        rep.error(
            f"gate: kinds must be used equally often (one third each), got {dict(n.gate_kinds)}"
        )
    return rep.finish(
        f"questions: {n.question_kinds['in_scope']} in_scope on {len(docs.per_entry)} sections,"
        f" {n.question_kinds['out_of_scope']} out_of_scope | followups: {n.followups}"
        f" ({n.followup_kinds['followup']} followup, {n.followup_kinds['switch']} switch)"
        f" | gate: {n.gates} {cl.by_name(n.gate_kinds)}"
        f" | {len(rep.warnings)} warnings, {len(rep.errors)} errors"
    )


if __name__ == "__main__":
    sys.exit(main())
