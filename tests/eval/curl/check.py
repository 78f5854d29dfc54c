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
import argparse
import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_KB = "/tmp/evalkb/curl"
KB_FILE = "FAQ.txt"
PREFIX = "curl"
MIN_IN, MIN_OUT = 45, 14
MIN_FU, MIN_SW = 22, 7
MIN_GATE, MIN_GATE_KIND = 36, 12
MAX_PER_ENTRY = 2

WS = re.compile(r"\s+")
TITLE_RE = re.compile(r"^ {1,4}(\d+(?:\.\d+)+) (\S.*?)\s*$")
CAT_RE = re.compile(r"^(\d+)\. \S")


def squash(s):
    return WS.sub(" ", s).strip()


def load_kb(path):
    """Parse FAQ.txt into entries {heading: {...}} plus whole-file texts."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    lines = raw.splitlines()
    sep = next((i for i, l in enumerate(lines) if l.startswith("=====")), None)
    if sep is None:
        raise ValueError("no '=====' line separating contents and body")
    toc = {}
    for l in lines[:sep]:
        m = TITLE_RE.match(l)
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
        heading = "%s %s" % (num, title)
        if heading in entries:
            problems.append("entry %r appears twice in the body" % heading)
        entries[heading] = {
            "num": num,
            "title": title,
            "answer": squash("\n".join(lines[i + 1:end])),
            "raw": "\n".join(lines[i + 1:end]),
        }
    nums = Counter(e["num"] for e in entries.values())
    for num, title in toc.items():
        if nums[num] != 1:
            problems.append("contents lists %s but the body has %d title lines for it" % (num, nums[num]))
    return {"raw": raw, "text": squash(raw), "toc": toc, "entries": entries, "problems": problems}


STOP = set("""a an the and or of to in on for with by at from as is are was were be
been being it its this that these those i me my we you your he she they them do does
did done can could would should will shall may might must how what why when where which
who whom whose there here not no yes if then than so but about into out up down over
under again any some all each more most other such only own same too very just also
get got have has had having one use using used way ways make curl libcurl curl's
s t don doesn isn aren what's it's i'm can't won't""".split())


def content_words(s):
    s = s.lower().replace("\u2019", "'").replace("\u2018", "'")
    out = []
    for w in re.findall(r"[a-z0-9_+#./$'-]+", s):
        w = w.strip(".-'/")
        if w and w not in STOP:
            out.append(w)
    return out


def heading_overlap(question, heading):
    heading = re.sub(r"^\d+(?:\.\d+)*\s+", "", heading)  # drop the entry number
    hw, qw = content_words(heading), content_words(question)
    shared = sorted(set(hw) & set(qw))
    frac = len(shared) / len(set(hw)) if hw else 0.0
    bigrams = sorted(" ".join(b) for b in set(zip(hw, hw[1:])) & set(zip(qw, qw[1:])))
    return frac, shared, bigrams


def word_re(term):
    return re.compile(r"(?<![\w-])%s(?![\w-])" % re.escape(term.lower()))


SHORT_OPT = re.compile(r"^-[A-Za-z]$")
TOKEN_RES = [
    re.compile(r"`([^`]+)`"),                                       # backticked span
    re.compile(r"(?<![\w-])(--[A-Za-z][\w-]*(?:=[^\s`,;)]+)?)"),    # --option[=value]
    re.compile(r"(?<![\w-])(-[A-Za-z])(?![\w-])"),                  # -X short option
    re.compile(r"(?<![\w.])(\d+(?:[.,:]\d+)*[A-Za-z]*)(?![\w])"),   # numbers (with unit)
]


def checkable_tokens(text):
    toks = []
    for rx in TOKEN_RES:
        for m in rx.finditer(text):
            t = m.group(1).rstrip(".,")
            if t:
                toks.append(t)
    return toks


def in_text(token, text):
    """token occurs in text, not as part of a longer word, number or option."""
    if SHORT_OPT.match(token):
        return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(token), text) is not None
    return re.search(r"(?<![\w.])%s(?![\w])" % re.escape(token), text) is not None \
        or (not token[:1].isalnum() and token in text)


