"""Server mode shared by several `qa` instances: vectors in a real `chroma run` server, the
manifest and keyword index in a real PostgreSQL (--keywords-url). Two instances, each its own
process with its own (empty) index folder: what one ingests or removes, the other finds or
stops finding at once, by word and by meaning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qa.procs import postgres_server

pytestmark = pytest.mark.server
BIN = Path(sys.executable).parent

ARTICLE = """Hydrologists map the Quillfeather aquifer beneath the Marrow plains

Hydrologists from the regional water board finished the first full map of the Quillfeather
aquifer on Thursday. The survey found that the underground reservoir holds about 40 percent
less water than engineers assumed in 1990, because farms pumped it faster than rain refilled
it. The board will cap new irrigation wells from next spring.
"""
OTHER = """Library extends its opening hours

The town library will open until nine in the evening on weekdays from April, after readers
asked for more time to study after work. The council approved the extra staff costs.
"""
# what instance B runs, in a process of its own: keyword hits and vector hits, as JSON
PROBE = textwrap.dedent(
    """
    import json, sys
    from qa.index import Index
    from qa.index.embedding import Encoder
    from qa.settings import Settings
    settings = Settings.load()
    encoder = Encoder()
    index = Index(settings.store, encoder.identity)
    words = [cid for cid, _ in index.keywords.search(sys.argv[1], 5)]
    meaning = [c.chunk.id for c in index.store.query(encoder.encode([sys.argv[2]])[0], 3, None)]
    print(json.dumps({"words": words, "meaning": meaning,
                      "articles": sorted(index.keywords.articles())}))
    """
)


@pytest.fixture(scope="module")
def keywords_url():
    with postgres_server() as url:
        yield url


def _env(chroma_server, keywords_url: str, index: Path, collection: str) -> dict[str, str]:
    host, port = chroma_server
    return {
        **os.environ,
        "QA_CHROMA_HOST": host,
        "QA_CHROMA_PORT": str(port),
        "QA_KEYWORDS_URL": keywords_url,
        "QA_INDEX": str(index),
        "QA_COLLECTION": collection,
    }


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_two_instances_share_articles_words_and_vectors(chroma_server, keywords_url, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "aquifer.txt").write_text(ARTICLE, "utf-8")
    (corpus / "library.txt").write_text(OTHER, "utf-8")
    a = _env(chroma_server, keywords_url, tmp_path / "index-a", "shared")
    b = _env(chroma_server, keywords_url, tmp_path / "index-b", "shared")

    ingest = _run([str(BIN / "qa"), "ingest", str(corpus)], a, tmp_path)
    assert ingest.returncode == 0, ingest.stderr[-2000:]

    probe = [sys.executable, "-c", PROBE, "Quillfeather", "how much water is under the plains"]
    seen = _run(probe, b, tmp_path)
    assert seen.returncode == 0, seen.stderr[-2000:]
    hits = json.loads(seen.stdout)
    assert hits["articles"] == ["aquifer", "library"]
    assert hits["words"] and all(cid.startswith("aquifer") for cid in hits["words"])
    assert hits["meaning"][0].startswith("aquifer")

    # instance B answers from what A ingested, with a citation of it
    asked = _run(
        [
            str(BIN / "qa"),
            "ask",
            "How much less water does the Quillfeather aquifer hold?",
            "--json",
        ],
        b,
        tmp_path,
    )
    assert asked.returncode == 0, asked.stderr[-2000:]
    answer = json.loads(asked.stdout)
    assert "40 percent" in answer["text"] and not answer["refused"]
    # B keeps nothing of the index on local disk: no SQLite keyword index, no manifest
    assert not list((tmp_path / "index-b").glob("*.sqlite3"))

    # a removal through A is gone for B at once, by word and by meaning
    (corpus / "aquifer.txt").unlink()
    pruned = _run([str(BIN / "qa"), "ingest", str(corpus), "--prune"], a, tmp_path)
    assert pruned.returncode == 0, pruned.stderr[-2000:]
    after = json.loads(_run(probe, b, tmp_path).stdout)
    assert after["articles"] == ["library"] and after["words"] == []
    assert not any(cid.startswith("aquifer") for cid in after["meaning"])


def test_an_unreachable_keyword_database_is_one_clear_line(run_qa, tmp_path):
    (tmp_path / "a.txt").write_text(OTHER, "utf-8")
    proc = run_qa(
        "ingest",
        str(tmp_path / "a.txt"),
        "--index",
        str(tmp_path / "index"),
        "--keywords-url",
        "postgresql://qa:secret@127.0.0.1:9/none",
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "keyword index" in lines[0] and "cannot be reached" in lines[0]
    assert "secret" not in proc.stderr  # the password is never printed


def test_shared_keyword_search_gives_the_embedded_index_bm25(keywords_url, tmp_path, monkeypatch):
    """The same articles in the embedded SQLite index and the PostgreSQL one: every score the
    shared search returns is the embedded index's exact BM25 of that chunk, and when the
    shared search says it read every posting, its top 20 is the exact top 20 (ties aside).
    (Two known differences are left out of the queries: a word whose stem is a stopword's,
    "being" -> "be", has no postings in the shared index; FTS5 counts a stem once per query
    word that has it, the shared index once.)
    Each word's list is cut at 40 postings here (1,000 in production), so the capped path,
    best postings first and then a full rescoring, is exercised too."""
    import random

    from qa.index import pg_keywords
    from qa.index.keywords import State
    from tests.test_bm25 import _article, _questions, _sentences, _ties_allowed_equal

    monkeypatch.setattr(pg_keywords.PgState, "postings_budget", 40)
    rng = random.Random(9)
    sentences = _sentences()
    articles = [_article(rng, i, sentences) for i in range(400)]
    embedded = State(tmp_path / "s.sqlite3")
    shared = pg_keywords.PgState(keywords_url, "qa_rank_check")
    for state in (embedded, shared):
        state.mark_pending([(a, "t", "Outlet", "2020-01-01", "") for a, _, _ in articles])
        state.commit_articles(articles)
        state.remove_articles([f"a{i}" for i in range(50)])  # removals keep the stats right
        state.optimize()
    capped = exact = 0
    overlap = []
    stop = shared._tokens.stop
    for asked in _questions(rng, sentences, 60):
        # words whose stem is a stopword's ("being" -> "be") have no postings in the shared
        # index, which scores without them; the embedded index scores them too
        # and FTS5 counts a stem twice when two words share it ("attempting ... attempts"):
        # each stem once here
        kept: dict[str, str] = {}
        for word in asked.split():
            stems = shared._tokens.stems([word])
            if stems and not set(stems) & stop:
                kept.setdefault(stems[0], word)
        query = " ".join(kept.values())
        got = shared.search(query, 20)
        truth = embedded.exact_scores(query, [cid for cid, _ in got])
        for cid, score in got:
            assert score == pytest.approx(truth[cid], rel=1e-6), (query, cid)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        if shared.last_exact:
            exact += 1
            assert _ties_allowed_equal(embedded, query, got, 20), query
        else:
            capped += 1
            best = {cid for cid, _ in embedded.search_exact(query, 20)}
            overlap.append(len(best & {cid for cid, _ in got}) / max(1, len(best)))
    assert exact and capped  # both paths ran
    assert sum(overlap) / len(overlap) >= 0.8, overlap
    shared.close()
    embedded.close()


def test_an_instance_opens_the_shared_index_while_another_is_writing(keywords_url):
    """A second instance starting up (a `qa chat` beside a running ingest) neither waits
    for the writer nor deadlocks it: opening an existing index takes no table locks."""
    import psycopg

    from qa.index import pg_keywords

    pg_keywords.PgState(keywords_url, "qa_open_busy").close()  # the index exists
    writer = psycopg.connect(keywords_url)
    try:
        with writer.cursor() as cur:  # an ingest's open transaction, holding its row locks
            cur.execute("INSERT INTO qa_open_busy.meta VALUES ('busy', 'yes')")
            cur.execute("SELECT docs FROM qa_open_busy.stats FOR UPDATE")
            cur.execute("INSERT INTO qa_open_busy.terms VALUES ('quill', 1)")
            cur.execute(
                "INSERT INTO qa_open_busy.chunks (chunk_id, article_id, source, published_ts, dl)"
                " VALUES ('c1', 'a1', 'Outlet', 0, 3)"
            )
            cur.execute("INSERT INTO qa_open_busy.postings VALUES ('quill', 1, 1, 3, 0.5)")
            other = pg_keywords.PgState(keywords_url, "qa_open_busy", lock_timeout=2.0)
            assert other.chunk_count() == 0 and other.get_meta("busy") is None
            other.close()
        writer.commit()
    finally:
        writer.close()


def test_a_chunk_with_the_asked_words_side_by_side_is_found_past_the_cut(keywords_url, monkeypatch):
    """Capped, each word's list holds its best postings only: short chunks with one of the
    words. The chunk that has both words together (the best BM25 score of all) is in neither
    list; the index of neighbouring word pairs finds it."""
    from qa.index import pg_keywords
    from qa.types import Chunk

    monkeypatch.setattr(pg_keywords.PgState, "postings_budget", 10)
    texts = [f"The harbour opened today in town {i}." for i in range(50)]
    texts += [f"A crane arrived today in village {i}." for i in range(50)]
    texts += [f"Council notes on roads and schools, item {i} of the list." for i in range(150)]
    texts.append(
        "Engineers tested the harbour crane on Monday. Later the harbour crane lifted a "
        "boat, watched by a few people from the quay."
    )
    done = []
    for i, text in enumerate(texts):
        chunk = Chunk(f"c{i}", f"a{i}", 0, text, 0, len(text), "", "Outlet", "2020-01-01", "")
        done.append((f"a{i}", "h", [chunk]))
    shared = pg_keywords.PgState(keywords_url, "qa_pairs_check")
    shared.commit_articles(done)
    target = f"c{len(texts) - 1}"
    assert shared.search_exact("harbour crane", 20)[0][0] == target  # the best by BM25
    got = shared.search("harbour crane", 20)
    assert not shared.last_exact  # both words are past the cut: the capped path ran
    assert got[0][0] == target
    monkeypatch.setattr(pg_keywords.PgState, "read_pairs", False)
    assert target not in {cid for cid, _ in shared.search("harbour crane", 20)}  # words alone
    shared.close()
