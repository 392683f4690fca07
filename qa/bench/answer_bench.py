"""Answer latency (first token, total) on seed questions: our extractive and bundled
llama.cpp paths against a plain llama-index CitationQueryEngine with the same model
(the same loaded llama.cpp weights) over the same Chroma index, in one run."""

from __future__ import annotations

import statistics
import time
from typing import Any

from qa.answer.assistant import Assistant
from qa.integrations.llama_index_peer import same_embedding, same_llm
from qa.settings import Settings

# Warms a model's state before timing; not one of the measured questions.
WARM_UP = "What is the news about?"
SEED_QUESTIONS = (
    "What did Shoigu say about military blocs?",
    "Who is Zhang Youxia?",
    "What did Putin say about trade between Russia and China?",
    "Why does China currently have no defence minister?",
    "What weapons projects did Putin mention?",
    "What did Zhang praise Moscow for?",
)


def _time_stream(pieces: Any) -> tuple[float, float, str]:
    started = time.perf_counter()
    first = 0.0
    text = []
    for piece in pieces:
        first = first or time.perf_counter() - started
        text.append(piece)
    return first, time.perf_counter() - started, "".join(text)


def ours(assistant: Assistant, questions: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for q in questions:
        stream = assistant.stream(q)
        first, total, _ = _time_stream(stream)
        answer = stream.result()
        rows.append(
            {
                "question": q,
                "first_token": first,
                "total": total,
                "refused": answer.refused,
                "citations": len(answer.citations),
            }
        )
    return rows


def citation_engine(
    settings: Settings, assistant: Assistant, questions: tuple[str, ...], llama: Any
) -> list[dict[str, Any]]:
    """`CitationQueryEngine.from_args(index, llm=..., streaming=True)` with its defaults."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.query_engine import CitationQueryEngine
    from llama_index.vector_stores.chroma import ChromaVectorStore

    store = assistant.retriever.store  # type: ignore[attr-defined]  # the built-in one
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=store.collection),
        embed_model=same_embedding(assistant.encoder),
    )
    engine = CitationQueryEngine.from_args(
        index, llm=same_llm(llama, temperature=0.1), streaming=True
    )
    rows = []
    for q in questions:
        started = time.perf_counter()
        response = engine.query(q)  # retrieval and prompt building happen here
        query_seconds = time.perf_counter() - started
        first, total, text = _time_stream(response.response_gen)  # type: ignore[union-attr]
        rows.append(
            {
                "question": q,
                "first_token": query_seconds + first,
                "total": query_seconds + total,
                "text": text,
            }
        )
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    firsts = [r["first_token"] for r in rows]
    totals = [r["total"] for r in rows]
    return {
        "first_token_p50": round(statistics.median(firsts), 3),
        "first_token_mean": round(statistics.mean(firsts), 3),
        "total_p50": round(statistics.median(totals), 3),
        "total_mean": round(statistics.mean(totals), 3),
    }
