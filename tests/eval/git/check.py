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
KB_FILES = ["gitfaq.html", "user-manual.html"]
ORIG_DIR = "/usr/share/doc/git-doc"  # compared with --kb when present
PREFIX = "git"
MIN_IN, N_OUT, MIN_FAQ, MIN_MANUAL, MIN_CHAPTERS = 44, 14, 14, 30, 9
MIN_FU, MIN_SW, MIN_GATE, MIN_GATE_KIND = 22, 7, 27, 9

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}
WS = re.compile(r"\s+")


# ---------------------------------------------------------------- HTML tree
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

    def kids(self):
        return [c for c in self.children if isinstance(c, Node)]


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


def parse(path):
    tb = TreeBuilder()
    with open(path, encoding="utf-8") as f:
        tb.feed(f.read())
    tb.close()
    return tb.root


def text_of(node, sep="", skip=lambda n: False):
    """Text of node, tags replaced by sep, subtrees where skip(n) dropped."""
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


def both(node, skip=lambda n: False):
    return text_of(node, "", skip), text_of(node, " ", skip)


def all_ids(root):
    return {n.attrs[k] for n in root.iter() for k in ("id", "name") if n.attrs.get(k)}


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
            entries.append({"anchor": anchor, "heading": text_of(dt), "body": body,
                            "body_sp": body_sp, "chapter": "gitfaq"})
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
        skip = lambda n, tp=titlepage: n is tp or is_sec(n) or "toc" in n.classes()
        body, body_sp = both(sec, skip)
        top = sec
        while top.parent is not None and not (is_sec(top) and
                                              {"chapter", "appendix", "preface"} & set(top.classes())):
            top = top.parent
        chapter = top.attrs.get("class", "") + ":" + (text_of(top.kids()[0]) if top.kids() else "")
        entries.append({"anchor": names[0] if names else None, "heading": text_of(head),
                        "body": body, "body_sp": body_sp, "chapter": chapter[:60]})
    return entries


def load_kb(kbdir, errors):
    kb = {}
    for name in KB_FILES:
        p = os.path.join(kbdir, name)
        if not os.path.isfile(p):
            errors.append("KB file missing: %s" % p)
            continue
        root = parse(p)
        ents = faq_entries(root) if name == "gitfaq.html" else manual_entries(root)
        full, full_sp = both(root)
        kb[name] = {"entries": ents, "ids": all_ids(root), "full": full, "full_sp": full_sp}
        orig = os.path.join(ORIG_DIR, name)
        if os.path.isfile(orig) and os.path.realpath(orig) != os.path.realpath(p):
            with open(p, "rb") as a, open(orig, "rb") as b:
                if a.read() != b.read():
                    errors.append("KB file %s differs from %s" % (p, orig))
    return kb


# ---------------------------------------------------------------- wording
STOP = set("""a an the and or of to in on for with by at from as is are was were be
been being it its this that these those i i'm i've me my we you your he she they them
do does did done can could would should will shall may might must how what why when
where which who whom whose there here not no yes if then than so but about into out up
down over under again any some all each more most other such only own same too very just
also get got have has had having one use using used way ways make git s t don doesn isn
aren ve ll re m d it's that's what's""".split())


def content_words(s):
    s = s.lower().replace("\u2019", "'")
    return [w.strip(".-'") for w in re.findall(r"[a-z0-9_+#.'-]+", s)
            if w.strip(".-'") and w.strip(".-'") not in STOP]


def overlap_warning(question, heading):
    hw, qw = content_words(heading), content_words(question)
    shared = sorted(set(hw) & set(qw))
    bigrams = sorted(" ".join(b) for b in set(zip(hw, hw[1:])) & set(zip(qw, qw[1:])))
    if bigrams or (hw and len(shared) / len(set(hw)) > 0.5):
        return "shares heading words %s%s" % (shared, " bigrams %s" % bigrams if bigrams else "")
    return None


def whole_word(term, text):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(term.lower()), text) is not None


