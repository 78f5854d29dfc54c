#!/usr/bin/env python3
"""Verify the Nimbus Notes dev-set extension against the knowledge base.

Files checked (all in this folder):
  questions-added.jsonl   new in_scope (nb-035...) and out_of_scope (oos-011...) lines
  followups.jsonl         two-message conversations (nbfu-NN followups, nbsw-NN switches)
  gate_answers.jsonl      faithful / unsupported answer pairs (number | claim | contradiction)
The existing ../nimbus-questions.jsonl is read (never written) so that follow-up
targets and gate ids may name an in_scope line of either question file.

KB model (read-only, --kb DIR, default /work/main/knowledge):
  *.md   one section per ATX heading; anchor = GitHub slug of the heading; body =
         text up to the next heading of any level. Text is checked twice: raw
         markdown and markup-stripped (**, `, table pipes, links).
  *.html a section is an element with an id that is a <section>/<article>/<div>
         holding a heading (body = its text minus heading and nested sections), or
         an h1-h6 with an id (body = following siblings up to the next heading).
         A heading without id is addressable with anchor null. Text is checked
         with tags removed and with tags replaced by a space.
  *.csv  one section per row; heading = question column, anchor = its slug,
         body = answer column.
  *.pdf  one section per page, anchor "page=N"; heading = the outline (bookmark)
         title pointing at that page; body = page text minus bold heading lines.
         Text is extracted with a small stdlib parser (ASCII85/Flate streams,
         Tj/TJ strings, WinAnsi); if pypdf or pdftotext is available the gold
         phrases are also checked against their output.

Usage: python3 check.py [--kb DIR] [--dump]   (stdlib only)
Exit status 0 when everything passes, 1 otherwise. Warnings do not fail.
"""
import argparse
import base64
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
EXISTING = os.path.join(os.path.dirname(HERE), "nimbus-questions.jsonl")
ADDED = os.path.join(HERE, "questions-added.jsonl")
FOLLOWUPS = os.path.join(HERE, "followups.jsonl")
GATE = os.path.join(HERE, "gate_answers.jsonl")

MIN_ADDED_IN, MIN_ADDED_OUT = 10, 5
MIN_FOLLOWUPS, MIN_SWITCHES = 22, 7
MIN_GATE, MIN_GATE_PER_KIND = 27, 9
MAX_PER_ENTRY = 2

WS = re.compile(r"\s+")


def collapse(s):
    return WS.sub(" ", s).strip()


def slugify(s):
    """GitHub-style heading slug."""
    s = s.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


# ---------------------------------------------------------------- markdown
MD_HEAD = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def md_plain(text):
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", s):
            continue  # table separator row
        if s.startswith("|"):
            line = " ".join(c.strip() for c in s.strip("|").split("|"))
        line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = line.replace("**", "").replace("__", "").replace("`", "")
        line = re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", line)
        out.append(line)
    return "\n".join(out)


def parse_md(path):
    raw = open(path, encoding="utf-8").read()
    sections, cur, fence = [], None, False
    seen = Counter()
    for line in raw.split("\n"):
        if line.strip().startswith("```"):
            fence = not fence
        m = None if fence else MD_HEAD.match(line)
        if m:
            heading = collapse(md_plain(m.group(2)))
            slug = slugify(heading)
            if seen[slug]:
                slug = "%s-%d" % (slug, seen[slug])
            seen[slugify(heading)] += 1
            cur = {"anchor": slug, "heading": heading, "lines": []}
            sections.append(cur)
        elif cur is not None:
            cur["lines"].append(line)
    for s in sections:
        body = "\n".join(s.pop("lines"))
        s["bodies"] = [collapse(body), collapse(md_plain(body))]
    return sections, [collapse(raw), collapse(md_plain(raw))]


# ---------------------------------------------------------------- html
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}


class Node:
    __slots__ = ("name", "attrs", "children", "parent")

    def __init__(self, name, attrs, parent):
        self.name, self.attrs, self.children, self.parent = name, dict(attrs), [], parent

    def get(self, k):
        return self.attrs.get(k)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def has_heading(self):
        return any(n.name in HEADINGS for n in self.iter())

    def text(self, sep):
        parts = []

        def walk(n):
            for c in n.children:
                if isinstance(c, str):
                    parts.append(c)
                else:
                    parts.append(sep); walk(c); parts.append(sep)
        walk(self)
        return "".join(parts)


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
            if self.stack[i].name == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack[-1].name not in ("script", "style", "head", "title"):
            self.stack[-1].children.append(data)


