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
import argparse
import json
import os
import re
import sys
from collections import Counter
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_KB = "/tmp/evalkb/restic"
PREFIX = "restic"
PAGES = ["030_preparing_a_new_repo.html", "040_backup.html", "045_working_with_repos.html",
         "047_tuning_backup_parameters.html", "050_restore.html", "060_forget.html",
         "070_encryption.html", "faq.html"]
MIN_IN, MIN_OUT = 45, 14
MIN_FU, MIN_SW = 22, 7
MIN_GATE, MIN_GATE_KIND = 36, 12
MAX_PER_ENTRY = 2

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}
WS = re.compile(r"\s+")


class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.children, self.parent = tag, dict(attrs), [], parent

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, attrs, self.stack[-1]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack[-1].tag not in ("script", "style"):
            self.stack[-1].children.append(data)


def text_of(node, sep="", skip=lambda n: False):
    """Text of node with tags replaced by `sep`; subtrees where skip(n) are dropped."""
    parts = []

    def walk(n):
        for c in n.children:
            if isinstance(c, str):
                parts.append(c)
            elif not skip(c):
                parts.append(sep)
                walk(c)
                parts.append(sep)
    walk(node)
    return WS.sub(" ", "".join(parts)).strip()


def is_heading(n):
    return n.tag in ("h1", "h2", "h3", "h4", "h5", "h6")


def load_kb_file(path):
    """Parse one HTML file: sections, anchors, whole-file texts."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    tb = TreeBuilder()
    tb.feed(raw)
    tb.close()
    root = tb.root
    anchors = set()
    for n in root.iter():
        for k in ("id", "name"):
            if n.attrs.get(k):
                anchors.add(n.attrs[k])
    sections = {}
    for sec in root.iter():
        if sec.tag != "section" or "id" not in sec.attrs:
            continue
        head = next((c for c in sec.children if isinstance(c, Node) and is_heading(c)), None)
        if head is None:
            continue
        heading = text_of(head, skip=lambda n: "headerlink" in n.classes())
        body_skip = (lambda h: (lambda n: n is h or n.tag == "section"))(head)
        nested = [c for c in sec.iter() if c is not sec and c.tag == "section"]
        rest = []
        for sep in ("", " "):
            # everything in the file except this section's own heading+body;
            # text of nested sections counts as "elsewhere"
            rest.append(text_of(root, sep, (lambda s: (lambda n: n is s))(sec)))
            for ns in nested:
                rest.append(text_of(ns, sep))
        sections[sec.attrs["id"]] = {
            "heading": heading,
            "body": text_of(sec, "", body_skip),
            "body_sp": text_of(sec, " ", body_skip),
            "rest": "\n".join(rest),
        }
    whole = text_of(root, "") + "\n" + text_of(root, " ")
    return {"raw": raw, "anchors": anchors, "sections": sections, "text": whole}


STOP = set("""a an the and or of to in on for with by at from as is are was were be
been being it its this that these those i me my we you your he she they them do does
did done can could would should will shall may might must how what why when where which
who whom whose there here not no yes if then than so but about into out up down over
under again any some all each more most other such only own same too very just also
get got have has had having one use using used way ways make restic
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
    hw, qw = content_words(heading), content_words(question)
    shared = sorted(set(hw) & set(qw))
    frac = len(shared) / len(set(hw)) if hw else 0.0
    bigrams = sorted(" ".join(b) for b in set(zip(hw, hw[1:])) & set(zip(qw, qw[1:])))
    return frac, shared, bigrams


def word_re(term):
    return re.compile(r"(?<![\w-])%s(?![\w-])" % re.escape(term.lower()))


