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
import json
import os
import re
import sys
from collections import Counter
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_KB = "/work/shared/eval/python-faq/kb"
DEFAULT_Q = "/work/shared/eval/python-faq/questions.jsonl"
IN_SCOPE_MAX = 48          # py-001..py-048 are the in-scope question ids
MIN_FU_TOTAL, MIN_SWITCH, MIN_CROSS = 22, 7, 3
MIN_GATE_TOTAL, MIN_GATE_KIND = 27, 9
GATE_KINDS = ("number", "claim", "contradiction")

# The KB section (file, anchor) that answers each conversation's `first`.
FIRST_SOURCES = {
    "pyfu-21": ("library.html", "none-of-my-threads-seem-to-run-why"),
    "pyfu-22": ("windows.html", "how-do-i-run-a-python-program-under-windows"),
    "pyfu-23": ("programming.html", "how-do-i-copy-an-object-in-python"),
    "pyfu-24": ("extending.html", "can-i-create-my-own-functions-in-c"),
    "pyfu-25": ("installed.html", "why-is-python-installed-on-my-machine"),
    "pyfu-26": ("programming.html", "i-want-to-do-a-complicated-sort-can-you-do-a-schwartzian-transform-in-python"),
    "pyfu-27": ("programming.html", "what-is-the-most-efficient-way-to-concatenate-many-strings-together"),
    "pyfu-28": ("programming.html", "why-am-i-getting-an-unboundlocalerror-when-the-variable-has-a-value"),
    "pyfu-29": ("programming.html", "why-do-lambdas-defined-in-a-loop-with-different-values-all-return-the-same-result"),
    "pyfu-30": ("programming.html", "when-i-edit-an-imported-module-and-reimport-it-the-changes-don-t-show-up-why-does-this-happen"),
    "pyfu-31": ("library.html", "how-do-i-read-or-write-binary-data"),
    "pyfu-32": ("windows.html", "why-does-python-sometimes-take-so-long-to-start"),
    "pyfu-33": ("gui.html", "i-can-t-get-key-bindings-to-work-in-tkinter-why"),
    "pyfu-34": ("gui.html", "can-i-have-tk-events-handled-while-waiting-for-i-o"),
    "pyfu-35": ("general.html", "how-does-the-python-version-numbering-scheme-work"),
    "pyfu-36": ("extending.html", "how-can-i-execute-arbitrary-python-statements-from-c"),
    "pyfu-37": ("gui.html", "how-do-i-freeze-tkinter-applications"),
    "pyfu-38": ("design.html", "why-must-self-be-used-explicitly-in-method-definitions-and-calls"),
    "pysw-21": ("design.html", "why-does-python-use-indentation-for-grouping-of-statements"),
    "pysw-22": ("programming.html", "is-there-a-source-code-level-debugger-with-breakpoints-single-stepping-etc"),
    "pysw-23": ("programming.html", "how-do-i-convert-a-string-to-a-number"),
    "pysw-24": ("library.html", "how-do-i-generate-random-numbers-in-python"),
    "pysw-25": ("gui.html", "what-gui-toolkits-exist-for-python"),
    "pysw-26": ("library.html", "how-do-i-access-the-serial-rs232-port"),
    "pysw-27": ("library.html", "how-do-i-send-mail-from-a-python-script"),
    "pysw-28": ("programming.html", "how-do-you-remove-duplicates-from-a-list"),
    "pysw-29": ("programming.html", "what-s-a-negative-index"),
    "pysw-30": ("programming.html", "how-can-i-create-a-stand-alone-binary-from-a-python-script"),
}

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}
WS = re.compile(r"\s+")


class Node:
    __slots__ = ("tag", "attrs", "children")

    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.children = tag, dict(attrs), []

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
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, attrs))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack[-1].tag not in ("script", "style"):
            self.stack[-1].children.append(data)


def text_of(node, sep="", skip=lambda n: False):
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


def parse_sections(path):
    """{anchor: {"heading", "body", "body_sp"}}; body excludes heading and sub-sections."""
    tb = TreeBuilder()
    with open(path, encoding="utf-8") as f:
        tb.feed(f.read())
    tb.close()
    out = {}
    for sec in tb.root.iter():
        if sec.tag != "section" or "id" not in sec.attrs:
            continue
        head = next((c for c in sec.children if isinstance(c, Node)
                     and c.tag in ("h1", "h2", "h3", "h4", "h5", "h6")), None)
        if head is None:
            continue
        skip = lambda n, head=head: n is head or n.tag == "section"
        out[sec.attrs["id"]] = {
            "heading": text_of(head, skip=lambda n: "headerlink" in n.classes()),
            "body": text_of(sec, "", skip),
            "body_sp": text_of(sec, " ", skip),
        }
    return out


