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

import base64
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

# The rules shared with the other sets live in ../checklib.py: found from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import checklib as cl

HERE = os.path.dirname(os.path.abspath(__file__))
EXISTING = os.path.join(os.path.dirname(HERE), "nimbus-questions.jsonl")
ADDED = os.path.join(HERE, "questions-added.jsonl")
FOLLOWUPS = os.path.join(HERE, "followups.jsonl")
GATE = os.path.join(HERE, "gate_answers.jsonl")

MIN_ADDED_IN, MIN_ADDED_OUT = 10, 5
MIN_FOLLOWUPS, MIN_SWITCHES = 22, 7
MIN_GATE, MIN_GATE_PER_KIND = 27, 9
MAX_PER_ENTRY = 2
WORDS = cl.Wording(
    cl.STOP_WORDS - {"can't", "what's", "won't"} | {"nimbus", "notes", "note", "im"},
    token=r"[a-z0-9_+#.'-]+",
    strip=".-'",
    quotes="\u2019",
)

collapse = cl.collapse


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
    with open(path, encoding="utf-8") as f:
        raw = f.read()
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
                slug = f"{slug}-{seen[slug]}"
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
HEADINGS = cl.HEADING_TAGS


def has_heading(node):
    return any(n.tag in HEADINGS for n in node.iter())


def parse_html(path):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    root = cl.parse_html(raw, ignore=("script", "style", "head", "title"))

    def texts(nodes):
        a = "".join(n if isinstance(n, str) else cl.raw_text(n, "") for n in nodes)
        b = "".join(n if isinstance(n, str) else " " + cl.raw_text(n, " ") + " " for n in nodes)
        return [collapse(a), collapse(b)]

    def after_heading(h):
        sibs = h.parent.children
        nodes = []
        for sib in sibs[sibs.index(h) + 1 :]:
            if isinstance(sib, cl.Node) and has_heading(sib):
                break
            nodes.append(sib)
        return texts(nodes)

    def owner_block(h):
        """The id-carrying block whose direct heading child is h, if any."""
        p = h.parent
        if p is not None and p.attrs.get("id") and p.tag not in HEADINGS:
            first = next(
                (c for c in p.children if isinstance(c, cl.Node) and c.tag in HEADINGS), None
            )
            if first is h:
                return p
        return None

    sections = []
    for el in root.iter():
        if el.tag in HEADINGS:
            if el.attrs.get("id"):
                sections.append(
                    {
                        "anchor": el.attrs.get("id"),
                        "heading": cl.text_of(el, " "),
                        "bodies": after_heading(el),
                    }
                )
            elif owner_block(el) is None:
                sections.append(
                    {"anchor": None, "heading": cl.text_of(el, " "), "bodies": after_heading(el)}
                )
        elif el.attrs.get("id"):
            head = next(
                (c for c in el.children if isinstance(c, cl.Node) and c.tag in HEADINGS), None
            )
            if head is None:
                continue
            nodes = [
                c
                for c in el.children
                if c is not head and not (isinstance(c, cl.Node) and c.tag == "section")
            ]
            sections.append(
                {
                    "anchor": el.attrs.get("id"),
                    "heading": cl.text_of(head, " "),
                    "bodies": texts(nodes),
                }
            )
    # whole-file text includes <title>
    title = re.search(r"<title>(.*?)</title>", raw, re.S | re.I)
    t = (title.group(1) + "\n") if title else ""
    whole = [collapse(t + cl.raw_text(root, "")), collapse(t + cl.raw_text(root, " "))]
    return sections, whole