def read_jsonl(path, errors):
    out = []
    if not os.path.isfile(path):
        errors.append("missing file %s" % path)
        return out
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                errors.append("%s:%d: empty line" % (os.path.basename(path), lineno))
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                errors.append("%s:%d: invalid JSON (%s)" % (os.path.basename(path), lineno, e))
    return out


# ---------------------------------------------------------------- checks
def check_questions(kb, records, errors, warnings):
    in_fields = ["id", "question", "kind", "source", "anchor", "heading", "gold"]
    out_fields = in_fields + ["absent"]
    kb_text = "\n".join(v["full"] + "\n" + v["full_sp"] for v in kb.values()).lower()
    kinds = Counter(r.get("kind") for r in records)
    seen_out = False
    per_entry, per_file, chapters = Counter(), Counter(), set()
    in_ids = {}
    for dup, n in Counter(r.get("id") for r in records).items():
        if n > 1:
            errors.append("questions: duplicate id %s" % dup)
    for dup, n in Counter((r.get("question") or "").strip().lower() for r in records).items():
        if n > 1:
            errors.append("questions: duplicate question %r" % dup)
    for dup, n in Counter(r.get("gold") for r in records if r.get("gold")).items():
        if n > 1:
            errors.append("questions: duplicate gold %r" % dup)

    for i, r in enumerate(records, 1):
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
            seen_out = True
            if sorted(r) != sorted(out_fields):
                errors.append("%s: fields must be exactly %s" % (w, out_fields))
            for k in ("source", "anchor", "heading", "gold"):
                if r.get(k) is not None:
                    errors.append("%s: out_of_scope must have %s = null" % (w, k))
            absent = r.get("absent")
            if not isinstance(absent, list) or not 1 <= len(absent) <= 3 or \
                    not all(isinstance(t, str) and t.strip() for t in absent):
                errors.append("%s: absent must be a list of 1-3 terms" % w)
                continue
            if not any(whole_word(t, q.lower()) for t in absent):
                errors.append("%s: none of the absent terms %s is in the question" % (w, absent))
            for t in absent:
                if whole_word(t, kb_text):
                    errors.append("%s: absent term %r occurs in the KB" % (w, t))
            continue
        if kind != "in_scope":
            errors.append("%s: kind must be in_scope or out_of_scope" % w)
            continue
        if seen_out:
            errors.append("%s: in_scope line after an out_of_scope line" % w)
        if sorted(r) != sorted(in_fields):
            errors.append("%s: fields must be exactly %s" % (w, in_fields))
        src, anchor, heading, gold = r.get("source"), r.get("anchor"), r.get("heading"), r.get("gold")
        if src not in kb:
            errors.append("%s: unknown source %r" % (w, src))
            continue
        matches = [e for e in kb[src]["entries"] if e["heading"] == heading]
        if len(matches) != 1:
            # headings like "Examples" repeat: disambiguate by anchor
            matches = [e for e in matches if e["anchor"] == anchor] or matches
        if len(matches) != 1:
            errors.append("%s: heading %r matches %d entries of %s" % (w, heading, len(matches), src))
            continue
        ent = matches[0]
        if anchor != ent["anchor"]:
            errors.append("%s: anchor %r, expected %r" % (w, anchor, ent["anchor"]))
        if anchor is not None and anchor not in kb[src]["ids"]:
            errors.append("%s: anchor %r is no id/name in %s" % (w, anchor, src))
        key = (src, ent["heading"], ent["anchor"])
        per_entry[key] += 1
        per_file[src] += 1
        chapters.add(ent["chapter"])
        in_ids[rid] = key
        if not isinstance(gold, str) or not 4 <= len(gold.split()) <= 10:
            errors.append("%s: gold must be 4-10 words: %r" % (w, gold))
            continue
        if not gold.isascii():
            errors.append("%s: gold must be ASCII: %r" % (w, gold))
        if gold not in ent["body"]:
            errors.append("%s: gold %r not in answer text (tags removed)" % (w, gold))
        if gold not in ent["body_sp"]:
            errors.append("%s: gold %r not in answer text (tags as spaces)" % (w, gold))
        others = [(n, e["heading"]) for n, v in kb.items() for e in v["entries"] if e is not ent
                  and any(gold in t for t in (e["body"], e["body_sp"], e["heading"]))]
        if others:
            errors.append("%s: gold %r also occurs in %s" % (w, gold, others))
        n_full = sum(v["full"].count(gold) for v in kb.values())
        n_full_sp = sum(v["full_sp"].count(gold) for v in kb.values())
        if n_full != 1 or n_full_sp != 1:
            errors.append("%s: gold %r occurs %d/%d times in the whole KB text (want 1)"
                          % (w, gold, n_full, n_full_sp))
        if q.strip().lower().rstrip("?.!") == heading.lower().rstrip("?.!"):
            errors.append("%s: question copies the heading" % w)
        ow = overlap_warning(q, heading)
        if ow:
            warnings.append("%s: %s | Q: %s | H: %s" % (w, ow, q, heading))

    for key, n in per_entry.items():
        if n > 2:
            errors.append("more than 2 questions on entry %s" % (key,))
    n_in = kinds["in_scope"]
    if n_in < MIN_IN or kinds["out_of_scope"] != N_OUT or len(records) != n_in + N_OUT:
        errors.append("questions: want >= %d in_scope and %d out_of_scope, got %s"
                      % (MIN_IN, N_OUT, dict(kinds)))
    if per_file["gitfaq.html"] < MIN_FAQ or per_file["user-manual.html"] < MIN_MANUAL:
        errors.append("questions: want >= %d on gitfaq.html and >= %d on user-manual.html, got %s"
                      % (MIN_FAQ, MIN_MANUAL, dict(per_file)))
    man_chapters = {c for c in chapters if c != "gitfaq"}
    if len(man_chapters) < MIN_CHAPTERS:
        errors.append("questions: user-manual questions cover only %d chapters" % len(man_chapters))
    return in_ids, kinds, per_file, man_chapters


