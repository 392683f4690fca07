"""Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, LM Studio, Ollama's /v1)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx

from qa.backends.base import ChatRequest
from qa.errors import BackendError, InputError

OLLAMA_BASE_URL = "http://localhost:11434/v1"


class OpenAIChatModel:
    """Streams `/chat/completions` over Server-Sent Events. The key comes from the
    environment only (QA_OPENAI_API_KEY, then OPENAI_API_KEY) and is never logged."""

    can_stream = True
    is_generative = True

    def __init__(
        self,
        base_url: str,
        model: str = "",
        timeout: float = 120.0,
        name: str = "openai",
        *,
        api_key: str | None = None,  # None: QA_OPENAI_API_KEY or OPENAI_API_KEY
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InputError(f"base URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.name = name
        if api_key is None:
            api_key = os.environ.get("QA_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self._key = api_key or ""

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIChatModel(base_url={self.base_url!r}, model={self.model!r})"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def warm_up(self) -> None:
        """Pick the server's first model when none was named; fail early if it is down."""
        if self.model:
            return
        try:
            response = httpx.get(f"{self.base_url}/models", headers=self._headers(), timeout=10)
            response.raise_for_status()
            models = response.json().get("data") or []
            self.model = str(models[0]["id"]) if models else "default"
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendError(self._down(exc)) from None

    def _down(self, exc: Exception) -> str:
        reason = self._redact(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
        return (
            f"{self.name} backend at {self.base_url} failed ({reason}): start the server "
            "or check --openai-base-url / --llm"
        )

    def stream(self, request: ChatRequest) -> Iterator[str]:
        try:
            yield from self._stream(request)
        except BackendError as exc:  # a server may echo the key back in its error text
            raise BackendError(self._redact(str(exc))) from None

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _stream(self, request: ChatRequest) -> Iterator[str]:
        self.warm_up()
        body = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        timeout = httpx.Timeout(self.timeout, connect=10.0)
        produced = False
        try:
            with httpx.stream(
                "POST",
                f"{self.base_url}/chat/completions",
                json=body,
                headers=self._headers(),
                timeout=timeout,
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise BackendError(
                        f"{self.name} backend answered HTTP {response.status_code}: "
                        f"{response.text[:200]!r}; check the model name and key"
                    )
                for piece in _sse_pieces(response.iter_lines(), self.name):
                    produced = True
                    yield piece
        except httpx.TimeoutException:
            raise BackendError(
                f"{self.name} backend at {self.base_url} did not answer within "
                f"{self.timeout:.0f}s: raise --llm-timeout or use a smaller model"
            ) from None
        except httpx.HTTPError as exc:
            raise BackendError(self._down(exc)) from None
        if not produced:
            raise BackendError(f"{self.name} backend returned no text")


def _sse_pieces(lines: Iterator[str], name: str) -> Iterator[str]:
    """Text deltas of an SSE stream; a stream cut before `[DONE]` or a finish reason is an
    error, so a server that dies mid-answer never passes for a short answer."""
    finished = False
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
            choice = event["choices"][0]
            delta = choice.get("delta") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(f"{name} backend sent malformed data: {data[:120]!r}") from None
        finished = finished or bool(choice.get("finish_reason"))
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:
            yield content
    if not finished:
        raise BackendError(f"{name} backend stopped in the middle of its answer")
