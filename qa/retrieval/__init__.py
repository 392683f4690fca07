"""Retrieval: a question -> the passages to answer from (dense + BM25, fused, filtered).

One job: rank chunks of the index for a query; `Retriever` is the role, `HybridRetriever`
the default. May import `qa.index`, `qa.text` and the base modules.
"""
