"""Answer latency (first token, total) on seed questions: our extractive and bundled
llama.cpp paths against a plain llama-index CitationQueryEngine with the same model
(the same loaded llama.cpp weights) over the same Chroma index, in one run."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from qa.answer.assistant import Assistant
from qa.integrations.llama_index_peer import same_embedding, same_llm
from qa.settings import Settings

# Warms a model's state before timing; not one of the measured questions.
WARM_UP = "What is the news about?"
FAIR_METHOD = (
    "same loaded GGUF in one process for both; each side warmed once with a question outside "
    "the measured set; llama.cpp state reset before every measured answer (both cold); order "
    "alternating per question; same passage count (top_k), temperature and max tokens; no "
    "article metadata in either prompt; answers and refusals timed apart; correctness from "
    "the eval set's gold answers (a refusal is right for an unanswerable question)"
)
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


def bench_items(quick: bool) -> list[Any]:
    """The measured questions: every other history-free question of the seeds eval set,
    answerable and unanswerable (a fixed rule; its gold answers score correctness)."""
    from qa.evaluation.dataset import load_eval_set

    seeds = Path(__file__).resolve().parents[2] / "eval" / "seeds.jsonl"
    items = [i for i in load_eval_set(seeds) if not i.history][::2]
    if quick:
        items = [i for i in items if i.answerable][:2] + [i for i in items if not i.answerable][:1]
    return items


def citation_engine(assistant: Assistant, llama: Any, settings: Settings) -> Any:
    """A plain `CitationQueryEngine` over the same Chroma collection and the same loaded
    weights, set like ours: the same passage count, temperature and answer length, and no
    article metadata in its prompt (ours sends none either)."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.query_engine import CitationQueryEngine
    from llama_index.vector_stores.chroma import ChromaVectorStore

    class TextOnly(BaseNodePostprocessor):
        def _postprocess_nodes(self, nodes: Any, query_bundle: Any = None) -> Any:
            for n in nodes:
                n.node.excluded_llm_metadata_keys = list(n.node.metadata)
            return nodes

    store = assistant.retriever.store  # type: ignore[attr-defined]  # the built-in one
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=store.collection),
        embed_model=same_embedding(assistant.encoder),
    )
    llm = same_llm(
        llama, temperature=settings.model.temperature, max_tokens=settings.model.max_tokens
    )
    return CitationQueryEngine.from_args(
        index,
        llm=llm,
        similarity_top_k=settings.answer.top_k,
        streaming=True,
        node_postprocessors=[TextOnly()],
    )


def fair_rows(
    assistant: Assistant, engine: Any, llama: Any, items: list[Any]
) -> dict[str, list[dict[str, Any]]]:
    """Both sides on every question, cold: llama.cpp's state (its prompt cache, the KV of
    the last prompt) is reset before each measured answer, and the order alternates from one
    question to the next so drift of the machine falls on both. A refusal is timed apart."""
    from qa.evaluation.metrics import answer_correct
    from qa.grounding.cite import is_refusal
    from qa.grounding.markers import strip_markers

    def row(item: Any, first: float, total: float, text: str, refused: bool) -> dict[str, Any]:
        correct = (
            (not refused and answer_correct(strip_markers(text), item.answers))
            if item.answerable
            else refused
        )
        return {
            "question": item.question,
            "answerable": item.answerable,
            "first_token": first,
            "total": total,
            "refused": refused,
            "correct": correct,
        }

    def ours_one(item: Any) -> dict[str, Any]:
        stream = assistant.stream(item.question)
        first, total, _ = _time_stream(stream)
        answer = stream.result()
        return row(item, first, total, answer.text, answer.refused)

    def theirs_one(item: Any) -> dict[str, Any]:
        started = time.perf_counter()
        response = engine.query(item.question)  # retrieval and prompt building happen here
        query_seconds = time.perf_counter() - started
        first, total, text = _time_stream(response.response_gen)
        return row(item, query_seconds + first, query_seconds + total, text, is_refusal(text))

    rows: dict[str, list[dict[str, Any]]] = {"ours": [], "citation_engine": []}
    for k, item in enumerate(items):
        sides = [("ours", ours_one), ("citation_engine", theirs_one)]
        for name, run in sides if k % 2 == 0 else sides[::-1]:
            llama.reset()  # cold: nothing of the previous prompt is reused
            rows[name].append(run(item))
    return rows


def fair_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Times of answers and of refusals apart, with how many of each were right."""
    answered = [r for r in rows if not r["refused"]]
    refused = [r for r in rows if r["refused"]]
    out: dict[str, Any] = {
        "questions": len(rows),
        "answered": len(answered),
        "refused": len(refused),
        "correct": sum(r["correct"] for r in rows),
        "answerable_correct": sum(r["correct"] for r in rows if r["answerable"]),
        "answerable": sum(r["answerable"] for r in rows),
        "unanswerable_refused": sum(r["refused"] for r in rows if not r["answerable"]),
        "unanswerable": sum(not r["answerable"] for r in rows),
    }
    for name, part in (("answered", answered), ("refused", refused)):
        if part:
            out[f"{name}_first_token_p50"] = round(
                statistics.median(r["first_token"] for r in part), 3
            )
            out[f"{name}_total_p50"] = round(statistics.median(r["total"] for r in part), 3)
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    firsts = [r["first_token"] for r in rows]
    totals = [r["total"] for r in rows]
    return {
        "first_token_p50": round(statistics.median(firsts), 3),
        "first_token_mean": round(statistics.mean(firsts), 3),
        "total_p50": round(statistics.median(totals), 3),
        "total_mean": round(statistics.mean(totals), 3),
    }