def load_jsonl(path, errors, label):
    recs = []
    if not os.path.isfile(path):
        errors.append("%s: file missing: %s" % (label, path))
        return recs
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append("%s line %d: empty line" % (label, n))
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                errors.append("%s line %d: invalid JSON (%s)" % (label, n, e))
                continue
            if not isinstance(r, dict):
                errors.append("%s line %d: not a JSON object" % (label, n))
                continue
            recs.append(r)
    return recs


STOP = set("""a an the and or of to in on for with by at from as is are was were be
been being it its it's this that these those i i'm me my we you your he she they them
do does did done can could would should will shall may might must how what why when
where which who whom whose there here not no yes if then than so but about into out up
down over under again any some all each more most other such only own same too very
just also get got have has had one use using used way make python ok really still
thanks another thing though instead even""".split())
NUMWORDS = set("zero two three four five six seven eight nine ten eleven twelve "
               "hundred thousand million half double twice".split())
STRIP = "()[]{},.;:!?\"'`"


def content_words(s):
    s = s.lower().replace("\u2019", "'")
    out = set()
    for w in re.findall(r"[a-z0-9_+#'-]+", s):
        w = w.strip("'-")
        if len(w) > 2 and w not in STOP:
            out.add(w[:-1] if w.endswith("s") and len(w) > 3 else w)
    return out


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kb", default=DEFAULT_KB)
    ap.add_argument("--questions", default=DEFAULT_Q)
    ap.add_argument("--shared-followups", default=None)
    ap.add_argument("--shared-gate", default=None)
    ap.add_argument("--dir", default=HERE, help="folder holding followups.jsonl and gate_answers.jsonl")
    args = ap.parse_args()
    qdir = os.path.dirname(os.path.abspath(args.questions))
    shared_fu = args.shared_followups or os.path.join(qdir, "followups.jsonl")
    shared_gate = args.shared_gate or os.path.join(qdir, "gate_answers.jsonl")

    errors, warnings = [], []

    # ---- KB
    kb = {}
    if not os.path.isdir(args.kb):
        print("ERROR KB folder missing: %s" % args.kb)
        return 1
    for name in sorted(os.listdir(args.kb)):
        if name.endswith(".html"):
            kb[name] = parse_sections(os.path.join(args.kb, name))
    if not kb:
        print("ERROR no .html files in %s" % args.kb)
        return 1

    def sections_containing(phrase):
        return [(n, a) for n, secs in kb.items() for a, s in secs.items()
                if phrase in s["body"] or phrase in s["body_sp"]]

    # ---- questions
    questions = {}
    for r in load_jsonl(args.questions, errors, "questions"):
        if r.get("id") in questions:
            errors.append("questions: duplicate id %s" % r.get("id"))
        questions[r.get("id")] = r

    checked_q = {}

    def check_target(qid, where):
        """Validate the question line qid; return its KB section dict or None."""
        if qid in checked_q:
            return checked_q[qid]
        sec = None
        m = re.fullmatch(r"py-(\d{3})", qid or "")
        q = questions.get(qid)
        if not m:
            errors.append("%s: target/id %r is not of the form py-NNN" % (where, qid))
        elif q is None:
            errors.append("%s: %s is not a line of %s" % (where, qid, args.questions))
        elif not 1 <= int(m.group(1)) <= IN_SCOPE_MAX:
            errors.append("%s: %s is outside py-001..py-%03d" % (where, qid, IN_SCOPE_MAX))
        elif q.get("kind") != "in_scope":
            errors.append("%s: %s is not an in_scope line" % (where, qid))
        elif q.get("source") not in kb:
            errors.append("%s: %s source %r not in KB" % (where, qid, q.get("source")))
        elif q.get("anchor") not in kb[q["source"]]:
            errors.append("%s: %s anchor %r not in %s" % (where, qid, q.get("anchor"), q["source"]))
        else:
            sec = kb[q["source"]][q["anchor"]]
            if q.get("heading") != sec["heading"]:
                errors.append("%s: %s heading %r != KB %r" % (where, qid, q.get("heading"), sec["heading"]))
            gold = q.get("gold") or ""
            if gold not in sec["body"] or gold not in sec["body_sp"]:
                errors.append("%s: %s gold %r not in its section" % (where, qid, gold))
            others = [x for x in sections_containing(gold) if x != (q["source"], q["anchor"])]
            if others:
                errors.append("%s: %s gold %r also in %s" % (where, qid, gold, others))
        checked_q[qid] = sec
        return sec

    def qkey(qid):
        q = questions.get(qid) or {}
        return (q.get("source"), q.get("anchor"))

    # ---- shared files (for collisions)
    shared_fu_recs = load_jsonl(shared_fu, errors, "shared followups")
    shared_gate_recs = load_jsonl(shared_gate, errors, "shared gate")
    shared_fu_ids = {r.get("id") for r in shared_fu_recs}
    shared_texts = {WS.sub(" ", (r.get(k) or "").lower()).strip()
                    for r in shared_fu_recs for k in ("first", "then")}
    shared_gate_ids = {r.get("id") for r in shared_gate_recs}

    # ---- followups
    fu_path = os.path.join(args.dir, "followups.jsonl")
    fus = load_jsonl(fu_path, errors, "followups")
    fu_fields = ["first", "id", "kind", "target", "then"]
    kinds = Counter()
    same_entry = cross_entry = 0
    for dup, n in Counter(r.get("id") for r in fus).items():
        if n > 1:
            errors.append("followups: duplicate id %s" % dup)
    for dup, n in Counter((r.get("first"), r.get("then")) for r in fus).items():
        if n > 1:
            errors.append("followups: duplicate conversation %r" % (dup,))
    for r in fus:
        rid = r.get("id")
        where = "followups %s" % rid
        if sorted(r) != fu_fields:
            errors.append("%s: fields must be exactly %s, got %s" % (where, fu_fields, sorted(r)))
        m = re.fullmatch(r"py(fu|sw)-(\d{2,})", rid or "")
        if not m:
            errors.append("%s: id must be pyfu-NN or pysw-NN" % where)
            continue
        if int(m.group(2)) < 21:
            errors.append("%s: id number must be >= 21" % where)
        if rid in shared_fu_ids:
            errors.append("%s: id collides with shared %s" % (where, shared_fu))
        kind = r.get("kind")
        if kind not in ("followup", "switch") or (m.group(1) == "fu") != (kind == "followup"):
            errors.append("%s: kind %r does not match the id prefix" % (where, kind))
        kinds[kind] += 1
        first, then = r.get("first"), r.get("then")
        for k, v in (("first", first), ("then", then)):
            if not isinstance(v, str) or len(v.split()) < 3:
                errors.append("%s: %s missing or shorter than 3 words" % (where, k))
            elif WS.sub(" ", v.lower()).strip() in shared_texts:
                errors.append("%s: %s is copied from the shared followups" % (where, k))
        if not isinstance(first, str) or not isinstance(then, str):
            continue
        check_target(r.get("target"), where)
        fs = FIRST_SOURCES.get(rid)
        if fs is None:
            errors.append("%s: no FIRST_SOURCES entry (section answering `first`)" % where)
            continue
        if fs[0] not in kb or fs[1] not in kb[fs[0]]:
            errors.append("%s: FIRST_SOURCES %s#%s not in KB" % (where, fs[0], fs[1]))
        same = fs == qkey(r.get("target"))
        if kind == "switch" and same:
            errors.append("%s: switch targets the section that answers `first`" % where)
        if kind == "followup":
            if same:
                same_entry += 1
            else:
                cross_entry += 1
            shared = content_words(first) & content_words(then)
            if shared:
                warnings.append("%s: `then` repeats words of `first`: %s" % (where, sorted(shared)))
    if len(fus) < MIN_FU_TOTAL:
        errors.append("followups: %d lines, need >= %d" % (len(fus), MIN_FU_TOTAL))
    if kinds["switch"] < MIN_SWITCH:
        errors.append("followups: %d switches, need >= %d" % (kinds["switch"], MIN_SWITCH))
    if cross_entry < MIN_CROSS or same_entry <= cross_entry:
        errors.append("followups: want most followups on the same section as `first` and >= %d "
                      "leading elsewhere; got same=%d cross=%d" % (MIN_CROSS, same_entry, cross_entry))

    # ---- gate answers
    g_path = os.path.join(args.dir, "gate_answers.jsonl")
    gates = load_jsonl(g_path, errors, "gate")
    g_fields = ["faithful", "id", "kind", "unsupported"]
    gkinds = Counter()
    for dup, n in Counter(r.get("id") for r in gates).items():
        if n > 1:
            errors.append("gate: id %s used %d times (use different entries)" % (dup, n))
    for r in gates:
        rid = r.get("id")
        where = "gate %s" % rid
        if sorted(r) != g_fields:
            errors.append("%s: fields must be exactly %s, got %s" % (where, g_fields, sorted(r)))
        if rid in shared_gate_ids:
            errors.append("%s: id also used in shared %s" % (where, shared_gate))
        kind = r.get("kind")
        if kind not in GATE_KINDS:
            errors.append("%s: kind %r not in %s" % (where, kind, GATE_KINDS))
        gkinds[kind] += 1
        sec = check_target(rid, where)
        fa, un = r.get("faithful"), r.get("unsupported")
        if not isinstance(fa, str) or not isinstance(un, str):
            errors.append("%s: faithful/unsupported must be strings" % where)
            continue
        if fa.strip() == un.strip():
            errors.append("%s: faithful == unsupported" % where)
        nsent = {}
        for label, ans in (("faithful", fa), ("unsupported", un)):
            sents, leftover = split_sentences(ans)
            nsent[label] = len(sents)
            if leftover:
                errors.append("%s: %s has text after the last ' [G].': %r" % (where, label, leftover))
            if not 1 <= len(sents) <= 4:
                errors.append("%s: %s has %d sentences (want 1-4)" % (where, label, len(sents)))
            for s in sents:
                if not s:
                    errors.append("%s: %s has an empty sentence" % (where, label))
                elif "[G]" in s:
                    errors.append("%s: %s has [G] mid-sentence: %r" % (where, label, s))
            if re.search(r"(^|\n)\s*#", ans) or "**" in ans.replace("n**2", "").replace("x**2", ""):
                errors.append("%s: %s looks like markdown" % (where, label))
        lf, lu = len(fa.split()), len(un.split())
        if not 0.5 <= lu / max(lf, 1) <= 2.0:
            errors.append("%s: lengths differ too much (%d vs %d words)" % (where, lf, lu))
        if sec is None:
            continue
        sec_text = norm_dash(sec["heading"] + " " + sec["body_sp"] + " " + sec["body"])
        sec_nums = num_tokens(sec_text)
        q_nums = num_tokens(questions[rid].get("question") or "")
        bad = num_tokens(fa) - sec_nums - q_nums
        if bad:
            errors.append("%s: faithful has numbers not in the section or question: %s" % (where, sorted(bad)))
        badn = [n for n in called_names(fa) if n.split(".")[-1] not in sec_text]
        if badn:
            errors.append("%s: faithful calls names not in the section: %s" % (where, badn))
        new_nums = num_tokens(un) - sec_nums - q_nums
        if kind == "number" and not new_nums:
            errors.append("%s: kind number but unsupported has no number/value absent from the section" % where)
        if kind in ("claim", "contradiction") and new_nums:
            errors.append("%s: kind %s but unsupported adds numbers %s" % (where, kind, sorted(new_nums)))
        fw = re.findall(r"\w+", fa.lower().replace("[g]", " "))
        sw = " ".join(re.findall(r"\w+", sec_text.lower()))
        for i in range(len(fw) - 9):
            if " ".join(fw[i:i + 10]) in sw:
                warnings.append("%s: faithful copies 10+ words of the section: %r" % (where, " ".join(fw[i:i + 10])))
                break
    if len(gates) < MIN_GATE_TOTAL:
        errors.append("gate: %d lines, need >= %d" % (len(gates), MIN_GATE_TOTAL))
    for k in GATE_KINDS:
        if gkinds[k] < MIN_GATE_KIND:
            errors.append("gate: %d lines of kind %s, need >= %d" % (gkinds[k], k, MIN_GATE_KIND))

    for w in warnings:
        print("WARN  " + w)
    for e in errors:
        print("ERROR " + e)
    print("followups: %d lines (%d followup: %d same-section, %d cross-section; %d switch); "
          "gate: %d lines %s; %d question lines checked; %d warnings, %d errors"
          % (len(fus), kinds["followup"], same_entry, cross_entry, kinds["switch"],
             len(gates), dict(gkinds), len(checked_q), len(warnings), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
