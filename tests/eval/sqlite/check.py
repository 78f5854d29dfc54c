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

Usage: check.py [--kb DIR] [--dump]
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
KB_FILE = "faq.html"
ORIG = "/usr/share/doc/sqlite3/faq.html"  # compared byte for byte when present
PREFIX = "sq"
MIN_IN, N_OUT = 40, 13
MIN_FU, MIN_SW = 21, 7
MIN_GATE, MIN_GATE_KIND = 27, 9
WS = re.compile(r"\s+")


class Text(HTMLParser):
    """Visible text of an HTML fragment; every tag is replaced by `sep`."""

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
    return WS.sub(" ", "".join(p.parts)).strip()


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
        seg = raw[m.end():end]
        h = HEAD.match(seg)
        if not h:
            raise SystemExit("cannot find the bold question after %s" % m.group(1))
        body = seg[h.end():]
        entries[m.group(1)] = {
            "heading": text(h.group(1)),
            "body": text(body),
            "body_sp": text(body, " "),
        }
    page = (text(raw), text(raw, " "))
    return entries, page, raw


STOP = set("""a an the and or of to in on for with by at from as is are was were be
been being it its this that these those i me my we you your he she they them do does
did done can could would should will shall may might must how what why when where which
who whom whose there here not no yes if then than so but about into out up down over
under again any some all each more most other such only own same too very just also
get got have has had having one use using used way ways make sqlite sqlite's s t
don doesn isn aren didn won it's i'm ok okay and thanks""".split())


def content_words(s):
    s = s.lower().replace("\u2019", "'")
    return [w.strip(".-'") for w in re.findall(r"[a-z0-9_+#.'()-]+", s)
            if w.strip(".-'()") and w.strip(".-'") not in STOP]


def overlap(a, b):
    aw, bw = content_words(a), content_words(b)
    shared = sorted(set(aw) & set(bw))
    ab = {x for x in zip(aw, aw[1:])}
    bb = {x for x in zip(bw, bw[1:])}
    return shared, sorted(" ".join(x) for x in ab & bb), len(set(aw))


def load(path, errors):
    out = []
    if not os.path.isfile(path):
        errors.append("missing file %s" % path)
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append("%s line %d: empty line" % (os.path.basename(path), n))
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                errors.append("%s line %d: invalid JSON (%s)" % (os.path.basename(path), n, e))
    return out


