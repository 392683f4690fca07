"""The index: articles -> chunks -> vectors (Chroma) and keywords (SQLite FTS5 + BM25, or
PostgreSQL when `keywords_url` is set, so that several instances share one index).

One job: store what was ingested and answer "which chunks match" by meaning and by word.
`Index` owns the index's paths and opens the vector store and keyword index together;
`ingest` fills it, `embedding` and `models` give the vectors. May import `qa.text`,
`qa.corpus` and the base modules (`qa.errors`, `qa.types`, `qa.settings`, `qa.models`).
Importing this package loads neither chromadb nor torch: they load on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.settings import StoreSettings

if TYPE_CHECKING:
    from qa.index.keywords import KeywordIndex
    from qa.index.vectors import ChromaStore


def keywords_path(store: StoreSettings) -> Path:
    """Where the keyword index (and ingest manifest) of this Chroma collection lives."""
    if store.chroma_host:
        scope = "".join(f"-{p}" for p in (store.chroma_tenant, store.chroma_database) if p)
        name = f"state-{store.chroma_host}-{store.chroma_port}{scope}-{store.collection}.sqlite3"
        return Path(store.index) / name
    return Path(store.index) / "state.sqlite3"


class Index:
    """The vector store and the keyword index of one collection, opened together.

    `create=False` (readers) raises IndexMissingError for a store that was never ingested;
    the parts open on first use, so `Index(settings.store, identity).keywords` never touches Chroma.
    """

    def __init__(self, store: StoreSettings, identity: str = "", *, create: bool = False) -> None:
        self.settings = store
        self.identity = identity
        self.create = create
        self.keywords_path = keywords_path(store)
        self._store: ChromaStore | None = None
        self._keywords: KeywordIndex | None = None

    @property
    def store(self) -> ChromaStore:
        if self._store is None:
            from qa.index.vectors import ChromaStore

            self._store = ChromaStore(self.settings, self.identity, create=self.create)
        return self._store

    @property
    def shared_keywords(self) -> bool:
        """Whether the manifest and keyword index live in PostgreSQL, not beside the index."""
        return bool(self.settings.keywords_url)

    @property
    def keywords(self) -> KeywordIndex:
        if self._keywords is None:
            s = self.settings
            if s.keywords_url:
                from qa.index.pg_keywords import PgState, schema_name

                scope = (s.collection, s.chroma_tenant, s.chroma_database)
                self._keywords = PgState(s.keywords_url, schema_name(*scope), s.lock_timeout)
            else:
                from qa.index.keywords import State

                self._keywords = State(self.keywords_path, s.lock_timeout)
        return self._keywords

    def close(self) -> None:
        if self._keywords is not None:
            self._keywords.close()
            self._keywords = None