def parse_html(path):
    raw = open(path, encoding="utf-8").read()
    tb = TreeBuilder()
    tb.feed(raw)
    tb.close()

    def texts(nodes):
        a = "".join(n if isinstance(n, str) else n.text("") for n in nodes)
        b = "".join(n if isinstance(n, str) else " " + n.text(" ") + " " for n in nodes)
        return [collapse(a), collapse(b)]

    def after_heading(h):
        sibs = h.parent.children
        nodes = []
        for sib in sibs[sibs.index(h) + 1:]:
            if isinstance(sib, Node) and sib.has_heading():
                break
            nodes.append(sib)
        return texts(nodes)

    def owner_block(h):
        """The id-carrying block whose direct heading child is h, if any."""
        p = h.parent
        if p is not None and p.get("id") and p.name not in HEADINGS:
            first = next((c for c in p.children if isinstance(c, Node) and c.name in HEADINGS), None)
            if first is h:
                return p
        return None

    sections = []
    for el in tb.root.iter():
        if el.name in HEADINGS:
            if el.get("id"):
                sections.append({"anchor": el.get("id"), "heading": collapse(el.text(" ")),
                                 "bodies": after_heading(el)})
            elif owner_block(el) is None:
                sections.append({"anchor": None, "heading": collapse(el.text(" ")),
                                 "bodies": after_heading(el)})
        elif el.get("id"):
            head = next((c for c in el.children if isinstance(c, Node) and c.name in HEADINGS), None)
            if head is None:
                continue
            nodes = [c for c in el.children if c is not head
                     and not (isinstance(c, Node) and c.name == "section")]
            sections.append({"anchor": el.get("id"), "heading": collapse(head.text(" ")),
                             "bodies": texts(nodes)})
    # whole-file text includes <title>
    title = re.search(r"<title>(.*?)</title>", raw, re.S | re.I)
    t = (title.group(1) + "\n") if title else ""
    whole = [collapse(t + tb.root.text("")), collapse(t + tb.root.text(" "))]
    return sections, whole


# ---------------------------------------------------------------- csv
def parse_csv(path):
    raw = open(path, encoding="utf-8", newline="").read()
    rows = list(csv.DictReader(io.StringIO(raw)))
    sections = []
    for r in rows:
        q, a = collapse(r["question"]), collapse(r["answer"])
        sections.append({"anchor": slugify(q), "heading": q, "bodies": [a]})
    joined = "\n".join(r["question"] + "\n" + r["answer"] for r in rows)
    return sections, [collapse(raw), collapse(joined)]


# ---------------------------------------------------------------- pdf (stdlib)
OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b(.*?)\bendobj", re.S)


def pdf_string(data, i):
    """Parse a literal string starting at data[i] == '('; return (bytes, next index)."""
    out, depth, i = bytearray(), 1, i + 1
    esc = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
    while i < len(data):
        c = data[i]
        if c == 0x5C:  # backslash
            i += 1
            c = data[i]
            if c in esc:
                out.append(esc[c]); i += 1
            elif 0x30 <= c <= 0x37:
                j = i
                while j < len(data) and j < i + 3 and 0x30 <= data[j] <= 0x37:
                    j += 1
                out.append(int(data[i:j], 8) & 0xFF); i = j
            elif c in (10, 13):
                i += 1
                if c == 13 and i < len(data) and data[i] == 10:
                    i += 1
            else:
                out.append(c); i += 1
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1
    return bytes(out), i


def pdf_decode_stream(dct, data):
    filters = re.findall(rb"/(ASCII85Decode|FlateDecode|A85|Fl)\b", dct.split(b"/Filter", 1)[1]
                         if b"/Filter" in dct else b"")
    for f in filters:
        if f in (b"ASCII85Decode", b"A85"):
            d = data.strip()
            if d.endswith(b"~>"):
                d = d[:-2]
            if d.startswith(b"<~"):
                d = d[2:]
            data = base64.a85decode(d, adobe=False)
        else:
            data = zlib.decompress(data)
    return data


