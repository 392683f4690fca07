"""The chat-model contract every backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from qa.types import ChatMessage, Passage


@dataclass(frozen=True)
class ChatRequest:
    """What a backend gets: the rendered messages, and the question and passages behind them
    (a model-free backend such as `extractive` works from those directly)."""

    messages: tuple[ChatMessage, ...]
    question: str
    passages: tuple[Passage, ...] = ()
    max_tokens: int = 320
    temperature: float = 0.1


@runtime_checkable
class ChatModel(Protocol):
    """A chat backend. `stream` yields text pieces; raise BackendError when it fails."""

    name: str
    can_stream: bool
    is_generative: bool  # False for `extractive`: it needs no prompt and cannot misbehave

    def warm_up(self) -> None: ...

    def stream(self, request: ChatRequest) -> Iterator[str]: ...