def read_jsonl(path, errors):
    recs = []
    if not os.path.isfile(path):
        errors.append("missing file %s" % path)
        return recs
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                errors.append("%s:%d: empty line" % (os.path.basename(path), lineno))
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                errors.append("%s:%d: invalid JSON (%s)" % (os.path.basename(path), lineno, e))
                continue
            if not isinstance(r, dict):
                errors.append("%s:%d: not a JSON object" % (os.path.basename(path), lineno))
                continue
            recs.append(r)
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kb", default=DEFAULT_KB, help="folder holding FAQ.txt")
    ap.add_argument("--dir", default=HERE, help="folder holding the .jsonl files")
    ap.add_argument("--dump", action="store_true", help="print every entry and exit")
    args = ap.parse_args()

    errors, warnings = [], []
    path = os.path.join(args.kb, KB_FILE)
    if not os.path.isfile(path):
        print("ERROR %s not found" % path)
        return 1
    try:
        kb = load_kb(path)
    except ValueError as e:
        print("ERROR %s: %s" % (path, e))
        return 1
    errors.extend("KB: " + p for p in kb["problems"])
    entries = kb["entries"]
    if args.dump:
        for heading, e in entries.items():
            toc = kb["toc"].get(e["num"])
            note = "" if toc == e["title"] else "   [contents: %s]" % toc
            print("=== %s%s\n%s\n" % (heading, note, e["answer"]))
        print("%d entries" % len(entries))
        return 0
    whole_lower = kb["text"].lower()
    raw_lower = kb["raw"].lower()

    # ---------------------------------------------------------------- questions
    q_fields_in = ["id", "question", "kind", "source", "anchor", "heading", "gold"]
    q_fields_out = ["id", "question", "kind", "absent"]
    questions = read_jsonl(os.path.join(args.dir, "questions.jsonl"), errors)
    kinds = Counter(r.get("kind") for r in questions)
    for dup, n in Counter(r.get("id") for r in questions).items():
        if n > 1:
            errors.append("questions: duplicate id %s" % dup)
    for dup, n in Counter(squash((r.get("question") or "").lower()) for r in questions).items():
        if n > 1:
            errors.append("questions: duplicate question %r" % dup)
    for dup, n in Counter(r.get("gold") for r in questions if r.get("gold")).items():
        if n > 1:
            errors.append("questions: duplicate gold %r" % dup)

    in_scope = {}
    per_entry = Counter()
    seen_out = False
    for i, r in enumerate(questions, 1):
        rid = r.get("id")
        where = "questions %s" % rid
        if rid != "%s-%03d" % (PREFIX, i):
            errors.append("%s: expected id %s-%03d at line %d" % (where, PREFIX, i, i))
        q = r.get("question")
        if not isinstance(q, str) or not 3 <= len(q.split()) <= 35:
            errors.append("%s: question missing or not 3-35 words" % where)
            continue
        kind = r.get("kind")
        if kind == "out_of_scope":
            seen_out = True
            if sorted(r) != sorted(q_fields_out):
                errors.append("%s: fields must be exactly %s, got %s" % (where, q_fields_out, sorted(r)))
            absent = r.get("absent")
            if not isinstance(absent, list) or not 1 <= len(absent) <= 3 or \
                    not all(isinstance(t, str) and t.strip() for t in absent):
                errors.append("%s: absent must be a list of 1-3 terms" % where)
                continue
            for t in absent:
                if word_re(t).search(raw_lower) or word_re(t).search(whole_lower):
                    errors.append("%s: absent term %r occurs in the KB" % (where, t))
            if not any(word_re(t).search(q.lower()) for t in absent):
                errors.append("%s: none of the absent terms %s is in the question" % (where, absent))
            continue
        if kind != "in_scope":
            errors.append("%s: kind must be in_scope or out_of_scope" % where)
            continue
        if seen_out:
            errors.append("%s: in_scope line after an out_of_scope line" % where)
        if sorted(r) != sorted(q_fields_in):
            errors.append("%s: fields must be exactly %s, got %s" % (where, q_fields_in, sorted(r)))
        in_scope[rid] = r
        src, anchor, heading, gold = r.get("source"), r.get("anchor"), r.get("heading"), r.get("gold")
        if src != KB_FILE:
            errors.append("%s: source must be %r, got %r" % (where, KB_FILE, src))
        if anchor is not None:
            errors.append("%s: plain-text KB has no anchors; anchor must be null" % where)
        ent = entries.get(squash(heading or ""))
        if ent is None:
            errors.append("%s: heading %r is not an entry title in the body" % (where, heading))
            continue
        if heading != squash(heading):
            errors.append("%s: heading has extra whitespace: %r" % (where, heading))
        if not ent["answer"]:
            errors.append("%s: entry %r has no answer text" % (where, heading))
        per_entry[heading] += 1
        if not isinstance(gold, str) or not 4 <= len(gold.split()) <= 10:
            errors.append("%s: gold must be 4-10 words: %r" % (where, gold))
            continue
        if not gold.isascii():
            errors.append("%s: gold must be plain ASCII: %r" % (where, gold))
        g = squash(gold)
        if g not in ent["answer"]:
            errors.append("%s: gold %r not in the answer text of %r" % (where, gold, heading))
        n_file = whole_lower.count(g.lower())
        if n_file != 1:
            errors.append("%s: gold %r occurs %d times in %s (must be exactly once)"
                          % (where, gold, n_file, KB_FILE))
        if g.lower() in q.lower():
            warnings.append("%s: question contains its gold phrase" % where)
        title = ent["title"].lower().rstrip("?!. ")
        if title and title in q.lower():
            errors.append("%s: question copies the heading" % where)
        frac, shared, bigrams = heading_overlap(q, heading)
        if frac > 0.5:
            errors.append("%s: question reuses %.0f%% of heading content words %s" % (where, 100 * frac, shared))
        elif bigrams:
            warnings.append("%s: shares heading word pairs %s | Q: %s | H: %s" % (where, bigrams, q, heading))
    for heading, n in per_entry.items():
        if n > MAX_PER_ENTRY:
            errors.append("questions: %d questions on %r (max %d)" % (n, heading, MAX_PER_ENTRY))
    n_in, n_out = kinds["in_scope"], kinds["out_of_scope"]
    if n_in < MIN_IN or n_out < MIN_OUT:
        errors.append("questions: need >= %d in_scope and >= %d out_of_scope, got %d / %d"
                      % (MIN_IN, MIN_OUT, n_in, n_out))

    # ---------------------------------------------------------------- followups
    fu_fields = ["id", "first", "then", "target", "kind"]
    fus = read_jsonl(os.path.join(args.dir, "followups.jsonl"), errors)
    for dup, n in Counter(r.get("id") for r in fus).items():
        if n > 1:
            errors.append("followups: duplicate id %s" % dup)
    counters = {"followup": 0, "switch": 0}
    idpfx = {"followup": PREFIX + "fu", "switch": PREFIX + "sw"}
    for r in fus:
        rid = r.get("id")
        where = "followups %s" % rid
        if sorted(r) != sorted(fu_fields):
            errors.append("%s: fields must be exactly %s, got %s" % (where, fu_fields, sorted(r)))
        kind = r.get("kind")
        if kind not in counters:
            errors.append("%s: kind must be followup or switch" % where)
            continue
        counters[kind] += 1
        if rid != "%s-%02d" % (idpfx[kind], counters[kind]):
            errors.append("%s: expected id %s-%02d" % (where, idpfx[kind], counters[kind]))
        for k in ("first", "then"):
            v = r.get(k)
            if not isinstance(v, str) or len(v.split()) < 2:
                errors.append("%s: %s missing or too short" % (where, k))
        if r.get("target") not in in_scope:
            errors.append("%s: target %r is not an in_scope id" % (where, r.get("target")))
        if kind == "followup" and isinstance(r.get("first"), str) and isinstance(r.get("then"), str):
            rep = sorted(set(content_words(r["first"])) & set(content_words(r["then"])))
            if rep:
                warnings.append("%s: `then` repeats words of `first`: %s" % (where, rep))
    if counters["followup"] < MIN_FU or counters["switch"] < MIN_SW:
        errors.append("followups: need >= %d followup and >= %d switch lines, got %d / %d"
                      % (MIN_FU, MIN_SW, counters["followup"], counters["switch"]))

    # ---------------------------------------------------------------- gate answers
    g_fields = ["id", "faithful", "unsupported", "kind"]
    gates = read_jsonl(os.path.join(args.dir, "gate_answers.jsonl"), errors)
    gkinds = Counter(r.get("kind") for r in gates)
    gate_entries = Counter()
    for r in gates:
        rid = r.get("id")
        where = "gate %s" % rid
        if sorted(r) != sorted(g_fields):
            errors.append("%s: fields must be exactly %s, got %s" % (where, g_fields, sorted(r)))
        kind = r.get("kind")
        if kind not in ("number", "claim", "contradiction"):
            errors.append("%s: bad kind %r" % (where, kind))
        q = in_scope.get(rid)
        if q is None:
            errors.append("%s: id is not an in_scope question" % where)
            continue
        gate_entries[q["heading"]] += 1
        ent = entries.get(squash(q.get("heading") or ""))
        if ent is None:
            continue
        body = ent["answer"] + "\n" + ent["raw"]
        for k in ("faithful", "unsupported"):
            v = r.get(k)
            if not isinstance(v, str) or not v.strip():
                errors.append("%s: %s missing" % (where, k))
                continue
            sents = re.split(r"(?<=\[G\]\.)\s+", v.strip())
            if not 1 <= len(sents) <= 4:
                errors.append("%s: %s has %d cited sentences (1-4)" % (where, k, len(sents)))
            for s in sents:
                if not s.endswith(" [G]."):
                    errors.append("%s: %s sentence does not end with ' [G].': %r" % (where, k, s))
                if re.search(r"[.!?] [A-Z]", s[:-5]):
                    warnings.append("%s: %s may hold an uncited sentence: %r" % (where, k, s))
        if not isinstance(r.get("faithful"), str) or not isinstance(r.get("unsupported"), str):
            continue
        if r["faithful"].strip() == r["unsupported"].strip():
            errors.append("%s: faithful and unsupported are identical" % where)
        missing_f = [t for t in checkable_tokens(r["faithful"]) if not in_text(t, body)]
        if missing_f:
            errors.append("%s: faithful has numbers/options not in the entry: %s" % (where, missing_f))
        missing_u = [t for t in checkable_tokens(r["unsupported"]) if not in_text(t, body)]
        if kind == "number" and not missing_u:
            errors.append("%s: number kind but every number/option of `unsupported` is in the entry" % where)
        if kind in ("claim", "contradiction") and missing_u:
            errors.append("%s: %s kind but `unsupported` has numbers/options not in the entry: %s"
                          % (where, kind, missing_u))
        lf, lu = len(r["faithful"]), len(r["unsupported"])
        if not 0.4 <= lu / lf <= 2.5:
            warnings.append("%s: lengths differ a lot (%d vs %d chars)" % (where, lf, lu))
    for heading, n in gate_entries.items():
        if n > 1:
            errors.append("gate: %d lines on the same entry %r" % (n, heading))
    for dup, n in Counter(r.get("id") for r in gates).items():
        if n > 1:
            errors.append("gate: duplicate id %s" % dup)
    if len(gates) < MIN_GATE or any(gkinds[k] < MIN_GATE_KIND for k in ("number", "claim", "contradiction")):
        errors.append("gate: need >= %d lines and >= %d of each kind, got %d %s"
                      % (MIN_GATE, MIN_GATE_KIND, len(gates), dict(gkinds)))

    for w in warnings:
        print("WARN  " + w)
    for e in errors:
        print("ERROR " + e)
    print("KB: %d entries | questions: %d in_scope on %d entries, %d out_of_scope | followups: %d"
          " (%d followup, %d switch) | gate: %d %s | %d warnings, %d errors"
          % (len(entries), n_in, len(per_entry), n_out, len(fus), counters["followup"],
             counters["switch"], len(gates), dict(sorted(gkinds.items())), len(warnings), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
