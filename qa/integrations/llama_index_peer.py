"""Our loaded models seen through llama-index's abstractions, so the llama-index baselines
run on the very same weights as our paths (a fair comparison, no second model load)."""

from __future__ import annotations

from typing import Any

from qa.index.embedding import Encoder


def same_embedding(encoder: Encoder, batch_size: int = 64) -> Any:
    """Our encoder as a llama-index `BaseEmbedding`."""
    from llama_index.core.embeddings import BaseEmbedding

    class SameModel(BaseEmbedding):
        def _get_text_embedding(self, text: str) -> list[float]:
            return encoder.encode([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return encoder.encode_batch(texts).tolist()

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

    return SameModel(embed_batch_size=batch_size)


def same_llm(llama: Any, *, temperature: float = 0.0, max_tokens: int = 320) -> Any:
    """An already-loaded llama.cpp model as a llama-index LLM, ChatML-formatted like the
    llama-index LlamaCPP integration does for Qwen models."""
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
    from llama_index.core.llms.callbacks import llm_completion_callback

    def wrap(prompt: str) -> str:
        return f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"

    class SameLlama(CustomLLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=4096, num_output=max_tokens, model_name="same-gguf")

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
            out = llama.create_completion(
                wrap(prompt), max_tokens=max_tokens, temperature=temperature
            )
            return CompletionResponse(text=out["choices"][0]["text"])

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            def gen() -> Any:
                text = ""
                for chunk in llama.create_completion(
                    wrap(prompt), max_tokens=max_tokens, temperature=temperature, stream=True
                ):
                    delta = chunk["choices"][0]["text"]
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)

            return gen()

    return SameLlama()
