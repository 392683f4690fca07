"""Issue 19, item 1: does the open-source Chroma server we pin (chromadb 1.5.x, `chroma run`)
index sparse BM25 vectors and serve hybrid `Search` with rank fusion? Found out against a
real server: it does not (BENCHMARKS.md). When an upgrade makes it work, this test fails, and
the keyword index can move into Chroma."""

from __future__ import annotations

import chromadb
import pytest
from chromadb import K, Knn, Rrf, Schema, Search, SparseVectorIndexConfig
from chromadb.errors import ChromaError

pytestmark = pytest.mark.server


def _client(chroma_server):
    host, port = chroma_server
    return chromadb.HttpClient(host=host, port=port)


def test_local_server_refuses_a_sparse_bm25_index(chroma_server):
    schema = Schema()
    schema.create_index(config=SparseVectorIndexConfig(bm25=True), key="bm25_sparse")
    with pytest.raises(ChromaError, match="Sparse vector indexing is not enabled in local"):
        _client(chroma_server).create_collection(
            "sparse-probe", schema=schema, embedding_function=None
        )


def test_local_server_has_no_search_api_even_for_dense_ranks(chroma_server):
    collection = _client(chroma_server).get_or_create_collection(
        "search-probe", embedding_function=None
    )
    collection.upsert(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]],
        documents=["harbour ferry returns", "budget adopted", "ferry budget"],
        metadatas=[{"outlet": "x"}, {"outlet": "y"}, {"outlet": "x"}],
    )
    # what qa uses works: dense query with a metadata filter, and keyword containment
    hits = collection.query(query_embeddings=[[1.0, 0.0]], n_results=2, where={"outlet": "x"})
    assert hits["ids"][0] == ["a", "c"]
    assert collection.get(where_document={"$contains": "ferry"})["ids"] == ["a", "c"]
    fused = Rrf([Knn(query=[1.0, 0.0], return_rank=True), Knn(query=[0.0, 1.0], return_rank=True)])
    with pytest.raises(ChromaError, match="not implemented"):
        collection.search(Search().where(K("outlet") == "x").rank(fused).limit(2))
