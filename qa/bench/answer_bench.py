"""Answer latency (first token, total) on seed questions: our extractive and bundled
llama.cpp paths against a plain llama-index CitationQueryEngine with the same model
(the same loaded llama.cpp weights) over the same Chroma index, in one run."""

from __future__ import annotations

import statistics
import time
from typing import Any

from qa.assistant import Assistant
from qa.bench.llamaindex_baseline import same_embedding
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

    store = assistant.retriever.store
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=store.collection),
        embed_model=same_embedding(assistant.encoder),
    )
    engine = CitationQueryEngine.from_args(index, llm=_llm(llama), streaming=True)
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


def _llm(llama: Any) -> Any:
    """The already-loaded llama.cpp model as a llama-index LLM, ChatML-formatted like the
    llama-index LlamaCPP integration does for Qwen models."""
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
    from llama_index.core.llms.callbacks import llm_completion_callback

    def wrap(prompt: str) -> str:
        return f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"

    class SameLlama(CustomLLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=4096, num_output=320, model_name="same-gguf")

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
            out = llama.create_completion(wrap(prompt), max_tokens=320, temperature=0.1)
            return CompletionResponse(text=out["choices"][0]["text"])

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            def gen() -> Any:
                text = ""
                for chunk in llama.create_completion(
                    wrap(prompt), max_tokens=320, temperature=0.1, stream=True
                ):
                    delta = chunk["choices"][0]["text"]
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)

            return gen()

    return SameLlama()


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    firsts = [r["first_token"] for r in rows]
    totals = [r["total"] for r in rows]
    return {
        "first_token_p50": round(statistics.median(firsts), 3),
        "first_token_mean": round(statistics.mean(firsts), 3),
        "total_p50": round(statistics.median(totals), 3),
        "total_mean": round(statistics.mean(totals), 3),
    }
