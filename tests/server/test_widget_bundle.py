"""The committed widget bundle is built from the committed sources, and small."""

import gzip
import hashlib
import re

from tests.conftest import ROOT

BUNDLE = ROOT / "bot" / "server" / "static" / "widget.js"
SOURCES = ROOT / "widget" / "src"


def sources_hash() -> str:
    """The same hash as widget/build.mjs writes into the bundle's banner."""
    digest = hashlib.sha256()
    for path in sorted(SOURCES.iterdir(), key=lambda p: p.name):
        text = path.read_text("utf-8").replace("\r\n", "\n")
        digest.update(f"{path.name}\0{text}\0".encode())
    return digest.hexdigest()


def test_the_bundle_is_built_from_the_current_sources():
    banner = re.match(
        r"/\* supportbot widget \| sources sha256:([0-9a-f]{64}) \*/", BUNDLE.read_text()
    )
    assert banner, "widget.js has no build banner: run `make widget`"
    assert banner.group(1) == sources_hash(), "widget.js is stale: run `make widget`"


def test_the_bundle_is_within_its_size_budget():
    assert len(gzip.compress(BUNDLE.read_bytes(), 9)) <= 30 * 1024
