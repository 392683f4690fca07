"""`qa bench --quick`: every figure is produced and well-formed (no timed assertions), and the
keyword index answers from what ingest built, pruned or not."""

from __future__ import annotations

import json
import math

import pytest

from qa.index.keywords import State

SECTIONS = ("ingest", "answer", "scale", "server", "memory")
PATHS = ("bare_chroma", "dense", "bm25", "hybrid")


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.server
def test_quick_bench_writes_every_figure_table_and_plot(run_qa, tmp_path):
    out = tmp_path / "bench"
    done = run_qa("bench", "--quick", "--out", str(out), timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert set(SECTIONS) <= set(results)
    assert results["command"].startswith("qa bench --quick")

    ingest = results["ingest"]
    for key in (
        "ingest_chunks_per_s",
        "raw_encoder_chunks_per_s",
        "llama_index_chunks_per_s",
        "ratio_vs_raw_encoder",
        "ratio_vs_llama_index",
        "reingest_speedup",
    ):
        assert positive(ingest[key]), (key, ingest[key])
    # the ratio is the two rates divided, not a separate guess
    ratio = ingest["ingest_chunks_per_s"] / ingest["raw_encoder_chunks_per_s"]
    assert ingest["ratio_vs_raw_encoder"] == pytest.approx(ratio, abs=0.01)

    extractive = results["answer"]["extractive"]
    assert positive(extractive["total_p50"])
    assert 0 <= extractive["first_token_p50"] <= extractive["total_p50"]

    # ours and the CitationQueryEngine on the same questions, cold, refusals counted apart
    fair = results["answer"]["fair_vs_citation_engine"]
    assert "reset before every measured answer" in fair["method"]
    for side in ("ours", "citation_engine"):
        s = fair[side]
        assert s["questions"] == 3 and s["answered"] + s["refused"] == 3, s
        assert s["answerable"] == 2 and s["unanswerable"] == 1
        assert 0 <= s["answerable_correct"] <= 2 and 0 <= s["unanswerable_refused"] <= 1
        if s["answered"]:
            assert 0 < s["answered_first_token_p50"] <= s["answered_total_p50"]
    assert (
        "## Answers: ours vs a plain CitationQueryEngine, the fair way"
        in (out / "results.md").read_text()
    )

    (size, scale), *_ = results["scale"]["sizes"].items()
    assert size == "1000"
    assert 800 <= scale["chunks"] <= 1200, scale["chunks"]
    assert positive(scale["build_chunks_per_s"]) and positive(scale["build_peak_rss_mb"])
    assert positive(scale["index_mb_per_1k_chunks"])
    server = results["server"]["sizes"]["1000"]
    for latency in (scale["embedded"], server):
        assert latency["chunks"] == scale["chunks"]  # the server serves the same index
        assert latency["queries"] == 80
        # 1k chunks: no word is common enough for an impact list, FTS5 ranks it all exactly
        assert latency["bm25_overlap_vs_exact"] == 1.0
        versus = latency["bm25_vs_exhaustive"]
        assert versus["top_n_correct"] == versus["proven_exact"] == 1.0
        assert 0 < versus["exhaustive_p50_ms"] <= versus["exhaustive_p95_ms"]
        for path in PATHS:
            figures = latency[path]
            assert 0 < figures["p50_ms"] <= figures["p95_ms"], (path, figures)
        bare = latency["bare_chroma"]["p95_ms"]
        expected = latency["hybrid"]["p95_ms"] / bare
        assert latency["hybrid_p95_vs_bare"] == pytest.approx(expected, rel=0.02)
    server_ingest = results["server"]["ingest"]
    assert server_ingest["chunks"] == scale["chunks"]
    assert positive(server_ingest["server_vs_embedded"])
    # a fresh server-mode build of the same corpus: the same chunks, both memories read
    memory_1k = results["server"]["ingest_memory"]["1000"]
    assert memory_1k["chunks"] == scale["chunks"]
    assert positive(memory_1k["ingest_peak_rss_mb"]) and positive(memory_1k["server_rss_mb"])

    memory = results["memory"]
    assert positive(memory["ingest_peak_rss_mb"])
    for name in ("chat_extractive", "chat_llamacpp"):
        assert positive(memory[name]["rss_mb"]) and positive(memory[name]["startup_s"])
    # a loaded model, however small, costs memory the extractive backend does not
    assert memory["chat_llamacpp"]["rss_mb"] > memory["chat_extractive"]["rss_mb"]

    for plot in ("latency.png", "ingest.png", "memory.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", plot
    report = (out / "results.md").read_text()
    assert "| hybrid p95 vs bare Chroma, 1,000 chunks, embedded |" in report
    assert "![latency.png](latency.png)" in report


def test_bench_rejects_bad_sizes_in_one_line(run_qa, tmp_path):
    done = run_qa("bench", "--sizes", "ten", "--out", str(tmp_path / "x"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "chunk counts" in done.stderr
    assert not (tmp_path / "x").exists()


def _state_with(tmp_path, texts):
    from qa.corpus.chunking import Chunker
    from qa.types import Article

    state = State(tmp_path / "state.sqlite3")
    chunker = Chunker(count_tokens=lambda ts: [len(t.split()) for t in ts])
    articles = [
        Article(f"a{i}", f"t{i}", "Outlet", "2024-01-01", "", t) for i, t in enumerate(texts)
    ]
    state.mark_pending([(a.id, a.title, a.source, a.published, "") for a in articles])
    state.commit_articles([(a.id, "hash", chunker.chunk(a)) for a in articles])
    return state


def test_filtered_bm25_prunes_common_terms_past_the_budget_and_keeps_the_rare_one(tmp_path):
    texts = [f"The council met on day {i} to discuss the harbour budget." for i in range(60)]
    texts.append("The council approved the lighthouse budget after a long debate.")
    state = _state_with(tmp_path, texts)
    query = "council lighthouse budget"
    exact = state.search(query, 5)
    assert exact[0][0].startswith("a60::")  # the only chunk with the rare word ranks first
    assert [c for c, _ in exact] == [c for c, _ in state.search_exact(query, 5)]
    # below the budget nothing is pruned: the filtered and unfiltered paths agree
    filtered = state.search(query, 5, sources=("Outlet",), date_from="2000-01-01")
    assert [c for c, _ in filtered] == [c for c, _ in exact]
    assert [s for _, s in filtered] == pytest.approx([s for _, s in exact])
    # past it, a filtered search keeps only the rarest words; unfiltered stays exact
    state.postings_budget = 10
    assert state._selective(["council", "lighthouse", "budget"]) == ["lighthouse"]
    pruned = state.search(query, 5, sources=("Outlet",))
    assert [cid for cid, _ in pruned] == [exact[0][0]]
    assert state.search("council budget", 5, sources=("Outlet",)) == []
    assert [c for c, _ in state.search(query, 5)] == [c for c, _ in exact]
    state.close()


def test_a_reader_sees_articles_another_process_ingests_after_its_searches(tmp_path):
    """The chat page keeps its keyword index open while `qa ingest` adds articles."""
    reader = _state_with(tmp_path, ["The council met to discuss the harbour budget."])
    assert reader.search("harbour", 5)
    from qa.corpus.chunking import Chunker
    from qa.types import Article

    writer = State(tmp_path / "state.sqlite3")
    article = Article("late", "t", "Outlet", "2024-02-01", "", "A lighthouse keeper retired.")
    writer.mark_pending([(article.id, "t", "Outlet", "2024-02-01", "")])
    chunks = Chunker(count_tokens=lambda ts: [len(t.split()) for t in ts]).chunk(article)
    writer.commit_articles([(article.id, "hash", chunks)])
    writer.close()
    assert [cid for cid, _ in reader.search("lighthouse keeper", 5)] == ["late::0"]
    reader.close()
