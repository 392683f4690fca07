"""The ingest manifest and the keyword index, in one SQLite file beside the vectors.

The manifest says which articles are fully written (content hash, chunk count); an article
marked `pending` was being written when an ingest stopped and is redone by the next one.
The keyword side is SQLite FTS5 with BM25 ranking, updated per article at ingest time, so
hybrid search never rebuilds anything per query.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from qa.errors import IndexCorruptError
from qa.index import bm25
from qa.index.vectors import date_ordinal, outside_failure
from qa.text.words import STOPWORDS
from qa.types import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL, status TEXT NOT NULL, chunks INTEGER NOT NULL,
    title TEXT, source TEXT, published TEXT, path TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    source TEXT NOT NULL, published_ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_fts USING fts5(text, tokenize='porter unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_fts, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_fts USING fts5(text, tokenize='porter unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_vocab USING fts5vocab(temp, query_fts, 'instance');
CREATE VIRTUAL TABLE IF NOT EXISTS temp.tok_fts USING fts5(
    text, content='', tokenize='porter unicode61'
);
CREATE VIRTUAL TABLE IF NOT EXISTS temp.tok_vocab USING fts5vocab(temp, tok_fts, 'instance');
"""
# Unfiltered BM25 is exact at any size (qa/index/bm25.py: impact lists for common words). With a
# source or date filter, FTS5 scores every matching chunk that holds a query term, so common
# words are pruned: terms are taken rarest first while their chunks add up to no more than
# this budget; a word in more chunks than that ranks nothing on its own (dense search
# covers it). Below the budget, filtered BM25 is exact too.
POSTINGS_BUDGET = 5_000
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


def _query_terms(query: str) -> list[str]:
    """A question's words, lowercased, stopwords out, first occurrence kept."""
    return list(dict.fromkeys(t for t in _TERM.findall(query.lower()) if t not in STOPWORDS))


def _match(terms: Sequence[str]) -> str:
    """An FTS5 query that matches any of these words (each quoted: no operators)."""
    return " OR ".join(f'"{t}"' for t in terms)


@dataclass(frozen=True)
class ArticleRecord:
    """One manifest row."""

    id: str
    hash: str
    status: str
    chunks: int
    title: str
    source: str
    published: str


def done_row(article_id: str, digest: str, chunks: Sequence[Chunk]) -> tuple[Any, ...]:
    """The values of an article's finished row: hash, chunk count, title, outlet, date
    (from its first chunk), then its id; both keyword indexes write these."""
    first = chunks[0] if chunks else None
    return (
        digest,
        len(chunks),
        first.title if first else "",
        first.source if first else "",
        first.published if first else "",
        article_id,
    )


class KeywordIndex(Protocol):
    """The manifest and keyword index of one collection: `State` (SQLite beside the index)
    or `PgState` (qa/index/pg_keywords.py, PostgreSQL shared by every instance)."""

    last_exact: bool

    def close(self) -> None: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def articles(self) -> dict[str, ArticleRecord]: ...
    def mark_pending(self, records: Sequence[tuple[str, str, str, str, str]]) -> None: ...
    def commit_articles(self, done: Sequence[tuple[str, str, list[Chunk]]]) -> None: ...
    def remove_articles(self, article_ids: Sequence[str]) -> None: ...
    def chunk_count(self) -> int: ...
    def optimize(self) -> None: ...
    def search(
        self,
        query: str,
        n: int,
        sources: Sequence[str] = (),
        date_from: str = "",
        date_to: str = "",
    ) -> list[tuple[str, float]]: ...
    def search_exact(self, query: str, n: int) -> list[tuple[str, float]]: ...
    def exact_scores(self, query: str, chunk_ids: Sequence[str]) -> dict[str, float]: ...


