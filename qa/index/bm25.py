"""Exact BM25 top-k at scale: impact lists for common words, kept up to date at ingest.

FTS5 scores every chunk that holds a query word, so one common word costs time in
proportion to the corpus. For each word in more than LIST_MIN_DF chunks we keep its
LIST_SIZE chunks of highest BM25 term weight (tf and length normalised), plus `cutoff`, a
bound on the weight of every chunk left out. A query scores its rare words exactly in FTS5,
reads the common words' lists best first (the threshold algorithm of Fagin et al.), rescores
the leading candidates exactly, and stops as soon as no unread chunk can beat the n-th
result, or once RESCORE_LIMIT chunks are rescored. Stopped by the bound, the answer is exact
BM25 (FTS5's own formula and statistics); `Ranking.exact` says which of the two it was. The
scores returned are always exact; what the limit can cost is a chunk missing from the top n.

Tables (in the state database, written in the ingest's own transactions):
- doc_terms(doc, dl, terms): each chunk's token count as FTS5 counts it, and its stems with
  their counts ("stem stem:2 ..."), for rescoring and for removal without re-tokenizing;
- term_df(term, df): chunks holding each stemmed term;
- term_lists(term, cutoff, size, avgdl): one row per common term; weights use that avgdl;
- term_top(term, weight, doc, tf, dl): the lists themselves, best first by (term, weight).
"""

from __future__ import annotations

import heapq
import math
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

