"""The ingest manifest and the keyword index in PostgreSQL, shared by every `qa` instance.

Used when `keywords_url` (`--keywords-url`, `QA_KEYWORDS_URL`) names a PostgreSQL database:
with a Chroma server (`--chroma-host`) nothing of the index stays on local disk, so any number
of `qa` processes on any machines see the same articles, by meaning and by word, at once.
(Chroma's own sparse BM25 index is not served by the open-source `chroma run` of the chromadb
we pin: tests/test_chroma_sparse.py shows the error; BENCHMARKS.md has the figures.)

Words are tokenized exactly as the embedded SQLite index does (FTS5's porter unicode61, run in
an in-memory SQLite), so both modes rank with the same BM25 (k1 1.2, b 0.75, FTS5's idf).
Tables, in one PostgreSQL schema per Chroma collection (and tenant/database):
- meta(key, value), articles(...): the manifest, as in qa/index/keywords.py;
- chunks(doc, chunk_id, article_id, source, published_ts, dl): dl is the chunk's token count;
- postings(term, doc, tf, dl, w): w is the term's BM25 weight at ingest time (what orders a
  term's postings best first; the index on (term, w) carries doc, tf and dl, so a word's best
  postings are read from the index alone); terms(term, df); stats(docs, tokens).

Stopwords (qa/text/words.py) are counted in a chunk's length but get no postings: a query
never asks for them. Each two neighbouring non-stopword stems of a chunk ("white island") get
a posting too, under the term "stem stem": a pair is in far fewer chunks than either word, so
the chunks that hold a question's words together can be found without reading every posting
of common words. A query reads, for each of its words and pairs, the CANDIDATES postings of
highest weight (all of them for a term in fewer chunks than that: when every word is, the
ranking is exact BM25), sums what it read for each candidate, and scores the RESCORE best of
those exactly with the query's words alone (one primary-key probe per word and candidate):
pairs find candidates, they never add to a score.

Every write is one transaction: an ingest that stops leaves the manifest's `pending` rows,
redone by the next one, from any instance.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

from qa.errors import IndexWriteError, InputError, StoreUnavailableError
from qa.index import bm25
from qa.index.keywords import _TERM, ArticleRecord, _query_terms, done_row
from qa.index.vectors import date_ordinal
from qa.text.words import STOPWORDS
from qa.types import Chunk

CANDIDATES = 1_000  # postings read per query word, the highest-weighted first
RESCORE = 200  # candidates, best by the postings read, scored with every query word
SCHEMA_VERSION = "2"  # of the tables and indexes below; an older schema is brought up to it
_SCHEMA = """
CREATE TABLE IF NOT EXISTS {s}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.articles (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL, status TEXT NOT NULL, chunks INTEGER NOT NULL,
    title TEXT, source TEXT, published TEXT, path TEXT
);
CREATE TABLE IF NOT EXISTS {s}.chunks (
    doc BIGSERIAL PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    source TEXT NOT NULL, published_ts INTEGER NOT NULL, dl INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON {s}.chunks (article_id);
CREATE TABLE IF NOT EXISTS {s}.postings (
    term TEXT NOT NULL, doc BIGINT NOT NULL, tf INTEGER NOT NULL, dl INTEGER NOT NULL,
    w REAL NOT NULL, PRIMARY KEY (term, doc)
);
DROP INDEX IF EXISTS {s}.postings_impact;
CREATE INDEX IF NOT EXISTS postings_best ON {s}.postings (term, w DESC) INCLUDE (doc, tf, dl);
CREATE INDEX IF NOT EXISTS postings_doc ON {s}.postings (doc);
CREATE TABLE IF NOT EXISTS {s}.terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.stats (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    docs BIGINT NOT NULL, tokens BIGINT NOT NULL);
INSERT INTO {s}.stats VALUES (TRUE, 0, 0) ON CONFLICT DO NOTHING;
"""
_QUERY = "WITH q(term, idf) AS (SELECT * FROM unnest(%(terms)s::text[], %(idfs)s::float8[])), "
# one word's BM25 in one chunk, from q(term, idf) and a posting (tf, dl)
_BM25 = "{q}.idf * {p}.tf * %(k1p1)s / ({p}.tf + %(k1)s * (1 - %(b)s + %(b)s * {p}.dl / %(avgdl)s))"
# BM25 of the candidates, every query word counted: q(term, idf), cand(doc); each (word,
# candidate) pair is one probe of the postings' primary key
_SCORE = """
SELECT c.chunk_id, sum({bm25}) AS s
FROM cand CROSS JOIN q CROSS JOIN LATERAL (
    SELECT tf, dl FROM {s}.postings WHERE term = q.term AND doc = cand.doc LIMIT 1) p
JOIN {s}.chunks c ON c.doc = cand.doc
GROUP BY c.chunk_id ORDER BY s DESC, c.chunk_id LIMIT %(n)s
"""


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def schema_name(collection: str, tenant: str = "", database: str = "") -> str:
    """One PostgreSQL schema per Chroma collection (and tenant and database)."""
    raw = "_".join(p for p in ("qa", tenant, database, collection) if p)
    return re.sub(r"[^a-z0-9_]", "_", raw.lower())[:63]


class _Tokenizer:
    """FTS5's porter unicode61 tokenizer, the embedded index's, in a private SQLite."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(
            "CREATE VIRTUAL TABLE temp.tok_fts USING fts5("
            "text, content='', tokenize='porter unicode61');"
            "CREATE VIRTUAL TABLE temp.tok_vocab USING fts5vocab(temp, tok_fts, 'instance');"
        )
        self._lock = threading.Lock()
        # the stems of the stopwords: a query never asks for them, so no posting is kept
        self.stop = frozenset(t for ts in self(list(enumerate(STOPWORDS)))[1].values() for t in ts)

    def __call__(self, docs: Sequence[tuple[int, str]]) -> tuple[dict[int, int], dict]:
        with self._lock, self._db:
            return bm25.tokenize(self._db, docs)

    def with_pairs(
        self, docs: Sequence[tuple[int, str]]
    ) -> tuple[dict[int, int], dict, dict[int, Counter[str]]]:
        """As calling it, plus {doc: {"stem stem": count}}: each two neighbouring stems that
        are not stopwords', in text order."""
        pairs: dict[int, Counter[str]] = {}
        with self._lock, self._db:
            lengths, counts = bm25.tokenize(self._db, docs)
            last: dict[int, str] = {}
            for doc, term in self._db.execute(
                "SELECT doc, term FROM temp.tok_vocab ORDER BY doc, col, offset"
            ):
                if term in self.stop:
                    continue
                before = last.get(doc)
                if before is not None and before != term:
                    pairs.setdefault(doc, Counter())[f"{before} {term}"] += 1
                last[doc] = term
        return lengths, counts, pairs

    def query_terms(self, query: str, pairs: bool) -> tuple[list[str], list[str]]:
        """A query's stems as the index holds them (stopwords' out, first occurrence kept)
        and, when asked, its neighbouring stem pairs as `with_pairs` writes them: one
        tokenizing of the query's words, in text order, serves both."""
        words = [w for w in _TERM.findall(query.lower()) if w not in STOPWORDS]
        _, counts = self(list(enumerate(words)))
        found = [counts[i] for i in range(len(words)) if counts.get(i)]
        stems = [t for t in dict.fromkeys(t for c in found for t in c) if t not in self.stop]
        if not pairs:
            return stems, []
        kept = [t for t in (next(iter(c)) for c in found) if t not in self.stop]
        return stems, list(dict.fromkeys(f"{a} {b}" for a, b in pairwise(kept) if a != b))

    def stems(self, terms: Sequence[str]) -> list[str]:
        """Each query word's stem, as the index holds it, first occurrence kept."""
        _, counts = self(list(enumerate(terms)))
        out: dict[str, None] = {}
        for i in range(len(terms)):
            out.update(dict.fromkeys(counts.get(i, {})))
        return list(out)


