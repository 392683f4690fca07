"""Chat backends by name. An unknown name is an error that lists the valid ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qa.backends.base import ChatModel
from qa.errors import UnknownNameError
from qa.judge import Embedder
from qa.settings import Settings

Factory = Callable[[Settings, Embedder], ChatModel]


def _extractive(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.extractive import ExtractiveChatModel

    return ExtractiveChatModel(embedder)


def _llamacpp(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.llamacpp import LlamaCppChatModel

    return LlamaCppChatModel(
        settings.llm_model,
        n_ctx=settings.n_ctx,
        timeout=settings.llm_timeout,
        in_process=settings.llm_in_process,
    )


def _openai(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.openai_compat import OpenAIChatModel

    return OpenAIChatModel(settings.openai_base_url, settings.llm_model, settings.llm_timeout)


def _ollama(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.openai_compat import OLLAMA_BASE_URL, OpenAIChatModel

    base = settings.openai_base_url
    if base == Settings.openai_base_url:  # not changed by the user: the preset applies
        base = OLLAMA_BASE_URL
    return OpenAIChatModel(base, settings.llm_model, settings.llm_timeout, name="ollama")


BACKENDS: dict[str, Factory] = {
    "extractive": _extractive,
    "llamacpp": _llamacpp,
    "openai": _openai,
    "ollama": _ollama,
}


def create(llm: str | Any, settings: Settings, embedder: Embedder) -> ChatModel:
    """A backend from a registered name, or an adapter around a llama-index LLM instance."""
    if not isinstance(llm, str):
        if isinstance(llm, ChatModel):
            return llm
        from qa.backends.llamaindex import LlamaIndexChatModel

        return LlamaIndexChatModel(llm)
    factory = BACKENDS.get(llm)
    if factory is None:
        raise UnknownNameError(f"unknown chat backend {llm!r}: use one of {', '.join(BACKENDS)}")
    return factory(settings, embedder)