def pdf_lines(content):
    """[(font, text)] for each shown string group, in content order."""
    lines, font, i, pending = [], None, 0, []
    n = len(content)
    while i < n:
        c = content[i:i + 1]
        if c == b"(":
            s, i = pdf_string(content, i)
            pending.append(s.decode("cp1252", errors="replace"))
            continue
        m = re.compile(rb"/([A-Za-z0-9_.]+)\s+[\d.]+\s+Tf").match(content, i)
        if m:
            font = m.group(1).decode()
            i = m.end()
            continue
        m = re.compile(rb"(Tj|TJ|'|\")(?![A-Za-z])").match(content, i)
        if m and pending:
            lines.append((font, "".join(pending)))
            pending = []
            i = m.end()
            continue
        i += 1
    return lines


def parse_pdf(path):
    data = open(path, "rb").read()
    objs = {}
    for m in OBJ.finditer(data):
        objs[int(m.group(1))] = m.group(3)

    def stream_of(num):
        body = objs[num]
        m = re.search(rb"^(.*?)stream\r?\n(.*?)\r?\n?endstream", body, re.S)
        return pdf_decode_stream(m.group(1), m.group(2))

    # fonts: resource name -> bold?
    bold = set()
    for num, body in objs.items():
        m = re.search(rb"/BaseFont\s*/([^\s/>]+).*?/Name\s*/([^\s/>]+)", body, re.S) or \
            re.search(rb"/Name\s*/([^\s/>]+).*?/BaseFont\s*/([^\s/>]+)", body, re.S)
        if m and b"/Font" in body:
            base, name = (m.group(1), m.group(2)) if m.re.pattern.startswith(rb"/BaseFont") else (m.group(2), m.group(1))
            if b"Bold" in base:
                bold.add(name.decode())
    # page order from the root /Pages tree
    root = next(num for num, b in objs.items() if re.search(rb"/Type\s*/Catalog", b))
    pages_ref = int(re.search(rb"/Pages\s+(\d+)\s+0\s+R", objs[root]).group(1))

    def walk(num):
        b = objs[num]
        kids = re.search(rb"/Kids\s*\[([^\]]*)\]", b)
        if kids and re.search(rb"/Type\s*/Pages", b):
            out = []
            for k in re.findall(rb"(\d+)\s+0\s+R", kids.group(1)):
                out += walk(int(k))
            return out
        return [num]
    pages = walk(pages_ref)
    # outline titles -> page objects
    titles = {}
    for num, b in objs.items():
        m = re.search(rb"/Dest\s*\[\s*(\d+)\s+0\s+R", b)
        t = re.search(rb"/Title\s*\(", b)
        if m and t:
            s, _ = pdf_string(b, t.end() - 1)
            titles.setdefault(int(m.group(1)), collapse(s.decode("cp1252", errors="replace")))
    sections, whole = [], []
    for idx, pnum in enumerate(pages, 1):
        cont = re.search(rb"/Contents\s+(\d+)\s+0\s+R", objs[pnum])
        lines = pdf_lines(stream_of(int(cont.group(1)))) if cont else []
        heads = [t for f, t in lines if f in bold]
        heading = titles.get(pnum) or (collapse(heads[-1]) if heads else "")
        page_text = collapse(" ".join(t for _, t in lines))
        body = collapse(" ".join(t for f, t in lines if f not in bold))
        sections.append({"anchor": "page=%d" % idx, "heading": heading, "bodies": [body],
                         "page_text": page_text})
        whole.append(page_text)
    return sections, [collapse(" ".join(whole))]


def external_pdf_pages(path):
    """Page texts from pypdf or pdftotext when available, else None."""
    try:
        import pypdf  # noqa
        return "pypdf", [collapse(p.extract_text() or "") for p in pypdf.PdfReader(path).pages]
    except Exception:
        pass
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True).stdout
        return "pdftotext", [collapse(p) for p in out.split("\f")]
    return None, None