class PgState:
    """Manifest plus BM25 keyword index in PostgreSQL; the same methods as `State`."""

    postings_budget = CANDIDATES
    read_pairs = True  # neighbouring-word pairs find candidates (off: words alone)

    def __init__(self, url: str, schema: str, lock_timeout: float = 30.0) -> None:
        try:
            import psycopg
        except ImportError:
            raise InputError("--keywords-url needs psycopg: pip install 'qa[postgres]'") from None
        self._psycopg = psycopg
        self.url = url
        self.where = f"{redact(url)} (schema {schema})"
        self.path = self.where  # what messages and `qa doctor` call it
        self.schema = schema
        self.last_exact = True
        self._lock = threading.RLock()
        self._tokens = _Tokenizer()
        self._lock_timeout = lock_timeout
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"keyword index {redact(url)} cannot be reached: {_first_line(exc)}"
            ) from None
        if self._schema_version() == SCHEMA_VERSION:
            return  # no DDL: even CREATE ... IF NOT EXISTS locks tables another ingest writes
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            cur.execute(_SCHEMA.format(s=schema))
            cur.execute(
                f"INSERT INTO {schema}.meta VALUES ('pg_schema', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (SCHEMA_VERSION,),
            )

    def _schema_version(self) -> str:
        with self._tx() as cur:
            cur.execute("SELECT to_regclass(%s)", (f"{self.schema}.meta",))
            if cur.fetchone()[0] is None:
                return ""
            cur.execute(f"SELECT value FROM {self.schema}.meta WHERE key = 'pg_schema'")
            row = cur.fetchone()
        return row[0] if row else ""

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """One transaction; a lost server or a failed statement becomes one clear error."""
        psycopg = self._psycopg
        with self._lock:
            try:
                with self._db.transaction(), self._db.cursor() as cur:
                    cur.execute(f"SET LOCAL lock_timeout = '{int(self._lock_timeout * 1000)}ms'")
                    yield cur
            except psycopg.OperationalError as exc:
                raise StoreUnavailableError(
                    f"keyword index {self.where}: {_first_line(exc)}"
                ) from None
            except psycopg.Error as exc:
                raise IndexWriteError(f"keyword index {self.where}: {_first_line(exc)}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get_meta(self, key: str) -> str | None:
        with self._tx() as cur:
            cur.execute(f"SELECT value FROM {self.schema}.meta WHERE key = %s", (key,))
            row = cur.fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as cur:
            cur.execute(
                f"INSERT INTO {self.schema}.meta VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
            )

    def articles(self) -> dict[str, ArticleRecord]:
        with self._tx() as cur:
            cur.execute(
                f"SELECT id, hash, status, chunks, title, source, published "
                f"FROM {self.schema}.articles"
            )
            rows = cur.fetchall()
        return {r[0]: ArticleRecord(*r) for r in rows}

    def mark_pending(self, records: Sequence[tuple[str, str, str, str, str]]) -> None:
        """(id, title, source, published, path) rows whose chunks are about to be rewritten."""
        with self._tx() as cur:
            cur.executemany(
                f"INSERT INTO {self.schema}.articles VALUES (%s, '', 'pending', 0, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET status = 'pending'",
                records,
            )

    def commit_articles(self, done: Sequence[tuple[str, str, list[Chunk]]]) -> None:
        """Replace each article's keyword rows and mark it done, all in one transaction."""
        s = self.schema
        texts = [
            (article_id, chunk, f"{chunk.title}\n{chunk.text}")
            for article_id, _, chunks in done
            for chunk in chunks
        ]
        lengths, counts, pairs = self._tokens.with_pairs(
            [(i, t) for i, (_, _, t) in enumerate(texts)]
        )
        with self._tx() as cur:
            for article_id, _, _ in done:
                self._delete_chunks(cur, article_id)
            cur.execute(f"SELECT docs, tokens FROM {s}.stats FOR UPDATE")
            docs, tokens = cur.fetchone()
            added = sum(lengths.get(i, 0) for i in range(len(texts)))
            docs, tokens = docs + len(texts), tokens + added
            avgdl = tokens / docs if docs else 1.0
            cur.execute(f"UPDATE {s}.stats SET docs = %s, tokens = %s", (docs, tokens))
            rows = []
            for i, (article_id, chunk, _) in enumerate(texts):
                rows.append(
                    (
                        chunk.id,
                        article_id,
                        chunk.source,
                        date_ordinal(chunk.published),
                        lengths.get(i, 0),
                    )
                )
            ids: dict[str, int] = {}
            if rows:
                cur.execute(
                    f"INSERT INTO {s}.chunks (chunk_id, article_id, source, published_ts, dl) "
                    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], "
                    "%s::int[]) RETURNING chunk_id, doc",
                    [list(column) for column in zip(*rows, strict=True)],
                )
                ids = dict(cur.fetchall())
            df: Counter[str] = Counter()
            with cur.copy(f"COPY {s}.postings (term, doc, tf, dl, w) FROM STDIN") as copy:
                for i, (_, chunk, _) in enumerate(texts):
                    doc, dl = ids[chunk.id], lengths.get(i, 0)
                    for term, tf in counts.get(i, {}).items():
                        if term in self._tokens.stop:
                            continue  # queries never ask for a stopword
                        copy.write_row((term, doc, tf, dl, bm25.weight(tf, dl, avgdl)))
                        df[term] += 1
                    # neighbouring words, to find candidates only (see read_pairs)
                    for pair, tf in pairs.get(i, {}).items():
                        copy.write_row((pair, doc, tf, dl, bm25.weight(tf, dl, avgdl)))
                        df[pair] += 1
            self._add_df(cur, df)
            for article_id, digest, chunks in done:
                cur.execute(
                    f"UPDATE {s}.articles SET hash = %s, status = 'done', chunks = %s, "
                    "title = %s, source = %s, published = %s WHERE id = %s",
                    done_row(article_id, digest, chunks),
                )

    def _add_df(self, cur: Any, df: Counter[str]) -> None:
        if not df:
            return
        terms = sorted(df)  # one order for every writer: no deadlock between two ingests
        cur.execute(
            f"INSERT INTO {self.schema}.terms AS t (term, df) "
            "SELECT * FROM unnest(%s::text[], %s::int[]) "
            "ON CONFLICT (term) DO UPDATE SET df = t.df + EXCLUDED.df",
            (terms, [df[t] for t in terms]),
        )

    def remove_articles(self, article_ids: Sequence[str]) -> None:
        with self._tx() as cur:
            for article_id in article_ids:
                self._delete_chunks(cur, article_id)
                cur.execute(f"DELETE FROM {self.schema}.articles WHERE id = %s", (article_id,))

    def _delete_chunks(self, cur: Any, article_id: str) -> None:
        s = self.schema
        cur.execute(f"SELECT doc, dl FROM {s}.chunks WHERE article_id = %s", (article_id,))
        gone = cur.fetchall()
        if not gone:
            return
        docs = [d for d, _ in gone]
        cur.execute(
            f"SELECT term, count(*) FROM {s}.postings WHERE doc = ANY(%s) GROUP BY term", (docs,)
        )
        lost = Counter({t: -int(n) for t, n in cur.fetchall()})
        self._add_df(cur, lost)
        cur.execute(f"DELETE FROM {s}.terms WHERE df <= 0 AND term = ANY(%s)", (list(lost),))
        cur.execute(f"DELETE FROM {s}.postings WHERE doc = ANY(%s)", (docs,))
        cur.execute(f"DELETE FROM {s}.chunks WHERE doc = ANY(%s)", (docs,))
        cur.execute(
            f"UPDATE {s}.stats SET docs = docs - %s, tokens = tokens - %s",
            (len(gone), sum(dl for _, dl in gone)),
        )

    def optimize(self) -> None:
        """After an ingest: VACUUM ANALYZE the postings and chunks, so that the postings'
        covering index serves reads without touching the table (index-only scans) and the
        planner knows the new sizes. Autovacuum would do it too, later."""
        with self._lock:
            try:
                for table in ("postings", "chunks", "terms"):
                    self._db.execute(f"VACUUM (ANALYZE) {self.schema}.{table}")
            except self._psycopg.Error as exc:
                raise IndexWriteError(f"keyword index {self.where}: {_first_line(exc)}") from None

    def chunk_count(self) -> int:
        with self._tx() as cur:
            cur.execute(f"SELECT docs FROM {self.schema}.stats")
            return int(cur.fetchone()[0])

    def _plan(
        self, cur: Any, query: str, with_pairs: bool
    ) -> tuple[list[str], list[float], float, bool, list[str], list[float]]:
        """(stems, idfs, avgdl, whether every stem fits in CANDIDATES, the query's
        neighbouring-word pairs that the index holds, their idfs) for a query; pairs only
        when asked (they find candidates, exact scores never read them)."""
        stems, pairs = self._tokens.query_terms(query, with_pairs)
        cur.execute(f"SELECT docs, tokens FROM {self.schema}.stats")
        docs, tokens = cur.fetchone()
        if not stems or not docs:
            return [], [], 1.0, True, [], []
        cur.execute(
            f"SELECT term, df FROM {self.schema}.terms WHERE term = ANY(%s)", (stems + pairs,)
        )
        df = dict(cur.fetchall())
        held = [t for t in stems if df.get(t, 0) > 0]
        idfs = [bm25.idf(docs, df[t]) for t in held]
        complete = all(df[t] <= self.postings_budget for t in held)
        found = [t for t in pairs if df.get(t, 0) > 0]
        return held, idfs, tokens / docs, complete, found, [bm25.idf(docs, df[t]) for t in found]

    def _ranked(
        self,
        query: str,
        n: int,
        cap: int | None,
        sources: Sequence[str] = (),
        date_from: str = "",
        date_to: str = "",
    ) -> list[tuple[str, float]]:
        terms = _query_terms(query)
        if not terms or n <= 0:
            return []
        s = self.schema
        with self._tx() as cur:
            stems, idfs, avgdl, complete, pairs, pair_idfs = self._plan(cur, query, self.read_pairs)
            if not stems:
                self.last_exact = True
                return []
            # capped, candidates come from the words' and the neighbouring pairs' best postings
            read = "q" if cap is None or complete or not pairs else "qr"
            where: list[str] = []
            params: dict[str, Any] = {}
            if sources:
                where.append("c.source = ANY(%(sources)s)")
                params["sources"] = list(sources)
            if date_from:
                where.append("c.published_ts >= %(date_from)s")
                params["date_from"] = date_ordinal(date_from)
            if date_to:
                where.append("c.published_ts BETWEEN 0 AND %(date_to)s")
                params["date_to"] = date_ordinal(date_to)
            join = f" JOIN {s}.chunks c ON c.doc = p.doc" if where else ""
            cond = f" AND {' AND '.join(where)}" if where else ""
            limit = " ORDER BY p.w DESC LIMIT %(cap)s" if cap is not None else ""
            # capped, a candidate's sum is of the stored weights (the (k1 + 1) factor and
            # the avgdl at ingest aside); when every posting is read, of the true BM25 terms
            part = "q.idf * t.w" if cap is not None and not complete else _BM25.format(q="q", p="t")
            hits = (
                f"hits AS (SELECT t.doc, {part.replace('q.', read + '.')} AS part FROM {read} "
                f"CROSS JOIN LATERAL (SELECT p.doc, p.w, p.tf, p.dl FROM {s}.postings p{join} "
                f"WHERE p.term = {read}.term{cond}{limit}) t)"
            )
            if read == "qr":  # the words and the pairs, read alike
                hits = (
                    "qr(term, idf) AS (SELECT * FROM unnest(%(read_terms)s::text[], "
                    "%(read_idfs)s::float8[])), " + hits
                )
            if cap is None:  # every posting read: the sums are the scores
                sql = (
                    f"{_QUERY}{hits} SELECT c.chunk_id, sum(h.part) AS s FROM hits h "
                    f"JOIN {s}.chunks c ON c.doc = h.doc "
                    "GROUP BY c.chunk_id ORDER BY s DESC, c.chunk_id LIMIT %(n)s"
                )
            else:  # the best by what was read, then scored with every word
                sql = (
                    f"{_QUERY}{hits}, cand AS (SELECT doc FROM hits GROUP BY doc "
                    "ORDER BY sum(part) DESC, doc LIMIT %(rescore)s) "
                    + _SCORE.format(s=s, bm25=_BM25.format(q="q", p="p"))
                )
            params.update(
                terms=stems,
                idfs=idfs,
                read_terms=stems + pairs,
                read_idfs=idfs + pair_idfs,
                cap=cap,
                k1=bm25.K1,
                k1p1=bm25.K1 + 1,
                b=bm25.B,
                avgdl=avgdl,
                n=n,
                rescore=max(RESCORE, n),
            )
            cur.execute(sql, params)
            rows = cur.fetchall()
        self.last_exact = cap is None or complete
        return [(chunk_id, float(score)) for chunk_id, score in rows]

    def search(
        self,
        query: str,
        n: int,
        sources: Sequence[str] = (),
        date_from: str = "",
        date_to: str = "",
    ) -> list[tuple[str, float]]:
        """(chunk_id, score) by BM25, best first; exact when every query word is in at most
        CANDIDATES chunks (`last_exact` says so), else from each word's best postings."""
        return self._ranked(query, n, self.postings_budget, sources, date_from, date_to)

    def search_exact(self, query: str, n: int) -> list[tuple[str, float]]:
        """BM25 over every posting of every query word: the reference `search` is measured
        against."""
        return self._ranked(query, n, None)

    def exact_scores(self, query: str, chunk_ids: Sequence[str]) -> dict[str, float]:
        """The BM25 score of these chunks for the query (0 if no word is in one)."""
        if not chunk_ids:
            return {}
        s = self.schema
        with self._tx() as cur:
            stems, idfs, avgdl, *_ = self._plan(cur, query, with_pairs=False)
            if not stems:
                return dict.fromkeys(chunk_ids, 0.0)
            sql = (
                _QUERY
                + f"cand AS (SELECT doc FROM {s}.chunks WHERE chunk_id = ANY(%(ids)s)) "
                + _SCORE.format(s=s, bm25=_BM25.format(q="q", p="p"))
            )
            cur.execute(
                sql,
                dict(
                    terms=stems,
                    idfs=idfs,
                    ids=list(chunk_ids),
                    k1=bm25.K1,
                    k1p1=bm25.K1 + 1,
                    b=bm25.B,
                    avgdl=avgdl,
                    n=len(chunk_ids),
                ),
            )
            rows = cur.fetchall()
        return dict.fromkeys(chunk_ids, 0.0) | {cid: float(v) for cid, v in rows}


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