class State:
    """Manifest plus FTS5 keyword index. Thread-safe; every write is one transaction."""

    def __init__(self, path: Path, lock_timeout: float = 30.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._df: dict[str, tuple[str, int]] = {}  # term -> (stem, chunks holding it)
        self.last_exact = True  # whether the last unfiltered search was provably exact BM25
        self._df_version = -1
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=lock_timeout)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.executescript(bm25.SCHEMA)
            self._upgrade()
        except sqlite3.DatabaseError as exc:
            known = outside_failure(exc, f"index state {path}")
            if known is not None:  # a held lock or a full disk: deleting would lose data
                raise known from None
            raise IndexCorruptError(
                f"index state {path} cannot be read ({exc}): delete the index folder and "
                "run `qa ingest` again"
            ) from None

    def _upgrade(self) -> None:
        """Build the BM25 impact lists of an index written before they existed (once)."""
        db = self._db
        row = db.execute("SELECT value FROM meta WHERE key = 'bm25'").fetchone()
        if row and row[0] == bm25.VERSION:
            return
        with db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT value FROM meta WHERE key = 'bm25'").fetchone()
            if not (row and row[0] == bm25.VERSION):  # another process may have done it
                chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
                if chunks > 20_000:
                    print(
                        f"qa: indexing the words of {chunks:,} chunks for exact BM25 "
                        "(once for an index from an earlier version; about a minute per "
                        "100,000 chunks)",
                        file=sys.stderr,
                        flush=True,
                    )
                bm25.upgrade(db)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('bm25', ?)", (bm25.VERSION,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def optimize(self) -> None:
        """After an ingest: SQLite's own upkeep of its query-planner statistics."""
        with self._lock:
            self._db.execute("PRAGMA optimize")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                with self._db:
                    yield self._db
                self._df.clear()  # term frequencies may have changed
            except sqlite3.OperationalError as exc:
                known = outside_failure(exc, f"index state {self.path}", writing=True)
                raise known or IndexCorruptError(f"index state {self.path}: {exc}") from None

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def articles(self) -> dict[str, ArticleRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, hash, status, chunks, title, source, published FROM articles"
            ).fetchall()
        return {r[0]: ArticleRecord(*r) for r in rows}

    def mark_pending(self, records: Sequence[tuple[str, str, str, str, str]]) -> None:
        """(id, title, source, published, path) rows whose chunks are about to be rewritten."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO articles VALUES (?, '', 'pending', 0, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET status='pending'",
                records,
            )

    def commit_articles(self, done: Sequence[tuple[str, str, list[Chunk]]]) -> None:
        """Replace each article's keyword rows and mark it done, all in one transaction."""
        with self._tx() as db:
            added: list[tuple[int, str]] = []
            for article_id, digest, chunks in done:
                self._delete_chunks(db, article_id)
                for chunk in chunks:
                    cur = db.execute(
                        "INSERT INTO chunks (chunk_id, article_id, source, published_ts) "
                        "VALUES (?, ?, ?, ?)",
                        (chunk.id, article_id, chunk.source, date_ordinal(chunk.published)),
                    )
                    text = f"{chunk.title}\n{chunk.text}"
                    db.execute(
                        "INSERT INTO chunk_fts (rowid, text) VALUES (?, ?)", (cur.lastrowid, text)
                    )
                    added.append((int(cur.lastrowid or 0), text))
                db.execute(
                    "UPDATE articles SET hash=?, status='done', chunks=?, title=?, source=?, "
                    "published=? WHERE id=?",
                    done_row(article_id, digest, chunks),
                )
            bm25.add(db, added)

    def remove_articles(self, article_ids: Sequence[str]) -> None:
        with self._tx() as db:
            for article_id in article_ids:
                self._delete_chunks(db, article_id)
                db.execute("DELETE FROM articles WHERE id=?", (article_id,))

    @staticmethod
    def _delete_chunks(db: sqlite3.Connection, article_id: str) -> None:
        rowids = [
            r[0] for r in db.execute("SELECT rowid FROM chunks WHERE article_id=?", (article_id,))
        ]
        bm25.remove(db, rowids)
        db.executemany("DELETE FROM chunk_fts WHERE rowid=?", [(r,) for r in rowids])
        db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))

    postings_budget = POSTINGS_BUDGET

    def _selective(self, terms: list[str]) -> list[str]:
        """The query terms worth scoring: all of them when their chunks fit the postings
        budget, otherwise the rarest ones that fit (none, if every term is that common)."""
        frequency = self._frequencies(terms)
        budget = self.postings_budget
        if sum(frequency.values()) <= budget:
            return terms
        chosen: list[str] = []
        spent = 0
        for term in sorted(terms, key=lambda t: frequency[t]):
            if spent + frequency[term] > budget:
                break
            chosen.append(term)
            spent += frequency[term]
        return chosen

    def _frequencies(self, terms: list[str]) -> dict[str, int]:
        """Chunks holding each term (as FTS5 stems it)."""
        return {t: df for t, (_, df) in self._stems(terms).items()}

    def _stems(self, terms: list[str]) -> dict[str, tuple[str, int]]:
        """{term: (FTS5's stem of it, chunks holding that stem)}, cached until the index
        changes."""
        with self._lock:
            db = self._db
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version != self._df_version or len(self._df) > 100_000:
                self._df.clear()  # another connection wrote (our own writes clear it too)
                self._df_version = version
            missing = [t for t in terms if t not in self._df]
            if missing:
                db.execute("DELETE FROM temp.query_fts")
                db.executemany(
                    "INSERT INTO temp.query_fts (rowid, text) VALUES (?, ?)",
                    list(enumerate(missing, start=1)),
                )
                stems = dict(db.execute("SELECT doc, term FROM temp.query_vocab").fetchall())
                db.commit()  # the temp-table write opened a transaction: end it, pin no snapshot
                for row, term in enumerate(missing, start=1):
                    stem = stems.get(row, term)
                    hit = db.execute("SELECT df FROM term_df WHERE term = ?", (stem,)).fetchone()
                    self._df[term] = (stem, int(hit[0]) if hit else 0)
            return {t: self._df[t] for t in terms}

    def _chunk_ids(self, hits: list[tuple[int, float]]) -> list[tuple[str, float]]:
        """(rowid, score) -> (chunk_id, score), order kept."""
        if not hits:
            return []
        marks = ",".join("?" * len(hits))
        ids = dict(
            self._db.execute(
                f"SELECT rowid, chunk_id FROM chunks WHERE rowid IN ({marks})", [d for d, _ in hits]
            )
        )
        return [(ids[d], score) for d, score in hits if d in ids]

    def search_exact(self, query: str, n: int) -> list[tuple[str, float]]:
        """BM25 straight from FTS5 with every query term scored on every chunk that holds
        it: the reference `search` is measured against (slow on a large corpus)."""
        terms = _query_terms(query)
        if not terms or n <= 0:
            return []
        match = _match(terms)
        sql = (
            "SELECT rowid, bm25(chunk_fts) AS s FROM chunk_fts WHERE chunk_fts MATCH ? "
            "ORDER BY s, rowid LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (match, n)).fetchall()
            return self._chunk_ids([(d, -float(s)) for d, s in rows])

    def exact_scores(self, query: str, chunk_ids: Sequence[str]) -> dict[str, float]:
        """FTS5's own BM25 score of these chunks for the query (0 if no term is in one)."""
        terms = _query_terms(query)
        if not terms or not chunk_ids:
            return {}
        match = _match(terms)
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT c.chunk_id, bm25(chunk_fts) FROM chunk_fts JOIN chunks c "
                f"ON c.rowid = chunk_fts.rowid WHERE chunk_fts MATCH ? AND c.chunk_id IN ({marks})",
                [match, *chunk_ids],
            ).fetchall()
        return {cid: 0.0 for cid in chunk_ids} | {cid: -float(s) for cid, s in rows}

    def chunk_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def search(
        self,
        query: str,
        n: int,
        sources: Sequence[str] = (),
        date_from: str = "",
        date_to: str = "",
    ) -> list[tuple[str, float]]:
        """(chunk_id, score) by BM25, best first; score is positive, higher is better."""
        terms = _query_terms(query)
        if not terms or n <= 0:
            return []
        if not (sources or date_from or date_to):
            stems: dict[str, tuple[str, int]] = {}
            for term, (stem, df) in self._stems(terms).items():
                stems.setdefault(stem, (term, df))
            with self._lock:
                ranking = bm25.top(self._db, stems, n)
                self.last_exact = ranking.exact
                return self._chunk_ids(ranking.hits)
        # filters: FTS5 joined with the chunk table, common words pruned to the budget
        chosen = self._selective(terms)
        if not chosen:
            return []
        match = _match(chosen)
        sql = (
            "SELECT c.chunk_id, bm25(chunk_fts) AS s FROM chunk_fts "
            "JOIN chunks c ON c.rowid = chunk_fts.rowid WHERE chunk_fts MATCH ?"
        )
        params: list[object] = [match]
        if sources:
            sql += f" AND c.source IN ({','.join('?' * len(sources))})"
            params.extend(sources)
        if date_from:
            sql += " AND c.published_ts >= ?"
            params.append(date_ordinal(date_from))
        if date_to:
            sql += " AND c.published_ts BETWEEN 0 AND ?"
            params.append(date_ordinal(date_to))
        sql += " ORDER BY s LIMIT ?"
        params.append(n)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [(chunk_id, -float(score)) for chunk_id, score in rows]
