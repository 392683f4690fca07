"""The vector store: a Chroma collection, embedded on disk or on a Chroma server.

The store keeps vectors, texts and metadata; it knows nothing of ranking. The embedding
model's identity is recorded in the collection metadata, so a mismatch is caught.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import (
    EmbeddingMismatchError,
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    IndexWriteError,
    QAError,
    StoreUnavailableError,
)
from qa.settings import StoreSettings
from qa.types import Chunk


@dataclass(frozen=True)
class StoredChunk:
    """A chunk read back from the store, with its vector and, for queries, its distance."""

    chunk: Chunk
    embedding: np.ndarray  # float32, as stored; empty when the store returned none
    distance: float = 0.0


def date_ordinal(iso: str) -> int:
    """Days since 0001-01-01 for an ISO date; -1 when unknown (so range filters skip it)."""
    try:
        return date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return -1


def where_clause(
    sources: Sequence[str] = (), date_from: str = "", date_to: str = ""
) -> dict | None:
    """A Chroma `where` for the metadata filters, or None for no filter."""
    parts: list[dict[str, Any]] = []
    if sources:
        parts.append({"source": {"$in": list(sources)}})
    if date_from:
        parts.append({"published_ts": {"$gte": date_ordinal(date_from)}})
    if date_to:
        parts.append({"published_ts": {"$lte": date_ordinal(date_to)}})
    if date_to and not date_from:
        parts.append({"published_ts": {"$gte": 0}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


class ChromaStore:
    """One Chroma collection. `create=False` opens an existing index or raises a clear error."""

    def __init__(self, settings: StoreSettings, identity: str, *, create: bool) -> None:
        self.settings = settings
        self.identity = identity
        self.client = _client(settings, create)
        self.location = (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}{_scope(settings)}"
            if settings.chroma_host
            else f"index at {settings.index}/"
        )
        try:
            if create:
                self.collection = self.client.get_or_create_collection(
                    settings.collection,
                    metadata={"embedding_model": identity, "hnsw:space": "cosine"},
                )
            else:
                self.collection = self.client.get_collection(settings.collection)
        except Exception as exc:
            from chromadb.errors import NotFoundError

            # embedded and server clients both raise NotFoundError for a missing collection
            if not create and isinstance(exc, NotFoundError):
                raise IndexMissingError(
                    f"{self.location} has no collection {settings.collection!r}: "
                    "run `qa ingest seeds/` first"
                ) from None
            raise _translate(exc, self.location) from None
        recorded = (self.collection.metadata or {}).get("embedding_model")
        if recorded and recorded != identity:
            raise EmbeddingMismatchError(
                f"{self.location} was built with embedding model {recorded!r}, not {identity!r}: "
                "use the same --embedding-model, or a new --index/--collection"
            )
        self.max_batch = int(getattr(self.client, "get_max_batch_size", lambda: 5000)())

    @contextmanager
    def _failures(self, *, writing: bool = False) -> Iterator[None]:
        """Turn a full disk, a held lock or a lost server into a one-line QAError."""
        try:
            yield
        except QAError:
            raise
        except Exception as exc:
            known = outside_failure(exc, self.location, writing=writing)
            if known is None and writing:
                from chromadb.errors import ChromaError

                if isinstance(exc, ChromaError):
                    # Chroma's writer can hide the cause (a failed write during its
                    # compaction); our write order keeps the index usable and resumable.
                    known = IndexWriteError(
                        f"could not write the {self.location} ({_first_line(exc)}): check "
                        "free space and the disk; run `qa ingest` again, it resumes where "
                        "it stopped"
                    )
            if known is None:
                raise
            raise known from None

    def count(self) -> int:
        with self._failures():
            return int(self.collection.count())

    def upsert(self, chunks: Sequence[Chunk], embeddings: Any) -> None:
        step = max(1, min(self.max_batch, 2000))
        with self._failures(writing=True):
            for i in range(0, len(chunks), step):
                part = chunks[i : i + step]
                self.collection.upsert(
                    ids=[c.id for c in part],
                    embeddings=[list(map(float, e)) for e in embeddings[i : i + step]],
                    documents=[c.text for c in part],
                    metadatas=[_metadata(c) for c in part],
                )

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            with self._failures(writing=True):
                self.collection.delete(where={"article_id": {"$in": list(article_ids)}})

    def query(self, embedding: Sequence[float], n: int, where: dict | None) -> list[StoredChunk]:
        if n <= 0:
            return []
        with self._failures():
            result = self.collection.query(
                query_embeddings=[list(map(float, embedding))],
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances", "embeddings"],
            )
        return _rows(result, nested=True)

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        with self._failures():
            result = self.collection.get(
                ids=list(ids), include=["documents", "metadatas", "embeddings"]
            )
        by_id = {row.chunk.id: row for row in _rows(result, nested=False)}
        return [by_id[i] for i in ids if i in by_id]


def _scope(settings: StoreSettings) -> str:
    parts = [p for p in (settings.chroma_tenant, settings.chroma_database) if p]
    return f" ({'/'.join(parts)})" if parts else ""


def _client(settings: StoreSettings, create: bool) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        headers = None
        if settings.chroma_token and settings.chroma_token_header == "x-chroma-token":
            headers = {"X-Chroma-Token": settings.chroma_token}
        elif settings.chroma_token:
            headers = {"Authorization": f"Bearer {settings.chroma_token}"}
        scope: dict[str, str] = {}  # tenant and database of a shared or distributed Chroma
        if settings.chroma_tenant:
            scope["tenant"] = settings.chroma_tenant
        if settings.chroma_database:
            scope["database"] = settings.chroma_database
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                headers=headers,
                settings=chroma_settings,
                **scope,
            )
        except Exception as exc:
            where = f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
            raise _translate(exc, where) from None
    path = Path(settings.index) / "chroma"
    if not create and not path.exists():
        raise IndexMissingError(
            f"no index at {settings.index}/: run `qa ingest seeds/` (or pass --index DIR)"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise _translate(exc, f"index at {settings.index}/") from None


_DISK_FULL = ("database or disk is full", "no space left", "file too large", "disk quota")
_LOCKED = ("database is locked", "database table is locked")
_GONE = (
    "connect",
    "refused",
    "timed out",
    "unreachable",
    "resolve",
    "disconnected",
    "connection reset",
    "broken pipe",
    "remote end closed",
    "server closed",
)


def outside_failure(exc: BaseException, where: str, *, writing: bool = False) -> QAError | None:
    """The QAError for a failure that is not the index's fault (a full disk, a lock held by
    another process, a server gone away), or None. `writing`: the fix mentions the resume."""
    text = _first_line(exc)
    lowered = text.lower()
    resume = "; run `qa ingest` again, it resumes where it stopped" if writing else ""
    number = getattr(exc, "errno", None)
    if number in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or any(w in lowered for w in _DISK_FULL):
        return IndexWriteError(
            f"disk full while writing the {where} ({text}): free space"
            + (resume or " and run the command again")
        )
    if "disk i/o error" in lowered:
        return IndexWriteError(
            f"could not write the {where} ({text}): check free space and the disk"
            + (resume or ", then run the command again")
        )
    if any(w in lowered for w in _LOCKED):
        return IndexBusyError(
            f"the {where} is locked by another process ({text}): wait for the other "
            "`qa ingest` to finish (or stop it) and run the command again; nothing is lost"
        )
    import httpx  # chromadb's HTTP client; the Rust side reports its failures as text

    if isinstance(exc, (ConnectionError, httpx.TransportError)) or any(w in lowered for w in _GONE):
        return StoreUnavailableError(
            f"cannot reach {where} ({text}): start it (`chroma run --path DIR --port N`) "
            f"or check --chroma-host/--chroma-port{resume}"
        )
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0].strip() or type(exc).__name__


def _translate(exc: Exception, where: str) -> QAError:
    known = outside_failure(exc, where)
    if known is not None:
        return known
    return IndexCorruptError(
        f"{where} cannot be opened ({_first_line(exc)}): delete the folder and run "
        "`qa ingest` again"
    )


def _metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "article_id": chunk.article_id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "source": chunk.source,
        "published": chunk.published,
        "published_ts": date_ordinal(chunk.published),
        "url": chunk.url,
    }


_NO_VECTOR = np.zeros(0, dtype=np.float32)


def _rows(result: dict[str, Any], *, nested: bool) -> list[StoredChunk]:
    def column(name: str) -> list[Any]:
        value = result.get(name)
        if value is None:
            return []
        return list(value[0]) if nested else list(value)

    ids, docs, metas = column("ids"), column("documents"), column("metadatas")
    embs, dists = column("embeddings"), column("distances")
    rows = []
    for i, chunk_id in enumerate(ids):
        meta = metas[i] or {}
        chunk = Chunk(
            id=chunk_id,
            article_id=str(meta.get("article_id", "")),
            index=int(meta.get("index", 0)),
            text=docs[i] or "",
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            published=str(meta.get("published", "")),
            url=str(meta.get("url", "")),
        )
        emb = (
            np.asarray(embs[i], dtype=np.float32)
            if len(embs) > i and embs[i] is not None
            else _NO_VECTOR
        )
        rows.append(StoredChunk(chunk, emb, float(dists[i]) if dists else 0.0))
    return rows
