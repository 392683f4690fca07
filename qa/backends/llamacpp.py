"""A local GGUF model through llama-cpp-python (the bundled Qwen2.5-Coder 1.5B by default)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from qa.backends.base import ChatRequest
from qa.errors import BackendError, InputError
from qa.models import resolve_gguf


class LlamaCppChatModel:
    """Loads the GGUF once (in `warm_up`) and answers one request at a time."""

    name = "llamacpp"
    can_stream = True
    is_generative = True

    def __init__(self, model: str = "", n_ctx: int = 4096, threads: int | None = None) -> None:
        self.model_spec = model
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 2
        self._llm: Any = None
        self._lock = threading.Lock()
        self.model_path = ""

    def warm_up(self) -> None:
        with self._lock:
            if self._llm is not None:
                return
            path = resolve_gguf(self.model_spec)
            try:
                from llama_cpp import Llama
            except ImportError:
                raise InputError(
                    "the llamacpp backend needs llama-cpp-python: run `make setup` "
                    "or `pip install 'qa-news[local-llm]'`"
                ) from None
            try:
                self._llm = Llama(
                    model_path=str(path), n_ctx=self.n_ctx, n_threads=self.threads, verbose=False
                )
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llama.cpp could not load {path} ({exc})") from None
            self.model_path = str(path)
            self.name = f"llamacpp:{path.name}"

    @property
    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama` (benchmarks share it with their baselines)."""
        self.warm_up()
        return self._llm

    def stream(self, request: ChatRequest) -> Iterator[str]:
        self.warm_up()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        with self._lock:  # llama.cpp contexts are not safe to share between threads
            try:
                chunks = self._llm.create_chat_completion(
                    messages=messages,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    stream=True,
                )
                produced = False
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta") or {}
                    content = delta.get("content")
                    if content:
                        produced = True
                        yield content
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llama.cpp failed while answering ({exc})") from None
        if not produced:
            raise BackendError("llama.cpp returned no text")
