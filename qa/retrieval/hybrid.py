"""Hybrid retrieval: dense (Chroma) and BM25 (SQLite FTS5) fused by reciprocal rank,
metadata filters, and near-duplicate wire copies collapsed into one passage."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.index.embedding import Encoder
from qa.index.keywords import KeywordIndex
from qa.index.vectors import ChromaStore, StoredChunk, where_clause
from qa.types import ArticleRef, NearestArticle, Passage

RRF_K = 60


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some outlets and/or a publication date range (ISO dates)."""

    sources: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""


@dataclass(frozen=True)
class Retrieval:
    """Passages for the prompt, the nearest articles (for a refusal) and the best similarity."""

    passages: tuple[Passage, ...]
    nearest: tuple[NearestArticle, ...]
    best_similarity: float


class Retriever(Protocol):
    """Passages for a query: the `k` best, numbered from 1, within `filters`."""

    def retrieve(self, query: str, k: int, filters: Filters = ...) -> Retrieval: ...


class HybridRetriever:
    def __init__(
        self,
        encoder: Encoder,
        store: ChromaStore,
        state: KeywordIndex,
        duplicate_similarity: float = 0.95,
    ) -> None:
        self.encoder = encoder
        self.store = store
        self.state = state
        self.duplicate_similarity = duplicate_similarity
        self._pool: ThreadPoolExecutor | None = None

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> Retrieval:
        pool = max(4 * k, 20)
        # BM25 (SQLite, which releases the GIL) runs beside the encoder and the dense query
        keyword_job = self._worker().submit(
            self.state.search, query, pool, filters.sources, filters.date_from, filters.date_to
        )
        vector = self.encoder.encode([query])[0]
        where = where_clause(filters.sources, filters.date_from, filters.date_to)
        dense = self.store.query(vector, pool, where)
        keyword = keyword_job.result()
        fused = self._fuse([c.chunk.id for c in dense], [cid for cid, _ in keyword])
        by_id = {c.chunk.id: c for c in dense}
        missing = [cid for cid in fused[: 2 * k] if cid not in by_id]
        by_id.update({c.chunk.id: c for c in self.store.get(missing)})
        ranked = [by_id[cid] for cid in fused if cid in by_id][: 3 * k]
        similarity = {cid: _cosine(vector, row.embedding) for cid, row in by_id.items()}
        passages = self._collapse(ranked, similarity, k)
        nearest = _nearest(dense)
        best = max((similarity[c.chunk.id] for c in ranked), default=0.0)
        return Retrieval(tuple(passages), nearest, best)

    def _worker(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-bm25")
        return self._pool

    @staticmethod
    def _fuse(*rankings: Sequence[str]) -> list[str]:
        scores: dict[str, float] = {}
        for ranking in rankings:
            for rank, cid in enumerate(ranking):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(scores, key=lambda cid: -scores[cid])

    def _collapse(
        self, ranked: list[StoredChunk], similarity: dict[str, float], k: int
    ) -> list[Passage]:
        kept: list[tuple[StoredChunk, list[ArticleRef]]] = []
        for row in ranked:
            twin = next(
                (
                    item
                    for item in kept
                    if item[0].chunk.article_id != row.chunk.article_id
                    and _cosine(item[0].embedding, row.embedding) >= self.duplicate_similarity
                ),
                None,
            )
            if twin is not None:
                if all(ref.article_id != row.chunk.article_id for ref in twin[1]):
                    twin[1].append(_ref(row))
                continue
            if len(kept) < k:
                kept.append((row, []))
        passages = []
        for n, (row, refs) in enumerate(kept, start=1):
            c = row.chunk
            passages.append(
                Passage(
                    n=n,
                    chunk_id=c.id,
                    article_id=c.article_id,
                    title=c.title,
                    source=c.source,
                    published=c.published,
                    url=c.url,
                    text=c.text,
                    start=c.start,
                    end=c.end,
                    score=round(1.0 / n, 4),
                    dense_similarity=round(similarity[c.id], 4),
                    also_in=tuple(refs),
                )
            )
        return passages


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product of two unit vectors (the store keeps normalised embeddings)."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return float(np.dot(a, b))


def _ref(row: StoredChunk) -> ArticleRef:
    c = row.chunk
    return ArticleRef(c.article_id, c.title, c.source, c.published, c.url, c.start, c.end)


def _nearest(dense: list[StoredChunk], limit: int = 3) -> tuple[NearestArticle, ...]:
    seen: dict[str, NearestArticle] = {}
    for row in dense:
        c = row.chunk
        if c.article_id not in seen:
            seen[c.article_id] = NearestArticle(
                c.article_id, c.title, c.source, c.published, c.url, round(1.0 - row.distance, 4)
            )
        if len(seen) >= limit:
            break
    return tuple(seen.values())
