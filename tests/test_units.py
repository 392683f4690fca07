"""Unit tests of the parts that had none: rank fusion, wire-copy collapsing and filters
(`qa.retrieval`), citation markers (`qa.grounding.markers`), the Index paths (`qa.index`).
Pure functions and small objects: no model, no Chroma, milliseconds each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.grounding import markers
from qa.index import Index, keywords_path
from qa.index.vectors import StoredChunk, date_ordinal, where_clause
from qa.retrieval.hybrid import RRF_K, HybridRetriever
from qa.settings import Settings, StoreSettings
from qa.types import Chunk


def _row(cid: str, article: str, vector: list[float], text: str = "t") -> StoredChunk:
    chunk = Chunk(cid, article, 0, text, 0, len(text), f"title {article}", "Outlet", "", "")
    return StoredChunk(chunk, np.asarray(vector, dtype=np.float32))


# --- retrieval: reciprocal-rank fusion ---------------------------------------------------


def test_fusion_ranks_a_chunk_both_searches_found_above_one_only_one_found_first():
    dense = ["a", "b", "c"]
    keyword = ["d", "b", "a"]
    fused = HybridRetriever._fuse(dense, keyword)
    # a: 1st and 3rd (1/61 + 1/63); b: 2nd in both (2/62); d and c: once each, 1st and 3rd
    assert 1 / (RRF_K + 1) + 1 / (RRF_K + 3) > 2 / (RRF_K + 2)
    assert fused == ["a", "b", "d", "c"]


def test_fusion_of_one_ranking_keeps_its_order_and_of_none_is_empty():
    assert HybridRetriever._fuse(["x", "y", "z"]) == ["x", "y", "z"]
    assert HybridRetriever._fuse([], []) == []


# --- retrieval: wire copies collapsed ---------------------------------------------------


def _collapse(rows: list[StoredChunk], k: int) -> list:
    retriever = HybridRetriever.__new__(HybridRetriever)
    retriever.duplicate_similarity = 0.95
    similarity = {r.chunk.id: 0.5 for r in rows}
    return retriever._collapse(rows, similarity, k)


def test_a_wire_copy_in_another_outlet_becomes_one_passage_citing_both():
    rows = [
        _row("a::0", "a", [1.0, 0.0]),
        _row("b::0", "b", [0.999, 0.01]),  # the same text in another article
        _row("c::0", "c", [0.0, 1.0]),
    ]
    passages = _collapse(rows, k=5)
    assert [p.article_id for p in passages] == ["a", "c"]
    assert [ref.article_id for ref in passages[0].also_in] == ["b"]
    assert [p.n for p in passages] == [1, 2]


def test_similar_chunks_of_one_article_stay_apart_and_k_caps_the_passages():
    rows = [_row(f"a::{i}", "a", [1.0, 0.001 * i]) for i in range(4)]
    passages = _collapse(rows, k=3)
    assert [p.chunk_id for p in passages] == ["a::0", "a::1", "a::2"]
    assert all(not p.also_in for p in passages)


# --- index: filters and paths ------------------------------------------------------------


def test_filters_become_one_chroma_where_and_no_filter_is_none():
    assert where_clause() is None
    assert where_clause(sources=("AP",)) == {"source": {"$in": ["AP"]}}
    both = where_clause(sources=("AP", "BBC"), date_from="2024-01-01", date_to="2024-12-31")
    assert both == {
        "$and": [
            {"source": {"$in": ["AP", "BBC"]}},
            {"published_ts": {"$gte": date_ordinal("2024-01-01")}},
            {"published_ts": {"$lte": date_ordinal("2024-12-31")}},
        ]
    }
    # an upper bound alone must not let undated articles (-1) through
    assert {"published_ts": {"$gte": 0}} in where_clause(date_to="2024-12-31")["$and"]
    assert date_ordinal("not a date") == -1


def test_the_index_owns_its_paths_one_keyword_file_per_chroma_collection(tmp_path):
    embedded = Settings.of(index=tmp_path).store
    assert keywords_path(embedded) == tmp_path / "state.sqlite3"
    served = StoreSettings(tmp_path, chroma_host="10.0.0.5", chroma_port=9000, collection="n")
    other = StoreSettings(tmp_path, chroma_host="10.0.0.5", chroma_port=9000, collection="m")
    assert keywords_path(served) != keywords_path(other)
    assert keywords_path(served).parent == tmp_path
    index = Index(embedded)
    state = index.keywords  # opens the keyword index alone, without touching Chroma
    assert Path(index.keywords_path).exists() and index._store is None
    assert state.chunk_count() == 0
    index.close()


# --- grounding: citation markers ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, found",
    [
        ("A [1].", [[1]]),
        ("A [1][2].", [[1], [2]]),
        ("A [2, 3] and B [4; 5].", [[2, 3], [4, 5]]),
        ("In [2024] the [12345] ids.", [[2024]]),  # 5 digits is no citation
        ("No markers.", []),
    ],
)
def test_markers_are_found_with_their_numbers(text, found):
    assert [markers.numbers(m.group(1)) for m in markers.MARKER.finditer(text)] == found


def test_markers_strip_and_write_back_around_the_full_stop():
    assert markers.strip_markers("Trade rose [1] sharply [2, 3].") == "Trade rose sharply ."
    assert markers.claim("Trade rose [1] sharply [2, 3].") == "Trade rose sharply."
    assert markers.with_markers("Trade rose.", [1, 2]) == "Trade rose [1][2]."
    assert markers.with_markers('He said "no"', [3]) == 'He said "no" [3]'
    assert markers.with_markers("Trade rose.", []) == "Trade rose."
    # what is written back is found again: one rule both ways
    again = markers.MARKER.findall(markers.with_markers("X.", [4, 7]))
    assert again == ["4", "7"]


# --- sentences: hard-wrapped text -----------------------------------------------------


def test_a_hard_wrapped_paragraph_splits_into_whole_sentences():
    from qa.text.sentences import hard_wrapped, split_sentences

    text = (
        "Reservoir survey finished\n\n"
        "Hydrologists from the regional water board finished the first full map of the\n"
        "aquifer on Thursday. The survey found that the reservoir holds about 40 percent\n"
        "less water than engineers assumed in 1990, because farms pumped it faster than\n"
        "rain refilled it. The board will cap new wells from next spring.\n"
    )
    assert hard_wrapped(text)
    sentences = [" ".join(s.split()) for s in split_sentences(text)]
    assert sentences == [
        "Reservoir survey finished",
        "Hydrologists from the regional water board finished the first full map of the "
        "aquifer on Thursday.",
        "The survey found that the reservoir holds about 40 percent less water than "
        "engineers assumed in 1990, because farms pumped it faster than rain refilled it.",
        "The board will cap new wells from next spring.",
    ]


def test_one_paragraph_per_line_and_lists_keep_their_line_breaks():
    from qa.text.sentences import hard_wrapped, split_sentences

    lines = "Putin met Zhang on Wednesday.\nThe two discussed trade.\nNo date was set.\n"
    assert not hard_wrapped(lines)
    assert len(split_sentences(lines)) == 3
    listed = "Road closures this weekend\n- Main Street\n- Harbour Road\n- Mill Lane\n"
    assert not hard_wrapped(listed)
    assert split_sentences(listed)[1:] == ["- Main Street", "- Harbour Road", "- Mill Lane"]
