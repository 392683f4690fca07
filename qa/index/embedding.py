"""The sentence encoder: sentence-transformers, loaded from the pinned offline package.

Called directly rather than through llama-index's embedding wrapper: ingest is bound by
the encoder, and the direct call keeps batching and normalisation in our hands.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qa.errors import ModelIntegrityError
from qa.models import embedding_model
from qa.settings import EmbeddingSettings

if TYPE_CHECKING:
    import numpy as np


_CACHE_SIZE = 20_000


class Encoder:
    """Embeds texts (unit-length vectors) and counts their tokens with the model's tokenizer."""

    @classmethod
    def of(cls, settings: EmbeddingSettings) -> Encoder:
        """The encoder a settings' embedding part names (model and batch size)."""
        return cls(settings.embedding_model, settings.batch_size)

    def __init__(self, name: str = "bundled", batch_size: int = 64) -> None:
        info = embedding_model(name)
        self.identity = info.identity
        self._path = info.path
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.RLock()
        self._cache: dict[str, np.ndarray] = {}

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self._path, device="cpu")
            except OSError as exc:
                raise ModelIntegrityError(
                    f"embedding model {self._path!r} could not be loaded offline ({exc}); "
                    "use 'bundled' or a local folder, or set QA_ALLOW_DOWNLOADS=1"
                ) from None

    @property
    def model(self) -> Any:
        self.warm_up()
        return self._model

    @property
    def dimension(self) -> int:
        dim = self.model.get_sentence_embedding_dimension()
        return int(dim or 0)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts`, cached: answering encodes the same question and passage
        sentences again for every sentence it checks. Bulk work uses `encode_batch`."""
        import numpy as np

        with self._lock:
            found = {t: self._cache[t] for t in dict.fromkeys(texts) if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.encode_batch(missing), strict=True))
            with self._lock:
                self._cache.update((t, found[t]) for t in missing)
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
        return np.stack([found[t] for t in texts]) if texts else self.encode_batch([])

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts`, uncached: ingest and benchmarks, where texts do not recur."""
        return self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]
