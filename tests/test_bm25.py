"""The BM25 impact lists (qa/index/bm25.py): exact rankings, kept right through re-ingest and
removal, and built for an index written before they existed.

The lists start at 2,000 chunks per word in production; here they start at 40 (and hold 200
postings), so that a corpus of a few thousand real ABC sentences exercises every path.
"""

from __future__ import annotations

import random
import sqlite3

import pytest

from qa.bench.corpora import gensim_lee_path
from qa.index import bm25
from qa.index.keywords import State
from qa.text.sentences import sentence_spans
from qa.types import Chunk


@pytest.fixture
def small_lists(monkeypatch):
    monkeypatch.setattr(bm25, "LIST_MIN_DF", 40)
    monkeypatch.setattr(bm25, "LIST_SIZE", 200)


def _sentences() -> list[str]:
    out = []
    for line in gensim_lee_path().read_text("utf-8", errors="replace").splitlines():
        text = line.strip()
        out += [text[a:b] for a, b in sentence_spans(text) if 30 <= b - a <= 400]
    return out


def _article(rng: random.Random, i: int, sentences: list[str], tag: str = "") -> tuple:
    chunks = [
        Chunk(
            f"a{i}::{j}{tag}",
            f"a{i}",
            j,
            " ".join(rng.sample(sentences, rng.randint(1, 3))),
            0,
            1,
            f"Title {i}",
            "Outlet",
            "2020-01-01",
            "",
        )
        for j in range(rng.randint(1, 4))
    ]
    return f"a{i}", f"hash{i}{tag}", chunks


def _build(path, rng, sentences, articles=900):
    state = State(path)
    arts = [_article(rng, i, sentences) for i in range(articles)]
    for at in range(0, len(arts), 100):  # ingest batches, as `qa ingest` commits them
        batch = arts[at : at + 100]
        state.mark_pending([(a, "t", "Outlet", "2020-01-01", "") for a, _, _ in batch])
        state.commit_articles(batch)
    # edits: 100 articles change (their chunks are replaced), 150 go away
    state.commit_articles([_article(rng, i, sentences, "v2") for i in range(100)])
    state.remove_articles([f"a{i}" for i in range(300, 450)])
    return state


def _questions(rng, sentences, n=120):
    out = []
    for sentence in rng.sample(sentences, n):
        words = sentence.rstrip(".").split()
        start = rng.randrange(max(1, len(words) - 4))
        out.append(" ".join(words[start : start + rng.randint(2, 9)]))
    return out


def _ties_allowed_equal(state, query, got, n):
    """Every returned chunk scores at least the exact n-th score, and as many come back."""
    ref = state.search_exact(query, n)
    nth = ref[-1][1] if len(ref) == n else 0.0
    return len(got) == len(ref) and all(score >= nth - 1e-9 for _, score in got)


def test_search_is_exact_bm25_and_says_so(tmp_path, small_lists):
    rng = random.Random(5)
    sentences = _sentences()
    state = _build(tmp_path / "s.sqlite3", rng, sentences)
    lists = state._db.execute("SELECT count(*) FROM term_lists").fetchone()[0]
    assert lists > 100  # the common words do go through the lists
    exact_flags = 0
    for query in _questions(rng, sentences):
        got = state.search(query, 20)
        # the scores are FTS5's own BM25 for those chunks, not an approximation
        reference = state.exact_scores(query, [cid for cid, _ in got])
        for cid, score in got:
            assert score == pytest.approx(reference[cid], rel=1e-9, abs=1e-12), (query, cid)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        if state.last_exact:
            exact_flags += 1
            assert _ties_allowed_equal(state, query, got, 20), query
    assert exact_flags >= 100  # of 120; the rest are best-effort, and said to be
    state.close()


def test_lists_keep_their_invariant_through_reingest_and_removal(tmp_path, small_lists):
    """Each list holds real postings with their true tf, and no posting left out of it
    weighs more than the list's cutoff: what the early stop relies on."""
    rng = random.Random(8)
    state = _build(tmp_path / "s.sqlite3", rng, _sentences())
    db = state._db
    db.execute("CREATE VIRTUAL TABLE temp.inst USING fts5vocab(main, chunk_fts, 'instance')")
    sizes = dict(db.execute("SELECT id, sz FROM chunk_fts_docsize"))
    lengths = dict(db.execute("SELECT doc, dl FROM doc_terms"))
    assert lengths == {doc: bm25._varint(sz, 0)[0] for doc, sz in sizes.items()}
    df = dict(db.execute("SELECT term, df FROM term_df"))
    assert df == dict(db.execute("SELECT term, doc FROM chunk_vocab WHERE doc > 0"))
    lists = db.execute("SELECT term, cutoff, size, avgdl FROM term_lists").fetchall()
    assert lists
    for term, cutoff, size, avgdl in lists:
        assert df[term] > bm25.LIST_MIN_DF // 2
        postings = dict(
            db.execute("SELECT doc, count(*) FROM temp.inst WHERE term = ? GROUP BY doc", (term,))
        )
        rows = db.execute("SELECT weight, doc, tf, dl FROM term_top WHERE term = ?", (term,))
        kept = {doc: (w, tf, dl) for w, doc, tf, dl in rows}
        assert len(kept) == size <= bm25.LIST_SIZE
        for doc, (w, tf, dl) in kept.items():
            assert postings[doc] == tf and lengths[doc] == dl
            assert w == bm25.weight(tf, dl, avgdl)
        outside = [
            bm25.weight(tf, lengths[d], avgdl) for d, tf in postings.items() if d not in kept
        ]
        assert max(outside, default=0.0) <= cutoff + 1e-12, term
    state.close()


def test_an_index_from_before_the_lists_is_upgraded_once_on_open(tmp_path, small_lists):
    rng = random.Random(13)
    sentences = _sentences()
    path = tmp_path / "s.sqlite3"
    state = _build(path, rng, sentences)
    questions = _questions(rng, sentences, 40)
    before = [state.search(q, 10) for q in questions]
    tables = {
        t: sorted(state._db.execute(f"SELECT * FROM {t}").fetchall())
        for t in ("doc_terms", "term_df")
    }
    state.close()
    old = sqlite3.connect(path)  # what an index written by an earlier version holds
    for table in ("doc_terms", "term_df", "term_lists", "term_top"):
        old.execute(f"DROP TABLE {table}")
    old.execute("DELETE FROM meta WHERE key = 'bm25'")
    old.commit()
    old.close()
    state = State(path)
    assert state.get_meta("bm25") == bm25.VERSION
    for table, rows in tables.items():
        assert sorted(state._db.execute(f"SELECT * FROM {table}").fetchall()) == rows
    for query, was in zip(questions, before, strict=True):
        now = state.search(query, 10)
        assert [s for _, s in now] == pytest.approx([s for _, s in was])
    state.close()