TOKEN_RES = [
    re.compile(r"`([^`]+)`"),                      # backticked span
    re.compile(r"(?<![\w-])(--[A-Za-z][\w-]*(?:=[^\s`,;)]+)?)"),  # --option[=value]
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
    """token occurs in text, not as part of a longer word or number."""
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
    ap.add_argument("--kb", default=DEFAULT_KB, help="folder holding the KB pages (default %s)" % DEFAULT_KB)
    ap.add_argument("--dir", default=HERE, help="folder holding the .jsonl files")
    ap.add_argument("--dump", action="store_true", help="print every section and exit")
    args = ap.parse_args()

    errors, warnings = [], []
    kb = {}
    if not os.path.isdir(args.kb):
        print("ERROR KB folder %s not found" % args.kb)
        return 1
    for name in sorted(os.listdir(args.kb)):
        if name.endswith(".html"):
            kb[name] = load_kb_file(os.path.join(args.kb, name))
    for page in PAGES:
        if page not in kb:
            errors.append("%s not found in %s" % (page, args.kb))
    if args.dump:
        for name, f in kb.items():
            for anchor, s in f["sections"].items():
                print("=== %s#%s\n# %s\n%s\n" % (name, anchor, s["heading"], s["body"]))
        return 0
    all_text = "\n".join(f["text"].lower() + "\n" + f["raw"].lower() for f in kb.values())

    # ---------------------------------------------------------------- questions
    q_fields_in = ["id", "question", "kind", "source", "anchor", "heading", "gold"]
    q_fields_out = q_fields_in + ["absent"]
    questions = read_jsonl(os.path.join(args.dir, "questions.jsonl"), errors)
    kinds = Counter(r.get("kind") for r in questions)
    for dup, n in Counter(r.get("id") for r in questions).items():
        if n > 1:
            errors.append("questions: duplicate id %s" % dup)
    for dup, n in Counter(WS.sub(" ", (r.get("question") or "").lower().strip()) for r in questions).items():
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
        if not isinstance(q, str) or not 3 <= len(q.split()) <= 45:
            errors.append("%s: question missing or not 3-45 words" % where)
            continue
        kind = r.get("kind")
        if kind == "out_of_scope":
            seen_out = True
            if sorted(r) != sorted(q_fields_out):
                errors.append("%s: fields must be exactly %s, got %s" % (where, q_fields_out, sorted(r)))
            for k in ("source", "anchor", "heading", "gold"):
                if r.get(k) is not None:
                    errors.append("%s: out_of_scope must have %s = null" % (where, k))
            absent = r.get("absent")
            if not isinstance(absent, list) or not 1 <= len(absent) <= 3 or \
                    not all(isinstance(t, str) and t.strip() for t in absent):
                errors.append("%s: absent must be a list of 1-3 terms" % where)
                continue
            for t in absent:
                if word_re(t).search(all_text):
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
        if src not in kb:
            errors.append("%s: unknown source %r" % (where, src))
            continue
        if anchor is None:
            errors.append("%s: every section here has an id; anchor must not be null" % where)
            continue
        if anchor not in kb[src]["anchors"]:
            errors.append("%s: anchor %r is no id/name in %s" % (where, anchor, src))
            continue
        sec = kb[src]["sections"].get(anchor)
        if sec is None:
            errors.append("%s: anchor %r is not a section with a heading" % (where, anchor))
            continue
        if not sec["body"]:
            errors.append("%s: %s is a heading without own text (only nested sections)" % (where, anchor))
        per_entry[(src, anchor)] += 1
        if heading != sec["heading"]:
            errors.append("%s: heading %r != actual %r" % (where, heading, sec["heading"]))
        if not isinstance(gold, str) or not 4 <= len(gold.split()) <= 10:
            errors.append("%s: gold must be 4-10 words: %r" % (where, gold))
            continue
        if not gold.isascii():
            errors.append("%s: gold must be plain ASCII: %r" % (where, gold))
        if gold not in sec["body"]:
            errors.append("%s: gold %r not in answer text of %s#%s (tags removed)" % (where, gold, src, anchor))
        if gold not in sec["body_sp"]:
            errors.append("%s: gold %r not in answer text of %s#%s (tags as spaces)" % (where, gold, src, anchor))
        if gold in sec["rest"]:
            errors.append("%s: gold %r also occurs elsewhere in %s" % (where, gold, src))
        for other, f in kb.items():
            if other != src and gold in f["text"]:
                errors.append("%s: gold %r also occurs in %s" % (where, gold, other))
        if gold.lower() in q.lower():
            warnings.append("%s: question contains its gold phrase" % where)
        if heading and heading.lower().rstrip("?!. ") in q.lower():
            errors.append("%s: question copies the heading" % where)
        frac, shared, bigrams = heading_overlap(q, heading or "")
        if frac > 0.5:
            errors.append("%s: question reuses %.0f%% of heading content words %s" % (where, 100 * frac, shared))
        elif bigrams:
            warnings.append("%s: shares heading word pairs %s | Q: %s | H: %s" % (where, bigrams, q, heading))
    for (src, anchor), n in per_entry.items():
        if n > MAX_PER_ENTRY:
            errors.append("questions: %d questions on %s#%s (max %d)" % (n, src, anchor, MAX_PER_ENTRY))
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
    if len(fus) < MIN_FU or counters["switch"] < MIN_SW:
        errors.append("followups: need >= %d lines with >= %d switches, got %d / %d"
                      % (MIN_FU, MIN_SW, len(fus), counters["switch"]))

    # ---------------------------------------------------------------- gate answers
    g_fields = ["id", "faithful", "unsupported", "kind"]
    gates = read_jsonl(os.path.join(args.dir, "gate_answers.jsonl"), errors)
    gkinds = Counter(r.get("kind") for r in gates)
    entries = Counter()
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
        entries[(q["source"], q["anchor"])] += 1
        sec = kb.get(q["source"], {}).get("sections", {}).get(q["anchor"])
        if sec is None:
            continue
        body = sec["body"] + "\n" + sec["body_sp"]
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
                if s.count("[G]") != 1:
                    errors.append("%s: %s sentence has a [G] marker that does not end a sentence: %r" % (where, k, s))
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
    for (src, anchor), n in entries.items():
        if n > 1:
            errors.append("gate: %d lines on the same entry %s#%s" % (n, src, anchor))
    for dup, n in Counter(r.get("id") for r in gates).items():
        if n > 1:
            errors.append("gate: duplicate id %s" % dup)
    if len(gates) < MIN_GATE or any(gkinds[k] < MIN_GATE_KIND for k in ("number", "claim", "contradiction")):
        errors.append("gate: need >= %d lines and >= %d of each kind, got %d %s"
                      % (MIN_GATE, MIN_GATE_KIND, len(gates), dict(gkinds)))
    kc = [gkinds[k] for k in ("number", "claim", "contradiction")]
    if max(kc) - min(kc) > 1:
        errors.append("gate: kinds must be used equally often (one third each), got %s" % dict(gkinds))

    for w in warnings:
        print("WARN  " + w)
    for e in errors:
        print("ERROR " + e)
    print("questions: %d in_scope on %d sections, %d out_of_scope | followups: %d (%d followup, %d switch)"
          " | gate: %d %s | %d warnings, %d errors"
          % (n_in, len(per_entry), n_out, len(fus), counters["followup"], counters["switch"],
             len(gates), dict(sorted(gkinds.items())), len(warnings), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