def check_followups(records, in_ids, errors, warnings):
    fields = ["id", "first", "then", "target", "kind"]
    counts = Counter()
    for dup, n in Counter(r.get("id") for r in records).items():
        if n > 1:
            errors.append("followups: duplicate id %s" % dup)
    for r in records:
        rid = str(r.get("id"))
        if sorted(r) != sorted(fields):
            errors.append("%s: fields must be exactly %s" % (rid, fields))
        kind = r.get("kind")
        want = {"followup": r"%sfu-\d\d" % PREFIX, "switch": r"%ssw-\d\d" % PREFIX}.get(kind)
        if want is None:
            errors.append("%s: kind must be followup or switch" % rid)
            continue
        if not re.fullmatch(want, rid):
            errors.append("%s: id does not match kind %s" % (rid, kind))
        counts[kind] += 1
        for k in ("first", "then"):
            if not isinstance(r.get(k), str) or len(r[k].split()) < 2:
                errors.append("%s: %s missing or too short" % (rid, k))
        if r.get("target") not in in_ids:
            errors.append("%s: target %r is not an in_scope question id" % (rid, r.get("target")))
        if kind == "followup" and isinstance(r.get("first"), str) and isinstance(r.get("then"), str):
            shared = sorted(set(content_words(r["first"])) & set(content_words(r["then"])))
            if shared:
                warnings.append("%s: then repeats words of first %s" % (rid, shared))
    for kind in ("followup", "switch"):
        seq = sorted(r["id"] for r in records if r.get("kind") == kind)
        tag = "fu" if kind == "followup" else "sw"
        if seq != ["%s%s-%02d" % (PREFIX, tag, i) for i in range(1, len(seq) + 1)]:
            errors.append("followups: %s ids not numbered 01..%02d" % (kind, len(seq)))
    if len(records) < MIN_FU or counts["switch"] < MIN_SW:
        errors.append("followups: want >= %d lines with >= %d switches, got %s"
                      % (MIN_FU, MIN_SW, dict(counts)))
    return counts