# ---------------------------------------------------------------- KB
def load_kb(kb_dir):
    kb = {}
    for dirpath, _, files in os.walk(kb_dir):
        for fn in sorted(files):
            p = os.path.join(dirpath, fn)
            rel = os.path.relpath(p, kb_dir).replace(os.sep, "/")
            ext = fn.rsplit(".", 1)[-1].lower()
            parser = {"md": parse_md, "html": parse_html, "htm": parse_html,
                      "csv": parse_csv, "pdf": parse_pdf}.get(ext)
            if parser is None:
                continue
            secs, whole = parser(p)
            kb[rel] = {"sections": secs, "whole": whole, "path": p, "ext": ext}
    return kb


def find_section(kb, source, anchor, heading=None):
    f = kb.get(source)
    if f is None:
        return None
    for s in f["sections"]:
        if anchor is not None and s["anchor"] == anchor:
            return s
        if anchor is None and s["anchor"] is None and s["heading"] == heading:
            return s
    return None


# ---------------------------------------------------------------- wording
STOP = set("""a an the and or of to in on for with by at from as is are was were be
been being it its this that these those i me my we you your he she they them do does
did done can could would should will shall may might must how what why when where which
who whom whose there here not no yes if then than so but about into out up down over
under again any some all each more most other such only own same too very just also
get got have has had having one use using used way ways make nimbus notes note
s t don doesn isn aren im i'm it's""".split())


def content_words(s):
    ws = re.findall(r"[a-z0-9_+#.'-]+", s.lower().replace("\u2019", "'"))
    return [w.strip(".-'") for w in ws if w.strip(".-'") and w.strip(".-'") not in STOP]


def stem(w):
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > 4 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def overlap_warning(question, heading):
    hw = [stem(w) for w in content_words(heading)]
    qw = [stem(w) for w in content_words(question)]
    shared = sorted(set(hw) & set(qw))
    hb = {(a, b) for a, b in zip(hw, hw[1:])}
    qb = {(a, b) for a, b in zip(qw, qw[1:])}
    bigrams = sorted(" ".join(b) for b in hb & qb)
    if bigrams or (hw and len(shared) / len(set(hw)) > 0.5):
        return "shares heading words %s%s" % (shared, " bigrams %s" % bigrams if bigrams else "")
    return None


def whole_word(term, text):
    return re.search(r"(?<!\w)%s(?!\w)" % re.escape(term.lower()), text.lower()) is not None


NUM = re.compile(r"(?<![\w-])\$?\d[\d,.:]*%?")


def numbers(s):
    return {n.rstrip(".,:") for n in NUM.findall(s)}


