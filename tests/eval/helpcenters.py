"""Every development help center through ``supportbot eval``, one table per figure.

``make eval-helpcenters`` runs this. Each help center is a knowledge base (the demo one,
the Python FAQ beside the repository, or a Debian documentation package fetched with
``apt-get download`` and unpacked into the cache) plus its question, follow-up and
written-answer files under ``tests/eval/``. Each is ingested into its own data directory
under the cache (idempotent: unchanged files are skipped on the next run) and measured
with the settings of the environment, so ``SUPPORTBOT_EMBEDDING_MODEL=… make
eval-helpcenters`` measures another model the same way.

    python tests/eval/helpcenters.py [--only NAME]... [--cache DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "tests" / "eval"
SHARED = ROOT.parent / "shared" / "eval" / "python-faq"


@dataclass
class HelpCenter:
    name: str
    questions: list[Path]
    followups: list[Path] = field(default_factory=list)
    answers: list[Path] = field(default_factory=list)
    kb: Path | None = None  # a folder in the repository (or beside it)
    package: str | None = None  # or a Debian package and the files it holds
    files: tuple[str, ...] = ()


def _debian(name: str, package: str, files: tuple[str, ...]) -> HelpCenter:
    """A help center from a Debian documentation package, its sets in tests/eval/NAME/."""
    sets = EVAL / name
    return HelpCenter(
        name,
        [sets / "questions.jsonl"],
        [sets / "followups.jsonl"],
        [sets / "gate_answers.jsonl"],
        package=package,
        files=files,
    )


HELP_CENTERS = [
    HelpCenter(
        "python-faq",
        [SHARED / "questions.jsonl"],
        [SHARED / "followups.jsonl", EVAL / "python-faq" / "followups.jsonl"],
        [SHARED / "gate_answers.jsonl", EVAL / "python-faq" / "gate_answers.jsonl"],
        kb=SHARED / "kb",
    ),
    HelpCenter(
        "nimbus",
        [EVAL / "nimbus-questions.jsonl", EVAL / "nimbus" / "questions-added.jsonl"],
        [EVAL / "nimbus" / "followups.jsonl"],
        [EVAL / "nimbus" / "gate_answers.jsonl"],
        kb=ROOT / "knowledge",
    ),
    *(
        _debian(name, package, files)
        for name, package, files in (
            ("borg", "borgbackup-doc", ("usr/share/doc/borgbackup/html/faq.html",)),
            (
                "git",
                "git-doc",
                ("usr/share/doc/git-doc/gitfaq.html", "usr/share/doc/git-doc/user-manual.html"),
            ),
            ("sqlite", "sqlite3-doc", ("usr/share/doc/sqlite3/faq.html",)),
            # Held out: written after the method above was fixed, measured, not tuned on.
            (
                "restic",
                "restic",
                tuple(
                    f"usr/share/doc/restic/html/{page}.html"
                    for page in (
                        "faq",
                        "030_preparing_a_new_repo",
                        "040_backup",
                        "045_working_with_repos",
                        "047_tuning_backup_parameters",
                        "050_restore",
                        "060_forget",
                        "070_encryption",
                    )
                ),
            ),
            # A plain-text FAQ, as a company would drop it in: FAQ.gz becomes FAQ.txt.
            ("curl", "libcurl4-doc", ("usr/share/doc/libcurl4/FAQ.gz:FAQ.txt",)),
        )
    ),
]


def knowledge_base(center: HelpCenter, cache: Path) -> Path | None:
    """The folder to ingest: in the repository, or unpacked from the Debian package."""
    if center.kb is not None:
        return center.kb if center.kb.is_dir() else None
    assert center.package
    target = cache / "kb" / center.name
    if all((target / _stored_name(f)).is_file() for f in center.files):
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["apt-get", "download", center.package], cwd=tmp, check=True, stdout=sys.stderr
        )
        deb = next(Path(tmp).glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "x")], check=True)
        target.mkdir(parents=True, exist_ok=True)
        for name in center.files:
            packaged = name.split(":")[0]
            data = (Path(tmp) / "x" / packaged).read_bytes()
            if packaged.endswith(".gz"):
                data = gzip.decompress(data)
            (target / _stored_name(name)).write_bytes(data)
    return target


def _stored_name(name: str) -> str:
    """``path`` is stored under its own name, ``path:name`` under ``name``."""
    return name.split(":")[1] if ":" in name else Path(name).name


def joined(paths: list[Path], where: Path) -> Path:
    """Several JSON-lines files as one (a shared file and the lines we added to it)."""
    where.write_text("".join(p.read_text(encoding="utf-8") for p in paths), encoding="utf-8")
    return where


def measure(center: HelpCenter, cache: Path) -> dict[str, Any] | None:
    kb = knowledge_base(center, cache)
    if kb is None:
        print(f"{center.name}: knowledge base not found, skipped", file=sys.stderr)
        return None
    model = Path(os.environ.get("SUPPORTBOT_EMBEDDING_MODEL", "minilm")).name
    env = {**os.environ, "SUPPORTBOT_DATA_DIR": str(cache / "data" / f"{center.name}-{model}")}
    supportbot = str(Path(sys.executable).parent / "supportbot")
    subprocess.run([supportbot, "ingest", str(kb)], env=env, check=True, stdout=sys.stderr)
    work = cache / "files" / center.name
    work.mkdir(parents=True, exist_ok=True)
    command = [supportbot, "eval", str(joined(center.questions, work / "questions.jsonl"))]
    if center.followups:
        command += ["--followups", str(joined(center.followups, work / "followups.jsonl"))]
    if center.answers:
        command += ["--answers", str(joined(center.answers, work / "answers.jsonl"))]
    done = subprocess.run([*command, "--json"], env=env, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


ROWS = [
    ("in-scope answered", lambda m: m["in_scope_answered"], "≥ 0.90"),
    ("hit@1 among answered", lambda m: m["hit@1_answered"], "≥ 0.85"),
    ("hit@3", lambda m: m["hit@3"], "≥ 0.95"),
    ("out-of-scope declined", lambda m: m["out_of_scope_declined"], "≥ 0.90"),
    ("follow-ups hit@3", lambda m: m["followups"]["followup"]["hit@3"], "≥ 0.90"),
    ("switches hit@3", lambda m: m["followups"]["switch"]["hit@3"], "≥ 0.90"),
    ("faithful delivered", lambda m: m["answers"]["faithful_delivered"], "≥ 0.90"),
    ("numbers stopped", lambda m: m["answers"]["number_stopped"], "≥ 0.95"),
    ("claims stopped", lambda m: m["answers"]["claim_stopped"], "≥ 0.95"),
    ("contradictions stopped", lambda m: m["answers"]["contradiction_stopped"], "≥ 0.90"),
    ("gold phrase in correct answers", lambda m: m["gold_in_answer"], "≥ 0.85"),
    ("latency p50 (ms)", lambda m: m["latency_p50_ms"], ""),
]


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    lines = [
        "| figure | " + " | ".join(names) + " | target |",
        "|---|" + "---|" * len(names) + "---|",
    ]
    for label, pick, target in ROWS:
        cells = []
        for name in names:
            try:
                value = pick(results[name])
            except (KeyError, TypeError):
                value = None
            cells.append("—" if value is None else f"{value:.2f}" if value < 10 else f"{value:g}")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="a help center's name (repeatable)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".eval-cache")
    parser.add_argument("--json", type=Path, help="also write the full metrics here")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    for center in HELP_CENTERS:
        if args.only and center.name not in args.only:
            continue
        measured = measure(center, args.cache)
        if measured is not None:
            results[center.name] = measured
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
