"""The knowledge base on a Chroma server (SUPPORTBOT_CHROMA_URL), as replicas share it."""

from __future__ import annotations

from pathlib import Path

from bot.runtime import Runtime
from bot.settings import Settings
from tests.conftest import eventually


def test_replicas_share_a_chroma_server(chroma_url: str, tmp_path: Path, embedder, write_files):
    def runtime(name: str) -> Runtime:
        settings = Settings(
            data_dir=tmp_path / name, chroma_url=chroma_url, collection="shared-knowledge"
        )
        rt = Runtime(settings)
        rt.__dict__["embedder"] = embedder  # share the loaded model; the stores stay separate
        return rt

    writer, replica = runtime("writer"), runtime("replica")
    root = write_files({"codes.md": "# Error codes\n\n## E-7001\n\nThe export is too large.\n"})
    assert writer.ingestor.run([root]).added == ["codes.md"]
    replica.knowledge.refresh_seconds = 0
    hit = replica.knowledge.search("E-7001 export too large", 1)[0]
    assert (hit.source, hit.anchor) == ("codes.md", "e-7001")
    assert not (tmp_path / "replica" / "chroma").exists()  # nothing embedded on disk

    (root / "codes.md").write_text("# Error codes\n\n## E-7002\n\nThe archive is corrupt.\n")
    assert writer.ingestor.run([root]).updated == ["codes.md"]
    assert eventually(
        lambda: replica.knowledge.search("E-7002 archive corrupt", 1)[0].anchor == "e-7002"
    )
