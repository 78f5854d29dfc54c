"""Ingestion: files → sections → chunks → vectors → store, idempotent by content hash.

A file's *fingerprint* is its content hash plus the chunker version and the
embedder: when all three match what the store holds, the file is skipped; when
any differs, the file's old chunks are replaced. ``prune`` removes files that
were ingested from the same root folders and are gone from disk. A file that
cannot be read is reported by name and the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.core.types import Chunk
from bot.errors import DocumentError
from bot.knowledge.chunking import CHUNKER_VERSION, chunk_sections
from bot.knowledge.embedder import Embedder, Vectors
from bot.knowledge.loaders import is_supported, load_document
from bot.knowledge.screening import RULES_VERSION, Finding, screen
from bot.knowledge.store import ChromaStore, FileChunks, FileRecord

ProgressCallback = Callable[[int, int, str], None]  # (files done, files total, current source)
# Chunks per embedding call: several small files at once (the model prefers batches),
# small enough that parsing and Chroma writes overlap the next call.
EMBED_BATCH_CHUNKS = 1024
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    source: str  # the name cited to customers: relative to the ingest root
    root: str  # absolute root folder, so --prune only touches files from the same roots


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsupported types met in a folder walk
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    # Sentences held back because they address the assistant (bot.knowledge.screening).
    withheld: list[tuple[str, Finding]] = field(default_factory=list)  # (source, finding)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.removed)} removed",
            f"{len(self.failed)} failed",
        ]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (unsupported type)")
        if self.withheld:
            n = len(self.withheld)
            parts.append(
                f"{n} sentence{'' if n == 1 else 's'} withheld (instructions to the assistant)"
            )
        return f"Ingested {', '.join(parts)}; {self.chunks} chunks written in {self.seconds:.1f}s."


def discover(paths: Iterable[Path]) -> tuple[list[SourceFile], list[str], list[tuple[str, str]]]:
    """Files to ingest, files skipped by type, and paths that do not exist."""
    found: list[SourceFile] = []
    skipped: list[str] = []
    missing: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            for file in sorted(root.rglob("*")):
                relative = file.relative_to(root)
                if not file.is_file() or any(p.startswith(".") for p in relative.parts):
                    continue
                if is_supported(file):
                    found.append(SourceFile(file, relative.as_posix(), str(root)))
                else:
                    skipped.append(relative.as_posix())
        elif path.is_file():
            found.append(SourceFile(path, path.name, str(path.resolve().parent)))
        else:
            missing.append((str(path), "no such file or directory"))
    return found, skipped, missing


class Ingestor:
    """Runs ingestion batches against one store with one embedder."""

    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        max_bytes: int = DEFAULT_MAX_BYTES,
        screen_instructions: bool = True,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.max_bytes = max_bytes
        self.screen_instructions = screen_instructions

    def fingerprint(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()[:32]
        # The screening rules are part of it: new rules re-screen every document.
        screening = f"s{RULES_VERSION}" if self.screen_instructions else "s0"
        return (
            f"{digest}:c{CHUNKER_VERSION}:{self.embedder.name}:{self.embedder.max_tokens}"
            f":{screening}"
        )

    def chunk(self, source: str, data: bytes) -> tuple[list[Chunk], list[Finding]]:
        """The file's chunks, and the sentences screening held back from them."""
        document = load_document(source, data)
        sections = document.sections
        findings: list[Finding] = []
        if self.screen_instructions:
            screened = []
            for section in sections:
                result = screen(section.text)
                findings.extend(result.findings)
                screened.append(replace(section, text=result.text))
            sections = screened
        chunks = chunk_sections(sections, self.embedder.count_tokens, self.embedder.max_tokens)
        return chunks, findings

    def run(
        self, paths: Sequence[Path], prune: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        started = time.perf_counter()
        files, skipped, missing = discover(paths)
        report = IngestReport(skipped=skipped, failed=list(missing))
        known = self.store.files()
        batch: list[FileChunks] = []
        # Embedding runs in a worker thread (torch releases the GIL) while this thread
        # reads, parses and chunks the next files and writes the previous batch to Chroma.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
            in_flight: tuple[list[FileChunks], Future[Vectors]] | None = None

            def submit(next_batch: list[FileChunks]) -> None:
                nonlocal in_flight
                previous = in_flight
                in_flight = None
                if next_batch:
                    texts = [c.embedding_text() for f in next_batch for c in f.chunks]
                    in_flight = (next_batch, pool.submit(self.embedder.embed, texts))
                if previous:
                    self._write(previous[0], previous[1].result(), report)

            for done, file in enumerate(files):
                if progress:
                    progress(done, len(files), file.source)
                prepared = self._prepare(file, known.get(file.source), report)
                if prepared:
                    batch.append(prepared)
                    if sum(len(f.chunks) for f in batch) >= EMBED_BATCH_CHUNKS:
                        submit(batch)
                        batch = []
            submit(batch)
            submit([])  # drain: write the last batch

        if prune:
            # Only folders named in this run: a file named on its own prunes nothing.
            roots = {str(p.resolve()) for p in paths if p.is_dir()}
            present = {f.source for f in files}
            for source, record in known.items():
                if record.root in roots and source not in present:
                    self.store.delete_file(source)
                    report.removed.append(source)
        if progress:
            progress(len(files), len(files), "")
        if report.changed:
            self.store.bump_generation()
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(
        self, file: SourceFile, previous: FileRecord | None, report: IngestReport
    ) -> FileChunks | None:
        """Read and chunk one file; None when it is unchanged or cannot be read."""
        try:
            size = file.path.stat().st_size
            if size > self.max_bytes:
                report.failed.append(
                    (
                        file.source,
                        f"the file is {_mib(size)}; the limit is "
                        f"{_mib(self.max_bytes)} (SUPPORTBOT_MAX_DOCUMENT_MB)",
                    )
                )
                return None
            data = file.path.read_bytes()
        except OSError as exc:
            report.failed.append((file.source, f"cannot read ({exc.strerror})"))
            return None
        fingerprint = self.fingerprint(data)
        if previous and previous.fingerprint == fingerprint:
            report.unchanged.append(file.source)
            return None
        try:
            chunks, findings = self.chunk(file.source, data)
        except DocumentError as exc:
            report.failed.append((file.source, exc.reason))
            return None
        except Exception as exc:  # one hostile file must not sink the batch
            report.failed.append((file.source, f"could not be parsed ({type(exc).__name__})"))
            return None
        report.withheld.extend((file.source, finding) for finding in findings)
        return FileChunks(file.source, chunks, fingerprint, file.root, previous is not None)

    def _write(self, batch: list[FileChunks], vectors: Vectors, report: IngestReport) -> None:
        self.store.write(batch, vectors)
        for file in batch:
            (report.updated if file.replaces else report.added).append(file.source)
            report.chunks += len(file.chunks)
