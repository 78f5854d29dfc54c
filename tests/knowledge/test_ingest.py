from pathlib import Path

from bot.knowledge.ingest import Ingestor
from bot.knowledge.store import ChromaStore
from tests.knowledge.pdf_factory import make_pdf

FILES = {
    "billing/refunds.md": "# Refunds\n\nYearly plans are refunded within 30 days.\n",
    "account/password.md": "# Passwords\n\n## Reset\n\nUse the Forgot password link.\n",
    "faq.csv": "question,answer\nDo you take PayPal?,Yes we do.\n",
}


def test_ingest_is_idempotent_by_content(ingestor: Ingestor, store: ChromaStore, write_files):
    root = write_files(FILES)
    first = ingestor.run([root])
    assert sorted(first.added) == sorted(FILES)
    assert first.chunks == 3 and store.count() == 3
    generation = store.generation()

    second = ingestor.run([root])
    assert sorted(second.unchanged) == sorted(FILES)
    assert second.chunks == 0 and not second.changed
    assert store.count() == 3
    assert store.generation() == generation  # nothing written: other processes keep their index


def test_a_changed_file_replaces_its_old_chunks(
    ingestor: Ingestor, store: ChromaStore, write_files
):
    root = write_files(FILES)
    ingestor.run([root])
    (root / "billing/refunds.md").write_text(
        "# Refunds\n\n## Yearly\n\nWithin 30 days.\n\n## Monthly\n\nNot refunded.\n"
    )
    report = ingestor.run([root])
    assert report.updated == ["billing/refunds.md"]
    texts = sorted(c.text for c in store.all_chunks() if c.source == "billing/refunds.md")
    assert texts == ["Not refunded.", "Within 30 days."]
    assert store.files()["billing/refunds.md"].chunks == 2


def test_prune_removes_files_deleted_from_the_same_root(
    ingestor: Ingestor, store: ChromaStore, write_files
):
    root = write_files(FILES)
    other = write_files({"elsewhere.md": "# Other\n\nFrom another folder.\n"})
    ingestor.run([root, other])
    (root / "faq.csv").unlink()

    kept = ingestor.run([root])  # without --prune nothing is removed
    assert kept.removed == [] and "faq.csv" in store.files()

    pruned = ingestor.run([root], prune=True)
    assert pruned.removed == ["faq.csv"]
    assert sorted(store.files()) == ["account/password.md", "billing/refunds.md", "elsewhere.md"]


def test_bad_files_are_reported_by_name_and_the_rest_goes_in(
    ingestor: Ingestor, store: ChromaStore, write_files
):
    root = write_files(
        {
            **FILES,
            "broken.pdf": b"%PDF-1.4 garbage",
            "empty.md": "",
            "binary.txt": b"\x00\x01\x02\x03",
            "bad.csv": "name,email\nx,y\n",
            "logo.png": b"\x89PNG",
            "guide.pdf": make_pdf([("Audit log", "Kept for 2 years.")]),
        }
    )
    report = ingestor.run([root, Path(root / "missing.md")])
    assert sorted(report.added) == sorted([*FILES, "guide.pdf"])
    failed = dict(report.failed)
    assert set(failed) == {
        "broken.pdf",
        "empty.md",
        "binary.txt",
        "bad.csv",
        str(root / "missing.md"),
    }
    assert "binary" in failed["binary.txt"]
    assert report.skipped == ["logo.png"]
    assert "5 failed" in report.summary()


def test_progress_is_reported_per_file(ingestor: Ingestor, write_files):
    root = write_files(FILES)
    seen: list[tuple[int, int]] = []
    ingestor.run([root], progress=lambda done, total, _: seen.append((done, total)))
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)


def test_many_batches_in_flight_lose_nothing(
    ingestor: Ingestor, store: ChromaStore, write_files, monkeypatch
):
    import bot.knowledge.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "EMBED_BATCH_CHUNKS", 2)  # a batch every file or two
    files = {
        f"doc{i}.md": f"# Doc {i}\n\n## A\n\nAlpha {i}.\n\n## B\n\nBeta {i}.\n" for i in range(9)
    }
    root = write_files(files)
    report = ingestor.run([root])
    assert sorted(report.added) == sorted(files)
    assert report.chunks == store.count() == 18
    stored = {(c.source, c.text) for c in store.all_chunks()}
    assert ("doc7.md", "Beta 7.") in stored and len(stored) == 18


def test_files_over_the_size_limit_are_refused_naming_the_limit(
    store: ChromaStore, embedder, write_files
):
    root = write_files({**FILES, "huge.md": "# Huge\n\n" + "word " * 300_000})
    report = Ingestor(store, embedder, max_bytes=1024 * 1024).run([root])
    assert sorted(report.added) == sorted(FILES)
    reason = dict(report.failed)["huge.md"]
    assert "1.4 MiB" in reason and "limit is 1.0 MiB" in reason


def test_an_unexpected_parser_failure_skips_only_that_file(
    ingestor: Ingestor, write_files, monkeypatch
):
    from bot.knowledge import loaders

    def explode(source: str, data: bytes):
        raise MemoryError("parser blew up")

    monkeypatch.setitem(loaders.LOADERS, ".txt", explode)
    report = ingestor.run([write_files({**FILES, "notes.txt": "some text"})])
    assert sorted(report.added) == sorted(FILES)
    assert report.failed == [("notes.txt", "could not be parsed (MemoryError)")]


def test_prune_with_a_single_file_removes_nothing_else(
    ingestor: Ingestor, store: ChromaStore, write_files
):
    root = write_files(FILES)
    ingestor.run([root])
    report = ingestor.run([root / "faq.csv"], prune=True)
    assert report.removed == []
    assert sorted(store.files()) == sorted(FILES)
