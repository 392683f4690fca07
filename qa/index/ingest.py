"""Ingest: articles on disk -> chunks -> vectors -> Chroma + keyword index, incrementally.

Content hashes decide what changed. Each batch is written in a crash-safe order: the
articles are marked pending, their old chunks deleted, the new chunks upserted under
deterministic ids, and only then marked done together with their keyword rows. A run
killed at any point is finished by the next run with the same result as a clean one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.corpus.chunking import Chunker
from qa.corpus.loaders import Skipped, iter_files, load_file
from qa.errors import InputError
from qa.index import Index
from qa.index.embedding import Encoder
from qa.progress import make_progress
from qa.settings import Settings
from qa.types import Article, Chunk

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    """What an ingest did; `to_dict()` is the `--json` form."""

    articles_added: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_removed: int = 0
    files_skipped: int = 0
    chunks_added: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["skipped"] = [asdict(s) for s in self.skipped]
        return data


def article_hash(article: Article) -> str:
    payload = [article.text, article.title, article.source, article.published, article.url]
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()


class Ingestor:
    """Holds the encoder, store and state for one or more ingests into one index."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self.encoder = encoder or Encoder.of(settings.embedding)
        self.index = Index(settings.store, self.encoder.identity, create=True)
        self.store = self.index.store
        self.state = self.index.keywords
        recorded = self.state.get_meta("embedding_model")
        if recorded is None:
            self.state.set_meta("embedding_model", self.encoder.identity)
        self._chunker: Chunker | None = None
        self.max_file_bytes = int(settings.ingest.max_file_mb * 2**20)

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            self._chunker = Chunker(
                self.settings.ingest.chunk_tokens,
                self.settings.ingest.chunk_overlap,
                self.encoder.count_tokens,
            )
        return self._chunker

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        quiet: bool = False,
        on_warning: Callable[[str], None] | None = None,
    ) -> IngestSummary:
        started = time.monotonic()
        files = list(iter_files([Path(p) for p in paths]))
        if not files:
            raise InputError(f"no article files under {', '.join(map(str, paths))}")
        summary = IngestSummary()
        known = self.state.articles()
        seen: dict[str, str] = {}
        batch: list[tuple[Article, str, bool]] = []
        batch_chunks = 0
        progress = make_progress(len(files), "ingest", quiet=quiet)
        warn = on_warning or (lambda message: log.warning(message))
        try:
            for done, (file, root) in enumerate(files, start=1):
                articles, skipped = load_file(file, root, self.max_file_bytes)
                for item in skipped:
                    warn(f"skipped {item.path}: {item.reason}")
                summary.skipped.extend(skipped)
                for article in articles:
                    digest = article_hash(article)
                    if article.id in seen:
                        if seen[article.id] != digest:
                            item = Skipped(
                                article.path, f"duplicate id {article.id!r} with different text"
                            )
                            warn(f"skipped {item.path}: {item.reason}")
                            summary.skipped.append(item)
                        continue
                    seen[article.id] = digest
                    record = known.get(article.id)
                    if record and record.status == "done" and record.hash == digest:
                        summary.articles_unchanged += 1
                        continue
                    is_update = record is not None and record.status == "done"
                    batch.append((article, digest, is_update))
                    batch_chunks += max(1, len(article.text) // 900)
                if batch_chunks >= self.settings.ingest.ingest_batch:
                    self._write(batch, summary)
                    batch, batch_chunks = [], 0
                progress.update(done, added=summary.articles_added, chunks=summary.chunks_added)
            if batch:
                self._write(batch, summary)
            progress.update(len(files), added=summary.articles_added, chunks=summary.chunks_added)
        finally:
            progress.close()
        self._cleanup(known, seen, prune, summary)
        if summary.chunks_added or summary.articles_removed:
            self.state.optimize()
        summary.files_skipped = len(summary.skipped)
        summary.chunks_total = self.state.chunk_count()
        summary.seconds = round(time.monotonic() - started, 3)
        return summary

    def _write(self, batch: list[tuple[Article, str, bool]], summary: IngestSummary) -> None:
        articles = [a for a, _, _ in batch]
        self.state.mark_pending([(a.id, a.title, a.source, a.published, a.path) for a in articles])
        chunk_lists = [self.chunker.chunk(a) for a in articles]
        chunks = [c for group in chunk_lists for c in group]
        vectors = self.encoder.encode_batch([_embed_text(c) for c in chunks])
        self.store.delete_articles([a.id for a in articles])
        self.store.upsert(chunks, vectors)
        self.state.commit_articles(
            [
                (a.id, digest, group)
                for (a, digest, _), group in zip(batch, chunk_lists, strict=True)
            ]
        )
        for _, _, is_update in batch:
            if is_update:
                summary.articles_updated += 1
            else:
                summary.articles_added += 1
        summary.chunks_added += len(chunks)

    def _cleanup(
        self, known: dict, seen: dict[str, str], prune: bool, summary: IngestSummary
    ) -> None:
        """Drop half-written articles that are gone, and with --prune every absent one."""
        stale = [
            aid
            for aid, rec in known.items()
            if aid not in seen and (prune or rec.status == "pending")
        ]
        if not stale:
            return
        self.store.delete_articles(stale)
        self.state.remove_articles(stale)
        summary.articles_removed += sum(1 for aid in stale if known[aid].status == "done")


def _embed_text(chunk: Chunk) -> str:
    """What the encoder sees: the headline gives every chunk of an article its topic."""
    return f"{chunk.title}. {chunk.text}" if chunk.title else chunk.text


def ingest(
    paths: Iterable[Path | str], settings: Settings | None = None, **kwargs: object
) -> IngestSummary:
    """Index the articles under `paths` into the configured store; see `Ingestor.ingest`."""
    settings = settings or Settings.load()
    return Ingestor(settings).ingest([Path(p) for p in paths], **kwargs)  # type: ignore[arg-type]
