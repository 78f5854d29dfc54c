"""The development sets stay true to their knowledge bases: each set's own checker
(gold phrases in exactly one section, out-of-scope terms absent, targets in scope)."""

import subprocess
import sys

import pytest

from tests.conftest import KNOWLEDGE, ROOT

EVAL = ROOT / "tests" / "eval"
SHARED = ROOT.parent / "shared" / "eval" / "python-faq"
CACHE = ROOT / ".eval-cache" / "kb"  # the Debian packages, once make eval-helpcenters ran


def sets():
    yield "nimbus", KNOWLEDGE
    yield "python-faq", SHARED / "kb"
    for name in ("borg", "git", "sqlite", "restic", "curl"):
        yield name, CACHE / name


@pytest.mark.parametrize(("name", "kb"), list(sets()), ids=[n for n, _ in sets()])
def test_the_set_checks_out_against_its_knowledge_base(name, kb):
    if not kb.is_dir():
        pytest.skip(f"{kb} is not here (make eval-helpcenters fetches it)")
    extra = ["--questions", str(SHARED / "questions.jsonl")] if name == "python-faq" else []
    done = subprocess.run(
        [sys.executable, str(EVAL / name / "check.py"), "--kb", str(kb), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