# ---------------------------------------------------------------- csv
def parse_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        raw = f.read()
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
                out.append(esc[c])
                i += 1
            elif 0x30 <= c <= 0x37:
                j = i
                while j < len(data) and j < i + 3 and 0x30 <= data[j] <= 0x37:
                    j += 1
                out.append(int(data[i:j], 8) & 0xFF)
                i = j
            elif c in (10, 13):
                i += 1
                if c == 13 and i < len(data) and data[i] == 10:
                    i += 1
            else:
                out.append(c)
                i += 1
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
    filters = re.findall(
        rb"/(ASCII85Decode|FlateDecode|A85|Fl)\b",
        dct.split(b"/Filter", 1)[1] if b"/Filter" in dct else b"",
    )
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
        c = content[i : i + 1]
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
    with open(path, "rb") as f:
        data = f.read()
    objs = {}
    for m in OBJ.finditer(data):
        objs[int(m.group(1))] = m.group(3)

    def stream_of(num):
        body = objs[num]
        m = re.search(rb"^(.*?)stream\r?\n(.*?)\r?\n?endstream", body, re.S)
        return pdf_decode_stream(m.group(1), m.group(2))

    # fonts: resource name -> bold?
    bold = set()
    for body in objs.values():
        m = re.search(rb"/BaseFont\s*/([^\s/>]+).*?/Name\s*/([^\s/>]+)", body, re.S) or re.search(
            rb"/Name\s*/([^\s/>]+).*?/BaseFont\s*/([^\s/>]+)", body, re.S
        )
        if m and b"/Font" in body:
            base, name = (
                (m.group(1), m.group(2))
                if m.re.pattern.startswith(rb"/BaseFont")
                else (m.group(2), m.group(1))
            )
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
    for b in objs.values():
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
        sections.append(
            {"anchor": f"page={idx}", "heading": heading, "bodies": [body], "page_text": page_text}
        )
        whole.append(page_text)
    return sections, [collapse(" ".join(whole))]


def external_pdf_pages(path):
    """Page texts from pypdf or pdftotext when available, else None."""
    try:
        import pypdf

        return "pypdf", [collapse(p.extract_text() or "") for p in pypdf.PdfReader(path).pages]
    except Exception:
        pass
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-layout", path, "-"], capture_output=True, text=True
        ).stdout
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
            parser = {
                "md": parse_md,
                "html": parse_html,
                "htm": parse_html,
                "csv": parse_csv,
                "pdf": parse_pdf,
            }.get(ext)
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
def stem(w):
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > 4 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def stems(s):
    """Content words, crudely stemmed, so 'syncing' and 'sync' count as one."""
    return [stem(w) for w in WORDS.words(s)]


NUM = re.compile(r"(?<![\w-])\$?\d[\d,.:]*%?")


def numbers(s):
    return {n.rstrip(".,:") for n in NUM.findall(s)}


