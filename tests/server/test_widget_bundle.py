"""The committed widget and console bundles are built from the committed sources."""

import gzip
import hashlib
import re

import pytest

from tests.conftest import ROOT

STATIC = ROOT / "bot" / "server" / "static"
BUNDLE = STATIC / "widget.js"


def sources_hash() -> str:
    """The same hash as widget/build.mjs writes into the bundles' banners."""
    digest = hashlib.sha256()
    for folder in ("console", "src"):
        for path in sorted((ROOT / "widget" / folder).iterdir(), key=lambda p: p.name):
            text = path.read_text("utf-8").replace("\r\n", "\n")
            digest.update(f"{folder}/{path.name}\0{text}\0".encode())
    return digest.hexdigest()


@pytest.mark.parametrize("bundle", ["widget", "console"])
def test_the_bundles_are_built_from_the_current_sources(bundle):
    text = (STATIC / f"{bundle}.js").read_text()
    banner = re.match(rf"/\* supportbot {bundle} \| sources sha256:([0-9a-f]{{64}}) \*/", text)
    assert banner, f"{bundle}.js has no build banner: run `make widget`"
    assert banner.group(1) == sources_hash(), f"{bundle}.js is stale: run `make widget`"


def test_the_widget_bundle_is_within_its_size_budget():
    assert len(gzip.compress(BUNDLE.read_bytes(), 9)) <= 30 * 1024
