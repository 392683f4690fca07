"""Any llama-index `LLM` instance passed in from Python (Anthropic, Ollama, vLLM, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from qa.backends.base import ChatRequest
from qa.errors import BackendError


class LlamaIndexChatModel:
    """Adapts a llama-index LLM: streams with `stream_chat` when it can, else `chat`."""

    can_stream = True
    is_generative = True

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        model = getattr(getattr(llm, "metadata", None), "model_name", "") or type(llm).__name__
        self.name = f"llama-index:{model}"

    def warm_up(self) -> None:
        pass

    def stream(self, request: ChatRequest) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage as LIChatMessage

        messages = [LIChatMessage(role=m.role, content=m.content) for m in request.messages]
        try:
            try:
                for delta in self.llm.stream_chat(messages):
                    if delta.delta:
                        yield delta.delta
                return
            except NotImplementedError:
                pass
            response = self.llm.chat(messages)
            text = response.message.content or ""
            if not text:
                raise BackendError(f"{self.name} returned no text")
            yield text
        except BackendError:
            raise
        except Exception as exc:  # any provider error becomes one clear message
            raise BackendError(f"{self.name} failed ({type(exc).__name__}: {exc})") from None