def sentences(s):
    return [p for p in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'(])", s.strip()) if p]


# ---------------------------------------------------------------- checks
class Added:
    """The in-scope rules of questions-added.jsonl.

    The line names a section of a KB file (anchor, or heading when the heading has
    no id) not yet covered by the existing file; its gold phrase is in every text
    variant of the section and nowhere else in any file (and, for the PDF, on the
    right page of pypdf's or pdftotext's text when one of them is there).
    """

    def __init__(self, rep, kb, ext_pdf, in_scope, sections_of, entry_use, existing_entries):
        self.rep, self.kb, self.ext_pdf = rep, kb, ext_pdf
        self.in_scope, self.sections_of = in_scope, sections_of
        self.entry_use, self.existing_entries = entry_use, existing_entries
        self.per_file = Counter()

    def __call__(self, r, rid, q):
        rep, kb = self.rep, self.kb
        self.in_scope[r.get("id")] = r
        src, anchor, heading, gold = (r.get(k) for k in ("source", "anchor", "heading", "gold"))
        if src not in kb:
            rep.error(f"{rid}: unknown source {src!r}")
            return
        sec = find_section(kb, src, anchor, heading)
        if sec is None:
            rep.error(f"{rid}: section {anchor!r} / {heading!r} not found in {src}")
            return
        if anchor is None and any(
            s["anchor"] is not None and s["heading"] == heading for s in kb[src]["sections"]
        ):
            rep.error(f"{rid}: anchor null but the heading {heading!r} has an id")
        self.sections_of[r.get("id")] = sec
        self.per_file[src] += 1
        key = (src, anchor if anchor is not None else "heading:" + heading)
        self.entry_use[key] += 1
        if key in self.existing_entries:
            rep.error(f"{rid}: {src}#{anchor} is already covered by the existing file")
        if heading != sec["heading"]:
            rep.error(f"{rid}: heading {heading!r} != actual {sec['heading']!r}")
        if not cl.check_gold_shape(rep, rid, gold):
            return
        for v, body in enumerate(sec["bodies"]):
            if gold not in body:
                rep.error(f"{rid}: gold {gold!r} not in body variant {v} of {src}#{anchor}")
        self.check_unique_gold(rid, gold, src, anchor, sec)
        if collapse(q).lower().rstrip("?") == heading.lower().rstrip("?"):
            rep.error(f"{rid}: question copies the heading")
        note = cl.overlap_note(cl.overlap(stems(q), stems(heading)))
        if note:
            rep.warn(f"{rid}: {note} | Q: {q} | H: {heading}")

    def check_unique_gold(self, rid, gold, src, anchor, sec):
        """Nowhere else: every text variant of every file, and the PDF tools' pages."""
        gl = gold.lower()
        for name, f in self.kb.items():
            for v, whole in enumerate(f["whole"]):
                n_all = whole.lower().count(gl)
                n_own = 0
                if name == src:
                    bodies = sec["bodies"]
                    n_own = bodies[min(v, len(bodies) - 1)].lower().count(gl)
                if n_all != n_own:
                    self.rep.error(
                        f"{rid}: gold {gold!r} occurs outside {src}#{anchor}"
                        f" (in {name}, text variant {v})"
                    )
        if self.kb[src]["ext"] == "pdf":
            tool, pages = self.ext_pdf.get(src, (None, None))
            if pages is not None:
                pn = int(anchor.split("=")[1])
                if gold not in pages[pn - 1]:
                    self.rep.error(f"{rid}: gold {gold!r} not in {tool} text of page {pn}")
                if sum(p.lower().count(gl) for p in pages) != pages[pn - 1].lower().count(gl):
                    self.rep.error(f"{rid}: gold {gold!r} on another page in {tool} text")


def check_gate_answers(rep, where, r, sec):
    """Both answers cited sentence by sentence, plain text; the faithful one holds only
    numbers and commands of its entry, an unsupported one of kind number a new one."""
    fa, un = r.get("faithful"), r.get("unsupported")
    if not isinstance(fa, str) or not isinstance(un, str) or fa == un:
        rep.error(f"{where}: faithful/unsupported missing or identical")
        return
    for label, txt in (("faithful", fa), ("unsupported", un)):
        ss = sentences(txt)
        if not 1 <= len(ss) <= 4:
            rep.error(f"{where}: {label} has {len(ss)} sentences (1-4)")
        for s in ss:
            if not re.search(r" \[G\][.!?]?$", s):
                rep.error(f"{where}: {label} sentence does not end with [G]: {s!r}")
        if re.search(r"^\s*#", txt, re.M) or "**" in txt:
            rep.error(f"{where}: {label} contains markdown")
    if sec is None:
        rep.warn(f"{where}: entry not resolvable, numbers not checked")
        return
    entry = sec["heading"] + " " + " ".join(sec["bodies"])
    en = numbers(entry)
    extra = numbers(fa) - en
    if extra:
        rep.error(f"{where}: faithful has numbers not in the entry: {sorted(extra)}")
    for cmd in re.findall(r"`([^`]+)`", fa):
        if cmd not in entry:
            rep.error(f"{where}: faithful command {cmd!r} not in the entry")
    un_extra = numbers(un) - en
    if (
        r.get("kind") == "number"
        and not un_extra
        and not any(c not in entry for c in re.findall(r"`([^`]+)`", un))
    ):
        rep.warn(
            f"{where}: number kind but no new number/option found"
            " (check a changed URL or value by hand)"
        )
    if r.get("kind") != "number" and un_extra:
        rep.error(
            f"{where}: {r.get('kind')} kind but unsupported has new numbers {sorted(un_extra)}"
        )


# ---------------------------------------------------------------- main
def main() -> int:
    args = cl.parse_args(
        __doc__,
        kb_default="/work/main/knowledge",
        kb_help=None,
        dump_help="print every KB section and exit",
    )
    kb = load_kb(args.kb)
    if args.dump:
        for name, f in kb.items():
            for s in f["sections"]:
                print(f"=== {name}#{s['anchor']}\n# {s['heading']}\n{s['bodies'][-1]}\n")
        return 0

    rep = cl.Report()
    if not kb:
        print(f"ERROR no KB files under {args.kb}")
        return 1
    all_raw_lower = "\n\n".join(t for f in kb.values() for t in f["whole"]).lower()
    for f in kb.values():
        if f["ext"] != "pdf":
            with open(f["path"], encoding="utf-8") as fh:
                all_raw_lower += "\n\n" + fh.read().lower()

    ext_pdf = {}
    for name, f in kb.items():
        if f["ext"] == "pdf":
            tool, pages = external_pdf_pages(f["path"])
            ext_pdf[name] = (tool, pages)
            if pages is None:
                rep.warn(
                    f"{name}: neither pypdf nor pdftotext available; PDF checked"
                    " with the built-in extractor only"
                )

    # ---------- existing question file (read only)
    existing = cl.read_jsonl(EXISTING, rep)
    added = cl.read_jsonl(ADDED, rep)
    in_scope = {r["id"]: r for r in existing if r.get("kind") == "in_scope"}  # id -> record

    # ---------- questions-added.jsonl
    for dup, _ in cl.repeated([r.get("id") for r in added + existing]):
        rep.error(f"duplicate id {dup} (within or across question files)")
    for dup, _ in cl.repeated(
        collapse(str(r.get("question", ""))).lower() for r in added + existing
    ):
        rep.error(f"duplicate question {dup!r}")
    for dup, _ in cl.repeated(r.get("gold") for r in added + existing if r.get("gold")):
        rep.error(f"duplicate gold {dup!r}")

    in_ids = [r.get("id") for r in added if r.get("kind") == "in_scope"]
    out_ids = [r.get("id") for r in added if r.get("kind") == "out_of_scope"]
    exp_in = [f"nb-{i:03d}" for i in range(35, 35 + len(in_ids))]
    exp_out = [f"oos-{i:03d}" for i in range(11, 11 + len(out_ids))]
    if in_ids != exp_in:
        rep.error(f"in_scope ids must run nb-035.. in order, got {in_ids}")
    if out_ids != exp_out:
        rep.error(f"out_of_scope ids must run oos-011.. in order, got {out_ids}")
    if len(in_ids) < MIN_ADDED_IN or len(out_ids) < MIN_ADDED_OUT:
        rep.error(
            f"need >= {MIN_ADDED_IN} in_scope and >= {MIN_ADDED_OUT} out_of_scope,"
            f" got {len(in_ids)} / {len(out_ids)}"
        )

    # entries used by the existing file
    entry_use = Counter()
    existing_entries = set()
    sections_of = {}  # id -> section (for gate checks)
    for r in existing:
        if r.get("kind") == "in_scope":
            key = (r.get("source"), r.get("anchor"))
            existing_entries.add(key)
            entry_use[key] += 1
            s = find_section(kb, r.get("source"), r.get("anchor"))
            if s is None:
                rep.warn(f"existing {r.get('id')}: {key[0]}#{key[1]} not found in KB")
            else:
                sections_of[r["id"]] = s
    new = Added(rep, kb, ext_pdf, in_scope, sections_of, entry_use, existing_entries)
    cl.check_question_lines(
        rep,
        added,
        on_in_scope=new,
        kb_places=[(all_raw_lower, "the KB")],
        in_scope_first=False,
        hyphen_in_words=False,
    )
    cl.check_per_entry(rep, {f"{src}#{a}": n for (src, a), n in entry_use.items()}, MAX_PER_ENTRY)

    # ---------- followups.jsonl
    fus = cl.read_jsonl(FOLLOWUPS, rep)
    fu_kinds = cl.check_followup_lines(
        rep,
        fus,
        prefix="nb",
        targets=in_scope,
        target_what="an in_scope id of either question file",
        repeats=cl.repeat_note(stems, "then repeats words of first {shared}"),
    )
    n_fu, n_sw = fu_kinds["followup"], fu_kinds["switch"]
    cl.check_minimums(
        rep, "followups", [("lines", len(fus), MIN_FOLLOWUPS), ("switches", n_sw, MIN_SWITCHES)]
    )

    # ---------- gate_answers.jsonl
    gate = cl.read_jsonl(GATE, rep)

    def check_answers(where, r, q):
        if q is not None:
            check_gate_answers(rep, where, r, sections_of.get(r.get("id")))

    gk = cl.check_gate_lines(
        rep,
        gate,
        targets=in_scope,
        check=check_answers,
        target_what="an in_scope id of either question file",
    )
    cl.check_gate_counts(rep, len(gate), gk, MIN_GATE, MIN_GATE_PER_KIND)

    return rep.finish(
        f"questions-added: {len(in_ids)} in_scope, {len(out_ids)} out_of_scope;"
        f" in_scope per file: {dict(new.per_file)}",
        f"followups: {len(fus)} ({n_fu} followup, {n_sw} switch);"
        f" gate answers: {len(gate)} {dict(gk)}",
        f"{len(rep.warnings)} warnings, {len(rep.errors)} errors"
        f" -> {'FAIL' if rep.errors else 'OK'}",
    )


if __name__ == "__main__":
    sys.exit(main())
