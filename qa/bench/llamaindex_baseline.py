"""Our loaded models seen through llama-index's abstractions, so the llama-index baselines
run on the very same weights as our paths (a fair comparison, no second model load)."""

from __future__ import annotations

from typing import Any

from qa.embedding import Encoder


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