def check_gate(records, in_ids, errors, warnings):
    fields = ["id", "faithful", "unsupported", "kind"]
    counts = Counter()
    entries = Counter()
    for dup, n in Counter(r.get("id") for r in records).items():
        if n > 1:
            errors.append("gate: duplicate id %s" % dup)
    for r in records:
        rid = str(r.get("id"))
        if sorted(r) != sorted(fields):
            errors.append("gate %s: fields must be exactly %s" % (rid, fields))
        if rid not in in_ids:
            errors.append("gate %s: not an in_scope question id" % rid)
        else:
            entries[in_ids[rid]] += 1
        if r.get("kind") not in ("number", "claim", "contradiction"):
            errors.append("gate %s: bad kind %r" % (rid, r.get("kind")))
        counts[r.get("kind")] += 1
        for k in ("faithful", "unsupported"):
            a = r.get(k)
            if not isinstance(a, str) or not a.strip():
                errors.append("gate %s: %s missing" % (rid, k))
                continue
            if not a.rstrip().rstrip(".").endswith(" [G]"):
                errors.append("gate %s: %s must end with a [G] citation" % (rid, k))
            # every sentence ends with the citation: split after "[G]." / "[G]"
            rest = re.sub(r"\[G\][.!?]?", "\x00", a)
            for piece in rest.split("\x00")[:-1]:
                if re.search(r"[.!?]\s+[A-Z]", piece.strip()):
                    errors.append("gate %s: %s has a sentence without [G]: %r" % (rid, k, piece.strip()))
            if rest.split("\x00")[-1].strip():
                errors.append("gate %s: %s has text after the last [G]" % (rid, k))
            if re.search(r"^#|\*\*", a, re.M):
                errors.append("gate %s: %s uses markdown" % (rid, k))
            n_sent = len(re.findall(r"\[G\]", a))
            if not 1 <= n_sent <= 4:
                errors.append("gate %s: %s should have 1-4 cited sentences" % (rid, k))
        if r.get("faithful") == r.get("unsupported"):
            errors.append("gate %s: faithful == unsupported" % rid)
    for key, n in entries.items():
        if n > 1:
            errors.append("gate: several lines on entry %s" % (key,))
    if len(records) < MIN_GATE or any(counts[k] < MIN_GATE_KIND for k in ("number", "claim", "contradiction")):
        errors.append("gate: want >= %d lines, >= %d of each kind, got %s"
                      % (MIN_GATE, MIN_GATE_KIND, dict(counts)))
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kb", default="/tmp/evalkb/git", help="folder holding gitfaq.html and user-manual.html")
    ap.add_argument("--dir", default=HERE, help="folder holding the three .jsonl files")
    ap.add_argument("--dump", action="store_true", help="print every KB entry and exit")
    args = ap.parse_args()
    errors, warnings = [], []
    kb = load_kb(args.kb, errors)
    if args.dump:
        for name, v in kb.items():
            for e in v["entries"]:
                print("=== %s#%s [%s]\n# %s\n%s\n" % (name, e["anchor"], e["chapter"], e["heading"], e["body"]))
        return 0
    if len(kb) != len(KB_FILES):
        for e in errors:
            print("ERROR " + e)
        return 1
    qs = read_jsonl(os.path.join(args.dir, "questions.jsonl"), errors)
    fus = read_jsonl(os.path.join(args.dir, "followups.jsonl"), errors)
    gate = read_jsonl(os.path.join(args.dir, "gate_answers.jsonl"), errors)
    in_ids, qkinds, per_file, chapters = check_questions(kb, qs, errors, warnings)
    fkinds = check_followups(fus, in_ids, errors, warnings)
    gkinds = check_gate(gate, in_ids, errors, warnings)
    for w in warnings:
        print("WARN  " + w)
    for e in errors:
        print("ERROR " + e)
    print("questions: %d (%s; per file %s; %d manual chapters)" % (len(qs), dict(qkinds), dict(per_file), len(chapters)))
    print("followups: %d %s; gate answers: %d %s" % (len(fus), dict(fkinds), len(gate), dict(gkinds)))
    print("%d warnings, %d errors" % (len(warnings), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
