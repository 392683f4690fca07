"""Chat backends by name: the built-in ones and every plugin registered under the
`qa.backends` entry-point group (a factory `(settings, embedder) -> ChatModel`; the built-in
ones are registered the same way in pyproject.toml). An unknown name is an error that lists
the valid ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from qa.backends.base import ChatModel
from qa.errors import UnknownNameError
from qa.grounding.judge import Embedder
from qa.settings import ModelSettings, Settings

Factory = Callable[[Settings, Embedder], ChatModel]


def _extractive(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.extractive import ExtractiveChatModel

    return ExtractiveChatModel(embedder)


def _llamacpp(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.llamacpp import LlamaCppChatModel

    return LlamaCppChatModel(
        settings.model.llm_model,
        n_ctx=settings.model.n_ctx,
        timeout=settings.model.llm_timeout,
        in_process=settings.model.llm_in_process,
    )


def _openai(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.openai_compat import OpenAIChatModel

    return OpenAIChatModel(
        settings.model.openai_base_url, settings.model.llm_model, settings.model.llm_timeout
    )


def _ollama(settings: Settings, embedder: Embedder) -> ChatModel:
    from qa.backends.openai_compat import OLLAMA_BASE_URL, OpenAIChatModel

    base = settings.model.openai_base_url
    if base == ModelSettings.openai_base_url:  # not changed by the user: the preset applies
        base = OLLAMA_BASE_URL
    return OpenAIChatModel(
        base, settings.model.llm_model, settings.model.llm_timeout, name="ollama"
    )


# Used when qa runs from a source tree that was never installed (no entry points).
_BUILT_IN: dict[str, Factory] = {
    "extractive": _extractive,
    "llamacpp": _llamacpp,
    "openai": _openai,
    "ollama": _ollama,
}


def _given(factory: Factory) -> Callable[[], Factory]:
    return lambda: factory


class _Backends(Mapping[str, Factory]):
    """Name -> factory, read from the entry points the first time it is used."""

    @staticmethod
    @cache
    def _all() -> dict[str, Callable[[], Factory]]:
        """Each name with how to get its factory (a plugin is imported only when used)."""
        found = {name: _given(factory) for name, factory in _BUILT_IN.items()}
        for point in entry_points(group="qa.backends"):
            found.setdefault(point.name, point.load)
        return found

    def __getitem__(self, name: str) -> Factory:
        load = self._all()[name]
        try:
            return load()
        except Exception as exc:  # a broken plugin: one line, not a traceback
            raise UnknownNameError(f"chat backend {name!r} failed to load: {exc}") from None

    def __iter__(self) -> Any:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


BACKENDS: Mapping[str, Factory] = _Backends()


def create(llm: str | Any, settings: Settings, embedder: Embedder) -> ChatModel:
    """A backend from a registered name, or an adapter around a llama-index LLM instance."""
    if not isinstance(llm, str):
        if isinstance(llm, ChatModel):
            return llm
        from qa.backends.llamaindex import LlamaIndexChatModel

        return LlamaIndexChatModel(llm)
    if llm not in BACKENDS:
        raise UnknownNameError(f"unknown chat backend {llm!r}: use one of {', '.join(BACKENDS)}")
    return BACKENDS[llm](settings, embedder)