K1 = 1.2
B = 0.75
LIST_MIN_DF = 2_000  # a term gets an impact list once more chunks than this hold it
LIST_SIZE = 1_000  # postings kept per list, the highest-weighted
RARE_BUDGET = 50_000  # a listless term this common (a list not built yet) is left out
RESCORE_LIMIT = 1_000  # chunks rescored per query at most; past it the ranking is best-effort
FIRST_DEPTH = 64  # list rows read in the first round (then 4x per round)
VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS doc_terms (
    doc INTEGER PRIMARY KEY, dl INTEGER NOT NULL, terms TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS term_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_lists (
    term TEXT PRIMARY KEY, cutoff REAL NOT NULL, size INTEGER NOT NULL, avgdl REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_top (
    term TEXT NOT NULL, weight REAL NOT NULL, doc INTEGER NOT NULL, tf INTEGER NOT NULL,
    dl INTEGER NOT NULL, PRIMARY KEY (term, weight, doc)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_inst USING fts5vocab(chunk_fts, 'instance');
"""


def weight(tf: int, dl: int, avgdl: float) -> float:
    """BM25's term-frequency factor over (k1 + 1): what orders a list."""
    return tf / (tf + K1 * (1.0 - B + B * dl / avgdl))


def idf(n_docs: int, df: int) -> float:
    """FTS5's BM25 idf, floor included."""
    value = math.log((n_docs - df + 0.5) / (df + 0.5))
    return value if value > 0 else 1e-6


def _varint(blob: bytes, at: int) -> tuple[int, int]:
    """One SQLite varint from `blob` at `at`: (value, next offset)."""
    value = 0
    for i in range(8):
        byte = blob[at + i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + i + 1
    return (value << 8) | blob[at + 8], at + 9


def totals(db: sqlite3.Connection) -> tuple[int, float]:
    """(chunks, average tokens per chunk) from FTS5's own averages record."""
    row = db.execute("SELECT block FROM chunk_fts_data WHERE id = 1").fetchone()
    if not row or not row[0]:
        return 0, 1.0
    n_docs, at = _varint(row[0], 0)
    tokens, _ = _varint(row[0], at)
    return n_docs, (tokens / n_docs if n_docs else 1.0)


def tokenize(
    db: sqlite3.Connection, docs: Iterable[tuple[int, str]]
) -> tuple[dict[int, int], dict[int, dict[str, int]]]:
    """(token count per doc, {doc: {stem: tf}}) with FTS5's own tokenizer, through a
    contentless temp table (emptied in one step)."""
    db.execute("INSERT INTO temp.tok_fts (tok_fts) VALUES ('delete-all')")
    db.executemany("INSERT INTO temp.tok_fts (rowid, text) VALUES (?, ?)", docs)
    lengths: dict[int, int] = {}
    counts: dict[int, dict[str, int]] = {}
    for doc, term, tf in db.execute(
        "SELECT doc, term, count(*) FROM temp.tok_vocab GROUP BY doc, term"
    ):
        counts.setdefault(doc, {})[term] = tf
        lengths[doc] = lengths.get(doc, 0) + tf
    return lengths, counts


def _where_in(db: sqlite3.Connection, select: str, keys: Iterable[object]) -> Iterator[tuple]:
    """Rows of `select ... IN (keys)`, the keys sent 500 at a time (SQLite's variable limit)."""
    keys = list(keys)
    for at in range(0, len(keys), 500):
        part = keys[at : at + 500]
        yield from db.execute(f"{select} IN ({','.join('?' * len(part))})", part)


def _lists(db: sqlite3.Connection, terms: Iterable[str]) -> dict[str, tuple[float, int, float]]:
    select = "SELECT term, cutoff, size, avgdl FROM term_lists WHERE term"
    return {t: (c, s, a) for t, c, s, a in _where_in(db, select, terms)}


def _df(db: sqlite3.Connection, terms: Iterable[str]) -> dict[str, int]:
    return dict(_where_in(db, "SELECT term, df FROM term_df WHERE term", terms))


def add(db: sqlite3.Connection, docs: Sequence[tuple[int, str]]) -> None:
    """Index new chunks (rowid, text as FTS5 holds it), inside the caller's transaction."""
    if not docs:
        return
    lengths, counts = tokenize(db, docs)
    db.executemany(
        "INSERT OR REPLACE INTO doc_terms VALUES (?, ?, ?)",
        [(doc, dl, _pack(counts.get(doc, {}))) for doc, dl in lengths.items()],
    )
    df = Counter(term for terms in counts.values() for term in terms)
    db.executemany(
        "INSERT INTO term_df VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
        df.items(),
    )
    lists = _lists(db, df)
    rows = []
    for doc, terms in counts.items():
        for term, tf in terms.items():
            if term in lists:
                cutoff, _, avgdl = lists[term]
                w = weight(tf, lengths[doc], avgdl)
                if w > cutoff:
                    rows.append((term, w, doc, tf, lengths[doc]))
    db.executemany("INSERT OR REPLACE INTO term_top VALUES (?, ?, ?, ?, ?)", rows)
    grown = Counter(r[0] for r in rows)
    for term, extra in grown.items():
        cutoff, size, avgdl = lists[term]
        size += extra
        if size > LIST_SIZE:  # drop the weakest; the cutoff rises to the best one dropped
            dropped = db.execute(
                "SELECT weight, doc FROM term_top WHERE term = ? ORDER BY weight, doc LIMIT ?",
                (term, size - LIST_SIZE),
            ).fetchall()
            db.executemany(
                "DELETE FROM term_top WHERE term = ? AND weight = ? AND doc = ?",
                [(term, w, d) for w, d in dropped],
            )
            cutoff = max(cutoff, max(w for w, _ in dropped))
            size = LIST_SIZE
        db.execute(
            "UPDATE term_lists SET cutoff = ?, size = ? WHERE term = ?", (cutoff, size, term)
        )
    common = [t for t, n in _df(db, [t for t in df if t not in lists]).items() if n > LIST_MIN_DF]
    build(db, common)


def remove(db: sqlite3.Connection, docs: Sequence[int]) -> None:
    """Forget chunks about to be deleted from FTS5 (their stems as stored at ingest)."""
    if not docs:
        return
    lengths, counts = _terms(db, docs)
    df = Counter(term for terms in counts.values() for term in terms)
    db.executemany("UPDATE term_df SET df = df - ? WHERE term = ?", [(n, t) for t, n in df.items()])
    db.execute("DELETE FROM term_df WHERE df <= 0")
    db.executemany("DELETE FROM doc_terms WHERE doc = ?", [(d,) for d in lengths])
    lists = _lists(db, df)
    gone: Counter[str] = Counter()
    for doc, terms in counts.items():
        for term, tf in terms.items():
            if term in lists:
                w = weight(tf, lengths[doc], lists[term][2])
                cur = db.execute(
                    "DELETE FROM term_top WHERE term = ? AND weight = ? AND doc = ?", (term, w, doc)
                )
                gone[term] += cur.rowcount
    remaining = _df(db, lists)
    rebuild = []
    for term, (_, size, _) in lists.items():
        size -= gone[term]
        if remaining.get(term, 0) <= LIST_MIN_DF // 2:  # no longer common: FTS5 scores it
            db.execute("DELETE FROM term_top WHERE term = ?", (term,))
            db.execute("DELETE FROM term_lists WHERE term = ?", (term,))
        elif size < LIST_SIZE // 2 and size < remaining[term]:
            rebuild.append(term)
        else:
            db.execute("UPDATE term_lists SET size = ? WHERE term = ?", (size, term))
    build(db, rebuild)


def build(db: sqlite3.Connection, terms: Sequence[str]) -> None:
    """(Re)build the lists of these terms from FTS5's postings."""
    if not terms:
        return
    _, avgdl = totals(db)
    for term in terms:
        db.execute("DELETE FROM term_top WHERE term = ?", (term,))
        top = db.execute(
            "SELECT i.doc, i.tf, l.dl, i.tf * 1.0 / (i.tf + ? * (1.0 - ? + ? * l.dl / ?)) AS w "
            "FROM (SELECT doc, count(*) AS tf FROM chunk_inst WHERE term = ? GROUP BY doc) i "
            "JOIN doc_terms l ON l.doc = i.doc ORDER BY w DESC, i.doc LIMIT ?",
            (K1, B, B, avgdl, term, LIST_SIZE + 1),
        ).fetchall()
        kept, rest = top[:LIST_SIZE], top[LIST_SIZE:]
        # the weight in Python, bit for bit what `remove` recomputes to find the row
        db.executemany(
            "INSERT OR REPLACE INTO term_top VALUES (?, ?, ?, ?, ?)",
            [(term, weight(tf, dl, avgdl), doc, tf, dl) for doc, tf, dl, _ in kept],
        )
        cutoff = weight(rest[0][1], rest[0][2], avgdl) if rest else 0.0
        db.execute(
            "INSERT OR REPLACE INTO term_lists VALUES (?, ?, ?, ?)",
            (term, cutoff, len(kept), avgdl),
        )


def upgrade(db: sqlite3.Connection, batch: int = 2_000) -> None:
    """Fill the tables for an index written before they existed: one pass over the texts."""
    for table in ("doc_terms", "term_df", "term_lists", "term_top"):
        db.execute(f"DELETE FROM {table}")
    last = -1
    while True:
        texts = db.execute(
            "SELECT rowid, text FROM chunk_fts WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, batch),
        ).fetchall()
        if not texts:
            break
        last = texts[-1][0]
        db.execute("INSERT INTO temp.tok_fts (tok_fts) VALUES ('delete-all')")
        db.executemany("INSERT INTO temp.tok_fts (rowid, text) VALUES (?, ?)", texts)
        db.execute(  # what add() writes, packed by SQLite: one row per chunk reaches Python
            "INSERT INTO doc_terms SELECT doc, sum(n), "
            "group_concat(CASE n WHEN 1 THEN term ELSE term || ':' || n END, ' ') "
            "FROM (SELECT doc, term, count(*) AS n FROM temp.tok_vocab GROUP BY doc, term) "
            "GROUP BY doc"
        )
    db.execute("INSERT INTO term_df SELECT term, doc FROM chunk_vocab WHERE doc > 0")
    common = [t for (t,) in db.execute("SELECT term FROM term_df WHERE df > ?", (LIST_MIN_DF,))]
    build(db, common)


def _pack(counts: dict[str, int]) -> str:
    """{stem: tf} as "stem stem:2 ..." (FTS5 stems hold no spaces or colons)."""
    return " ".join(t if n == 1 else f"{t}:{n}" for t, n in counts.items())


def _unpack(terms: str) -> dict[str, int]:
    out = {}
    for item in terms.split():
        stem, _, n = item.partition(":")
        out[stem] = int(n) if n else 1
    return out


def _terms(
    db: sqlite3.Connection, docs: Sequence[int]
) -> tuple[dict[int, int], dict[int, dict[str, int]]]:
    """(length per doc, {doc: {stem: tf}}) as stored at ingest."""
    lengths: dict[int, int] = {}
    counts: dict[int, dict[str, int]] = {}
    for doc, dl, terms in _where_in(db, "SELECT doc, dl, terms FROM doc_terms WHERE doc", docs):
        lengths[doc] = dl
        counts[doc] = _unpack(terms)
    return lengths, counts


@dataclass(frozen=True)
class Ranking:
    """Best-first (doc, score); `exact` when no chunk outside it can score higher."""

    hits: list[tuple[int, float]]
    exact: bool


def top(db: sqlite3.Connection, words: dict[str, tuple[str, int]], n: int) -> Ranking:
    """BM25 top n for the query's {stem: (word as typed, chunks holding the stem)}; scores
    positive, higher better."""
    n_docs, avgdl = totals(db)
    df = {s: count for s, (_, count) in words.items()}
    stems = {s: w for s, (w, count) in words.items() if count > 0}
    if not stems or n_docs == 0:
        return Ranking([], True)
    lists = _lists(db, stems)
    rare = [s for s in stems if s not in lists and df[s] <= RARE_BUDGET]
    complete = len(rare) + len(lists) == len(stems)
    weights = {s: idf(n_docs, df[s]) for s in lists}

    base: dict[int, float] = {}  # exact score of the rare terms (FTS5 scores them all)
    if rare:
        sql = "SELECT rowid, bm25(chunk_fts) AS s FROM chunk_fts WHERE chunk_fts MATCH ?"
        match = " OR ".join(f'"{stems[s]}"' for s in rare)
        if not lists:  # FTS5 alone is exact and cheap: every term is rare
            rows = db.execute(sql + " ORDER BY s, rowid LIMIT ?", (match, n)).fetchall()
            return Ranking([(doc, -score) for doc, score in rows], complete)
        base = {doc: -score for doc, score in db.execute(sql, (match,))}
    if not lists:
        return Ranking([], complete)

    def part(stem: str, tf: int, dl: int) -> float:
        return weights[stem] * tf * (K1 + 1) / (tf + K1 * (1.0 - B + B * dl / avgdl))

    seen: dict[int, dict[str, float]] = {}  # doc -> list term -> exact contribution
    exact: dict[int, float] = {}  # fully scored docs
    best_n: list[float] = []  # min-heap of the n best exact scores

    def scored(doc: int, score: float) -> None:
        exact[doc] = score
        if len(best_n) < n:
            heapq.heappush(best_n, score)
        elif score > best_n[0]:
            heapq.heapreplace(best_n, score)

    def nth() -> float:
        return best_n[0] if len(best_n) == n else -math.inf

    needles = [(s, f" {s} ", f" {s}:") for s in lists]  # items of a doc_terms string
    read = dict.fromkeys(lists, 0)
    depth = FIRST_DEPTH
    while True:
        bound = {}
        for stem, (cutoff, size, ref) in lists.items():
            last = cutoff
            if read[stem] < size:
                rows = db.execute(
                    "SELECT weight, doc, tf, dl FROM term_top WHERE term = ? "
                    "ORDER BY weight DESC, doc DESC LIMIT ? OFFSET ?",
                    (stem, depth - read[stem], read[stem]),
                ).fetchall()
                for _, doc, tf, dl in rows:
                    seen.setdefault(doc, {})[stem] = part(stem, tf, dl)
                read[stem] += len(rows)
                if read[stem] < size and rows:
                    last = rows[-1][0]  # nothing unread in this list weighs more
            bound[stem] = weights[stem] * (K1 + 1) * last * _drift(ref, avgdl)
        spent = all(read[s] >= size for s, (_, size, _) in lists.items())
        outside = sum(bound.values())  # the most a chunk found in no list can score
        upper: dict[int, float] = {}  # the most each candidate can score
        for doc, got in seen.items():
            if doc in exact:
                continue
            known = base.get(doc, 0.0) + sum(got.values())
            if len(got) == len(lists):  # found in every list: its score is known already
                scored(doc, known)
            else:
                upper[doc] = known + sum(bound[s] for s in lists if s not in got)
        upper.update((d, v + outside) for d, v in base.items() if d not in seen and d not in exact)
        order = sorted(upper, key=upper.__getitem__, reverse=True)
        at, step = 0, n + 16  # small steps: each one may raise the n-th score and stop it
        while at < len(order) and len(exact) < RESCORE_LIMIT and upper[order[at]] > nth():
            for doc, score in _rescore(db, order[at : at + step], needles, base, part):
                scored(doc, score)
            at += step
        rest = upper[order[at]] if at < len(order) else 0.0
        if nth() >= max(outside, rest) - 1e-9:
            return Ranking(_best(exact, n), complete)
        if len(exact) >= RESCORE_LIMIT or spent:
            # every candidate is scored, yet a chunk outside the lists may reach `outside`
            proven = at >= len(order) and (outside == 0.0 or nth() >= outside - 1e-9)
            return Ranking(_best(exact, n), complete and proven)
        depth *= 4


def _best(exact: dict[int, float], n: int) -> list[tuple[int, float]]:
    """The n best scored docs, best first, ties by doc as FTS5's ORDER BY s, rowid does."""
    return sorted(exact.items(), key=lambda h: (-h[1], h[0]))[:n]


def _drift(ref: float, avgdl: float) -> float:
    """How much more a weight computed with avgdl `ref` can be worth at today's avgdl."""
    # tf/(tf + k1(1-b+b dl/a)) grows as a grows; bound the ratio at today's over the list's
    return max(1.0, avgdl / ref) if ref > 0 else 1.0


def _rescore(
    db: sqlite3.Connection,
    docs: Sequence[int],
    needles: list[tuple[str, str, str]],
    base: dict[int, float],
    part: Callable[[str, int, int], float],
) -> list[tuple[int, float]]:
    """Exact scores of these docs, from the stems stored for each at ingest."""
    marks = ",".join("?" * len(docs))
    out = []
    for doc, dl, terms in db.execute(
        f"SELECT doc, dl, terms FROM doc_terms WHERE doc IN ({marks})", list(docs)
    ):
        score = base.get(doc, 0.0)
        padded = f" {terms} "
        for stem, once, counted in needles:
            if once in padded:
                score += part(stem, 1, dl)
            else:
                at = padded.find(counted)
                if at >= 0:
                    at += len(counted)
                    score += part(stem, int(padded[at : padded.index(" ", at)]), dl)
        out.append((doc, score))
    return out