def whole_word(term, hay):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(term.lower()), hay) is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kb", default="/tmp/evalkb/sqlite",
                    help="folder holding faq.html (default /tmp/evalkb/sqlite)")
    ap.add_argument("--dir", default=HERE, help="folder holding the jsonl files")
    ap.add_argument("--dump", action="store_true", help="print every entry and exit")
    args = ap.parse_args()

    errors, warnings = [], []
    kb_path = os.path.join(args.kb, KB_FILE)
    if not os.path.isfile(kb_path):
        print("ERROR KB file missing: %s" % kb_path)
        return 1
    if os.path.isfile(ORIG):
        with open(kb_path, "rb") as a, open(ORIG, "rb") as b:
            if a.read() != b.read():
                errors.append("%s differs from %s" % (kb_path, ORIG))
    entries, page, raw = parse_kb(kb_path)
    if args.dump:
        for a, e in entries.items():
            print("=== %s\n# %s\n%s\n" % (a, e["heading"], e["body"]))
        return 0
    page_lc = (page[0] + "\n" + page[1]).lower()
    raw_lc = raw.lower()

    # ---------------- questions.jsonl ----------------
    qs = load(os.path.join(args.dir, "questions.jsonl"), errors)
    in_fields = ["id", "question", "kind", "source", "anchor", "heading", "gold"]
    out_fields = in_fields + ["absent"]
    kinds = Counter(r.get("kind") for r in qs)
    if kinds["in_scope"] < MIN_IN or kinds["out_of_scope"] != N_OUT or len(qs) != kinds["in_scope"] + N_OUT:
        errors.append("questions: need >= %d in_scope and exactly %d out_of_scope, got %s"
                      % (MIN_IN, N_OUT, dict(kinds)))
    seen_oos = False
    for k in ("id", "question", "gold"):
        for dup, n in Counter((r.get(k) or "").lower() for r in qs if r.get(k)).items():
            if n > 1:
                errors.append("questions: duplicate %s %r" % (k, dup))
    per_entry = Counter()
    in_ids = {}
    for i, r in enumerate(qs, 1):
        rid = r.get("id")
        w = str(rid)
        if rid != "%s-%03d" % (PREFIX, i):
            errors.append("%s: expected id %s-%03d" % (w, PREFIX, i))
        q = r.get("question")
        if not isinstance(q, str) or not 3 <= len(q.split()) <= 35:
            errors.append("%s: question missing or not 3-35 words" % w)
            continue
        kind = r.get("kind")
        if kind == "out_of_scope":
            seen_oos = True
            if sorted(r) != sorted(out_fields):
                errors.append("%s: fields must be exactly %s" % (w, out_fields))
            for k in ("source", "anchor", "heading", "gold"):
                if r.get(k) is not None:
                    errors.append("%s: out_of_scope needs %s = null" % (w, k))
            ab = r.get("absent")
            if not isinstance(ab, list) or not 1 <= len(ab) <= 3 or not all(isinstance(t, str) and t for t in ab):
                errors.append("%s: absent must list 1-3 terms" % w)
                continue
            if not any(whole_word(t, q.lower()) for t in ab):
                errors.append("%s: none of the absent terms %s is in the question" % (w, ab))
            for t in ab:
                if whole_word(t, page_lc):
                    errors.append("%s: absent term %r occurs in the KB text" % (w, t))
                elif whole_word(t, raw_lc):
                    errors.append("%s: absent term %r occurs in the KB HTML source" % (w, t))
            continue
        if kind != "in_scope":
            errors.append("%s: kind must be in_scope or out_of_scope" % w)
            continue
        if seen_oos:
            errors.append("%s: in_scope line after an out_of_scope line" % w)
        if sorted(r) != sorted(in_fields):
            errors.append("%s: fields must be exactly %s" % (w, in_fields))
        in_ids[rid] = r
        if r.get("source") != KB_FILE:
            errors.append("%s: source must be %r" % (w, KB_FILE))
            continue
        anchor = r.get("anchor")
        e = entries.get(anchor)
        if e is None or ('<a name="%s">' % anchor) not in raw:
            errors.append("%s: anchor %r not found" % (w, anchor))
            continue
        per_entry[anchor] += 1
        if r.get("heading") != e["heading"]:
            errors.append("%s: heading %r != %r" % (w, r.get("heading"), e["heading"]))
        gold = r.get("gold")
        if not isinstance(gold, str) or not 4 <= len(gold.split()) <= 10:
            errors.append("%s: gold must be 4-10 words: %r" % (w, gold))
            continue
        if not gold.isascii():
            errors.append("%s: gold must be ASCII: %r" % (w, gold))
        if gold not in e["body"]:
            errors.append("%s: gold %r not in answer of %s (tags removed)" % (w, gold, anchor))
        if gold not in e["body_sp"]:
            errors.append("%s: gold %r not in answer of %s (tags as spaces)" % (w, gold, anchor))
        for mode, full, own in (("tags removed", page[0], e["body"]), ("tags as spaces", page[1], e["body_sp"])):
            if full.count(gold) != own.count(gold):
                errors.append("%s: gold %r also occurs outside %s's answer (%s)" % (w, gold, anchor, mode))
        for a2, e2 in entries.items():
            if a2 != anchor and (gold in e2["body"] or gold in e2["body_sp"] or gold in e2["heading"]):
                errors.append("%s: gold %r also occurs in %s" % (w, gold, a2))
        h = e["heading"]
        hq = re.sub(r"^\(\d+\)\s*", "", h)
        if q.strip().lower().rstrip("?.!") == hq.lower().rstrip("?.!"):
            errors.append("%s: question copies the heading" % w)
        shared, bigrams, nh = overlap(hq, q)
        if bigrams or (nh and len(shared) / nh > 0.5):
            warnings.append("%s: shares heading words %s bigrams %s | Q: %s | H: %s"
                            % (w, shared, bigrams, q, hq))
    for a, n in per_entry.items():
        if n > 2:
            errors.append("entry %s has %d questions (max 2)" % (a, n))
    for a in entries:
        if per_entry[a] == 0:
            errors.append("entry %s has no in_scope question" % a)

    # ---------------- followups.jsonl ----------------
    fus = load(os.path.join(args.dir, "followups.jsonl"), errors)
    fk = Counter(r.get("kind") for r in fus)
    if len(fus) < MIN_FU or fk["switch"] < MIN_SW:
        errors.append("followups: need >= %d lines and >= %d switches, got %s" % (MIN_FU, MIN_SW, dict(fk)))
    for dup, n in Counter(r.get("id") for r in fus).items():
        if n > 1:
            errors.append("followups: duplicate id %s" % dup)
    nfu = nsw = 0
    for r in fus:
        w = str(r.get("id"))
        if sorted(r) != sorted(["id", "first", "then", "target", "kind"]):
            errors.append("%s: fields must be id, first, then, target, kind" % w)
        kind = r.get("kind")
        if kind == "followup":
            nfu += 1
            exp = "%sfu-%02d" % (PREFIX, nfu)
        elif kind == "switch":
            nsw += 1
            exp = "%ssw-%02d" % (PREFIX, nsw)
        else:
            errors.append("%s: kind must be followup or switch" % w)
            continue
        if r.get("id") != exp:
            errors.append("%s: expected id %s" % (w, exp))
        if r.get("target") not in in_ids:
            errors.append("%s: target %r is not an in_scope question id" % (w, r.get("target")))
        for k in ("first", "then"):
            if not isinstance(r.get(k), str) or len(r[k].split()) < 3:
                errors.append("%s: %s missing or too short" % (w, k))
        if kind == "followup" and isinstance(r.get("first"), str) and isinstance(r.get("then"), str):
            shared, bigrams, _ = overlap(r["first"], r["then"])
            if shared:
                warnings.append("%s: then repeats words of first %s | %s -> %s"
                                % (w, shared, r["first"], r["then"]))

    # ---------------- gate_answers.jsonl ----------------
    gates = load(os.path.join(args.dir, "gate_answers.jsonl"), errors)
    gk = Counter(r.get("kind") for r in gates)
    if len(gates) < MIN_GATE or any(gk[k] < MIN_GATE_KIND for k in ("number", "claim", "contradiction")):
        errors.append("gate: need >= %d lines and >= %d of each kind, got %s" % (MIN_GATE, MIN_GATE_KIND, dict(gk)))
    gate_entries = Counter()
    for dup, n in Counter(r.get("id") for r in gates).items():
        if n > 1:
            errors.append("gate: duplicate id %s" % dup)
    for r in gates:
        w = "gate %s" % r.get("id")
        if sorted(r) != sorted(["id", "faithful", "unsupported", "kind"]):
            errors.append("%s: fields must be id, faithful, unsupported, kind" % w)
        if r.get("id") not in in_ids:
            errors.append("%s: id is not an in_scope question id" % w)
        else:
            gate_entries[in_ids[r["id"]]["anchor"]] += 1
        if r.get("kind") not in ("number", "claim", "contradiction"):
            errors.append("%s: bad kind %r" % (w, r.get("kind")))
        for k in ("faithful", "unsupported"):
            a = r.get(k)
            if not isinstance(a, str) or not a.strip():
                errors.append("%s: %s missing" % (w, k))
                continue
            # every sentence ends with " [G]" (before its full stop)
            sents = [s for s in re.split(r"(?<=\[G\]\.)\s+", a.strip()) if s]
            for s in sents:
                if not s.endswith(" [G]."):
                    errors.append("%s: %s sentence does not end with ' [G].': %r" % (w, k, s))
            if not 1 <= len(sents) <= 4:
                errors.append("%s: %s must have 1-4 sentences" % (w, k))
            if a.count("[G]") != len(sents):
                errors.append("%s: %s must carry exactly one [G], at the end of each sentence" % (w, k))
            if re.search(r"^#|\*\*", a, re.M):
                errors.append("%s: %s uses markdown" % (w, k))
        if r.get("faithful") == r.get("unsupported"):
            errors.append("%s: faithful == unsupported" % w)
    for a, n in gate_entries.items():
        if n > 1:
            errors.append("gate: entry %s used by %d lines" % (a, n))

    for x in warnings:
        print("WARN  " + x)
    for x in errors:
        print("ERROR " + x)
    print("questions: %s, %d/%d entries used; followups: %s; gate: %s; %d warnings, %d errors"
          % (dict(kinds), len(per_entry), len(entries), dict(fk), dict(gk), len(warnings), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