def sentences(s):
    return [p for p in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'(])", s.strip()) if p]


# ---------------------------------------------------------------- main
def read_jsonl(path, errors):
    out = []
    if not os.path.isfile(path):
        errors.append("missing file %s" % path)
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append("%s:%d: empty line" % (os.path.basename(path), n))
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                errors.append("%s:%d: invalid JSON (%s)" % (os.path.basename(path), n, e))
                continue
            if not isinstance(r, dict):
                errors.append("%s:%d: not an object" % (os.path.basename(path), n))
                continue
            out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kb", default="/work/main/knowledge")
    ap.add_argument("--dump", action="store_true", help="print every KB section and exit")
    args = ap.parse_args()

    kb = load_kb(args.kb)
    if args.dump:
        for name, f in kb.items():
            for s in f["sections"]:
                print("=== %s#%s\n# %s\n%s\n" % (name, s["anchor"], s["heading"], s["bodies"][-1]))
        return 0

    errors, warnings = [], []
    if not kb:
        print("ERROR no KB files under %s" % args.kb)
        return 1
    all_kb_lower = "\n\n".join(t for f in kb.values() for t in f["whole"]).lower()
    all_raw_lower = all_kb_lower
    for f in kb.values():
        if f["ext"] != "pdf":
            all_raw_lower += "\n\n" + open(f["path"], encoding="utf-8").read().lower()

    ext_pdf = {}
    for name, f in kb.items():
        if f["ext"] == "pdf":
            tool, pages = external_pdf_pages(f["path"])
            ext_pdf[name] = (tool, pages)
            if pages is None:
                warnings.append("%s: neither pypdf nor pdftotext available; PDF checked "
                                "with the built-in extractor only" % name)

    # ---------- existing question file (read only)
    existing = read_jsonl(EXISTING, errors)
    added = read_jsonl(ADDED, errors)
    ex_ids = [r.get("id") for r in existing]
    in_scope = {}  # id -> record
    for r in existing:
        if r.get("kind") == "in_scope":
            in_scope[r["id"]] = r

    # ---------- questions-added.jsonl
    q_fields = ["id", "question", "kind", "source", "anchor", "heading", "gold"]
    oos_fields = q_fields + ["absent"]
    kinds = Counter(r.get("kind") for r in added)
    ids = [r.get("id") for r in added]
    for dup, n in Counter(ids + ex_ids).items():
        if n > 1:
            errors.append("duplicate id %s (within or across question files)" % dup)
    qs = [collapse(str(r.get("question", ""))).lower() for r in added + existing]
    for dup, n in Counter(qs).items():
        if n > 1:
            errors.append("duplicate question %r" % dup)
    golds = [r.get("gold") for r in added + existing if r.get("gold")]
    for dup, n in Counter(golds).items():
        if n > 1:
            errors.append("duplicate gold %r" % dup)

    in_ids = [r.get("id") for r in added if r.get("kind") == "in_scope"]
    out_ids = [r.get("id") for r in added if r.get("kind") == "out_of_scope"]
    exp_in = ["nb-%03d" % i for i in range(35, 35 + len(in_ids))]
    exp_out = ["oos-%03d" % i for i in range(11, 11 + len(out_ids))]
    if in_ids != exp_in:
        errors.append("in_scope ids must run nb-035.. in order, got %s" % in_ids)
    if out_ids != exp_out:
        errors.append("out_of_scope ids must run oos-011.. in order, got %s" % out_ids)
    if len(in_ids) < MIN_ADDED_IN or len(out_ids) < MIN_ADDED_OUT:
        errors.append("need >= %d in_scope and >= %d out_of_scope, got %d / %d"
                      % (MIN_ADDED_IN, MIN_ADDED_OUT, len(in_ids), len(out_ids)))

    # entries used by the existing file
    entry_use = Counter()
    existing_entries = set()
    for r in existing:
        if r.get("kind") == "in_scope":
            key = (r.get("source"), r.get("anchor"))
            existing_entries.add(key)
            entry_use[key] += 1
            if find_section(kb, r.get("source"), r.get("anchor")) is None:
                warnings.append("existing %s: %s#%s not found in KB" % (r.get("id"), r.get("source"), r.get("anchor")))

    sections_of = {}  # id -> section (for gate checks)
    for r in existing:
        if r.get("kind") == "in_scope":
            s = find_section(kb, r.get("source"), r.get("anchor"))
            if s:
                sections_of[r["id"]] = s
    per_file = Counter()
    for r in added:
        rid = r.get("id")
        q = r.get("question")
        if not isinstance(q, str) or not 3 <= len(q.split()) <= 35:
            errors.append("%s: question missing or not 3-35 words" % rid)
            continue
        if r.get("kind") == "out_of_scope":
            if sorted(r) != sorted(oos_fields):
                errors.append("%s: fields must be exactly %s, got %s" % (rid, oos_fields, sorted(r)))
            for k in ("source", "anchor", "heading", "gold"):
                if r.get(k) is not None:
                    errors.append("%s: out_of_scope must have %s = null" % (rid, k))
            absent = r.get("absent")
            if not isinstance(absent, list) or not 1 <= len(absent) <= 3 or \
                    not all(isinstance(t, str) and t.strip() for t in absent):
                errors.append("%s: absent must be a list of 1-3 terms" % rid)
                continue
            if not any(whole_word(t, q) for t in absent):
                errors.append("%s: none of the absent terms %s is in the question" % (rid, absent))
            for t in absent:
                if whole_word(t, all_raw_lower):
                    errors.append("%s: absent term %r occurs in the KB" % (rid, t))
            continue
        if r.get("kind") != "in_scope":
            errors.append("%s: kind must be in_scope or out_of_scope" % rid)
            continue
        if sorted(r) != sorted(q_fields):
            errors.append("%s: fields must be exactly %s, got %s" % (rid, q_fields, sorted(r)))
        in_scope[rid] = r
        src, anchor, heading, gold = r.get("source"), r.get("anchor"), r.get("heading"), r.get("gold")
        if src not in kb:
            errors.append("%s: unknown source %r" % (rid, src))
            continue
        sec = find_section(kb, src, anchor, heading)
        if sec is None:
            errors.append("%s: section %r / %r not found in %s" % (rid, anchor, heading, src))
            continue
        if anchor is None and any(s["anchor"] is not None and s["heading"] == heading
                                  for s in kb[src]["sections"]):
            errors.append("%s: anchor null but the heading %r has an id" % (rid, heading))
        sections_of[rid] = sec
        per_file[src] += 1
        key = (src, anchor if anchor is not None else "heading:" + heading)
        entry_use[key] += 1
        if key in existing_entries:
            errors.append("%s: %s#%s is already covered by the existing file" % (rid, src, anchor))
        if heading != sec["heading"]:
            errors.append("%s: heading %r != actual %r" % (rid, heading, sec["heading"]))
        if not isinstance(gold, str) or not 4 <= len(gold.split()) <= 10:
            errors.append("%s: gold must be 4-10 words: %r" % (rid, gold))
            continue
        if not gold.isascii():
            errors.append("%s: gold must be plain ASCII: %r" % (rid, gold))
        for v, body in enumerate(sec["bodies"]):
            if gold not in body:
                errors.append("%s: gold %r not in body variant %d of %s#%s" % (rid, gold, v, src, anchor))
        # nowhere else: every text variant of every file
        gl = gold.lower()
        for name, f in kb.items():
            for v, whole in enumerate(f["whole"]):
                n_all = whole.lower().count(gl)
                n_own = 0
                if name == src:
                    bodies = sec["bodies"]
                    n_own = bodies[min(v, len(bodies) - 1)].lower().count(gl)
                if n_all != n_own:
                    errors.append("%s: gold %r occurs outside %s#%s (in %s, text variant %d)"
                                  % (rid, gold, src, anchor, name, v))
        if kb[src]["ext"] == "pdf":
            tool, pages = ext_pdf.get(src, (None, None))
            if pages is not None:
                pn = int(anchor.split("=")[1])
                if gold not in pages[pn - 1]:
                    errors.append("%s: gold %r not in %s text of page %d" % (rid, gold, tool, pn))
                if sum(p.lower().count(gl) for p in pages) != pages[pn - 1].lower().count(gl):
                    errors.append("%s: gold %r on another page in %s text" % (rid, gold, tool))
        if collapse(q).lower().rstrip("?") == heading.lower().rstrip("?"):
            errors.append("%s: question copies the heading" % rid)
        w = overlap_warning(q, heading)
        if w:
            warnings.append("%s: %s | Q: %s | H: %s" % (rid, w, q, heading))
    for key, n in entry_use.items():
        if n > MAX_PER_ENTRY:
            errors.append("entry %s#%s has %d questions (max %d)" % (key[0], key[1], n, MAX_PER_ENTRY))

    # ---------- followups.jsonl
    fus = read_jsonl(FOLLOWUPS, errors)
    fu_fields = ["id", "first", "then", "target", "kind"]
    n_fu = n_sw = 0
    for dup, n in Counter(r.get("id") for r in fus).items():
        if n > 1:
            errors.append("followups: duplicate id %s" % dup)
    for r in fus:
        rid = r.get("id")
        if sorted(r) != sorted(fu_fields):
            errors.append("%s: fields must be exactly %s" % (rid, fu_fields))
        kind = r.get("kind")
        if kind == "followup":
            n_fu += 1
            if rid != "nbfu-%02d" % n_fu:
                errors.append("%s: expected id nbfu-%02d" % (rid, n_fu))
        elif kind == "switch":
            n_sw += 1
            if rid != "nbsw-%02d" % n_sw:
                errors.append("%s: expected id nbsw-%02d" % (rid, n_sw))
        else:
            errors.append("%s: kind must be followup or switch" % rid)
        for k in ("first", "then"):
            if not isinstance(r.get(k), str) or len(r[k].split()) < 2:
                errors.append("%s: %s missing or too short" % (rid, k))
        if r.get("target") not in in_scope:
            errors.append("%s: target %r is not an in_scope id of either question file" % (rid, r.get("target")))
        if kind == "followup" and isinstance(r.get("first"), str) and isinstance(r.get("then"), str):
            shared = sorted({stem(w) for w in content_words(r["first"])} &
                            {stem(w) for w in content_words(r["then"])})
            if shared:
                warnings.append("%s: then repeats words of first %s" % (rid, shared))
    if len(fus) < MIN_FOLLOWUPS or n_sw < MIN_SWITCHES:
        errors.append("followups: need >= %d lines and >= %d switches, got %d lines, %d switches"
                      % (MIN_FOLLOWUPS, MIN_SWITCHES, len(fus), n_sw))

    # ---------- gate_answers.jsonl
    gate = read_jsonl(GATE, errors)
    g_fields = ["id", "faithful", "unsupported", "kind"]
    gk = Counter(r.get("kind") for r in gate)
    for dup, n in Counter(r.get("id") for r in gate).items():
        if n > 1:
            errors.append("gate: id %s used %d times (use different entries)" % (dup, n))
    for r in gate:
        rid = r.get("id")
        if sorted(r) != sorted(g_fields):
            errors.append("gate %s: fields must be exactly %s" % (rid, g_fields))
        if r.get("kind") not in ("number", "claim", "contradiction"):
            errors.append("gate %s: bad kind %r" % (rid, r.get("kind")))
        if rid not in in_scope:
            errors.append("gate %s: not an in_scope id of either question file" % rid)
            continue
        sec = sections_of.get(rid)
        fa, un = r.get("faithful"), r.get("unsupported")
        if not isinstance(fa, str) or not isinstance(un, str) or fa == un:
            errors.append("gate %s: faithful/unsupported missing or identical" % rid)
            continue
        for label, txt in (("faithful", fa), ("unsupported", un)):
            ss = sentences(txt)
            if not 1 <= len(ss) <= 4:
                errors.append("gate %s: %s has %d sentences (1-4)" % (rid, label, len(ss)))
            for s in ss:
                if not re.search(r" \[G\][.!?]?$", s):
                    errors.append("gate %s: %s sentence does not end with [G]: %r" % (rid, label, s))
            if re.search(r"^\s*#", txt, re.M) or "**" in txt:
                errors.append("gate %s: %s contains markdown" % (rid, label))
        if sec is None:
            warnings.append("gate %s: entry not resolvable, numbers not checked" % rid)
            continue
        entry = sec["heading"] + " " + " ".join(sec["bodies"])
        en = numbers(entry)
        extra = numbers(fa) - en
        if extra:
            errors.append("gate %s: faithful has numbers not in the entry: %s" % (rid, sorted(extra)))
        for cmd in re.findall(r"`([^`]+)`", fa):
            if cmd not in entry:
                errors.append("gate %s: faithful command %r not in the entry" % (rid, cmd))
        un_extra = numbers(un) - en
        if r.get("kind") == "number" and not un_extra and not any(
                c not in entry for c in re.findall(r"`([^`]+)`", un)):
            warnings.append("gate %s: number kind but no new number/option found "
                            "(check a changed URL or value by hand)" % rid)
        if r.get("kind") != "number" and un_extra:
            errors.append("gate %s: %s kind but unsupported has new numbers %s"
                          % (rid, r.get("kind"), sorted(un_extra)))
    if len(gate) < MIN_GATE or any(gk[k] < MIN_GATE_PER_KIND for k in ("number", "claim", "contradiction")):
        errors.append("gate: need >= %d lines and >= %d of each kind, got %d %s"
                      % (MIN_GATE, MIN_GATE_PER_KIND, len(gate), dict(gk)))

    for w in warnings:
        print("WARN  " + w)
    for e in errors:
        print("ERROR " + e)
    print("questions-added: %d in_scope, %d out_of_scope; in_scope per file: %s"
          % (len(in_ids), len(out_ids), dict(per_file)))
    print("followups: %d (%d followup, %d switch); gate answers: %d %s"
          % (len(fus), n_fu, n_sw, len(gate), dict(gk)))
    print("%d warnings, %d errors -> %s" % (len(warnings), len(errors), "FAIL" if errors else "OK"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
