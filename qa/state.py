"""The ingest manifest and the keyword index, in one SQLite file beside the vectors.

The manifest says which articles are fully written (content hash, chunk count); an article
marked `pending` was being written when an ingest stopped and is redone by the next one.
The keyword side is SQLite FTS5 with BM25 ranking, updated per article at ingest time, so
hybrid search never rebuilds anything per query.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa.errors import IndexCorruptError
from qa.store import date_ordinal, outside_failure
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
"""
# BM25 scores every chunk that holds a query term, so a common word costs time in
# proportion to the corpus. Terms are taken rarest first while their chunks add up to no
# more than this budget; a word in more chunks than that ranks nothing on its own (dense
# search covers it). Below the budget, BM25 is exact: always so for corpora this small.
POSTINGS_BUDGET = 5_000
_TERM = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "about",
        "said",
        "says",
        "say",
    ]
)


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


class State:
    """Manifest plus FTS5 keyword index. Thread-safe; every write is one transaction."""

    def __init__(self, path: Path, lock_timeout: float = 30.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._df: dict[str, int] = {}  # term -> chunks holding it, for BM25 pruning
        self._df_version = -1
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=lock_timeout)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            known = outside_failure(exc, f"index state {path}")
            if known is not None:  # a held lock or a full disk: deleting would lose data
                raise known from None
            raise IndexCorruptError(
                f"index state {path} cannot be read ({exc}): delete the index folder and "
                "run `qa ingest` again"
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

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
            for article_id, digest, chunks in done:
                self._delete_chunks(db, article_id)
                for chunk in chunks:
                    cur = db.execute(
                        "INSERT INTO chunks (chunk_id, article_id, source, published_ts) "
                        "VALUES (?, ?, ?, ?)",
                        (chunk.id, article_id, chunk.source, date_ordinal(chunk.published)),
                    )
                    db.execute(
                        "INSERT INTO chunk_fts (rowid, text) VALUES (?, ?)",
                        (cur.lastrowid, f"{chunk.title}\n{chunk.text}"),
                    )
                first = chunks[0] if chunks else None
                db.execute(
                    "UPDATE articles SET hash=?, status='done', chunks=?, title=?, source=?, "
                    "published=? WHERE id=?",
                    (
                        digest,
                        len(chunks),
                        first.title if first else "",
                        first.source if first else "",
                        first.published if first else "",
                        article_id,
                    ),
                )

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
        """Chunks holding each term (as FTS5 stems it), cached until the index changes."""
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
                for row, term in enumerate(missing, start=1):
                    hit = db.execute(
                        "SELECT doc FROM chunk_vocab WHERE term = ?", (stems.get(row, term),)
                    ).fetchone()
                    self._df[term] = int(hit[0]) if hit else 0
                db.commit()  # the temp-table write opened a transaction: end it, pin no snapshot
            return {t: self._df[t] for t in terms}

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
        terms = list(dict.fromkeys(t for t in _TERM.findall(query.lower()) if t not in STOPWORDS))
        if not terms or n <= 0:
            return []
        chosen = self._selective(terms)
        if not chosen:
            return []
        match = " OR ".join(f'"{t}"' for t in chosen)
        if not (sources or date_from or date_to):
            # rank inside FTS5 first, then look up only the best n chunks
            sql = (
                "SELECT c.chunk_id, r.s FROM (SELECT rowid, bm25(chunk_fts) AS s FROM chunk_fts "
                "WHERE chunk_fts MATCH ? ORDER BY s LIMIT ?) r "
                "JOIN chunks c ON c.rowid = r.rowid ORDER BY r.s"
            )
            with self._lock:
                rows = self._db.execute(sql, (match, n)).fetchall()
            return [(chunk_id, -float(score)) for chunk_id, score in rows]
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
