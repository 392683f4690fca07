"""A local GGUF model through llama.cpp (the bundled Qwen2.5-Coder 1.5B by default).

By default the model runs in a child process that `qa` starts and supervises: llama.cpp's
OpenAI-compatible server on 127.0.0.1 (`qa.backends.llama_child`), spoken to by the `openai`
backend's client. Native code that crashes (a SIGSEGV in a CPU kernel, an out-of-memory kill)
or hangs then costs one answer, never the page or the CLI: the error is one line, the
assistant can answer extractively instead, and the next question starts the model again.
`in_process=True` loads the model into this process instead (benchmarks compare the two).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx

from qa.backends.base import ChatRequest
from qa.backends.openai_compat import OpenAIChatModel
from qa.errors import BackendError, InputError
from qa.models import resolve_gguf

_NEEDS = (
    "the llamacpp backend needs llama-cpp-python with its server: run `make setup` "
    "or `pip install 'qa-news[local-llm]'`"
)
LOAD_TIMEOUT = 300.0  # seconds for the child to load the model and answer /v1/models


class ModelProcess:
    """One supervised `llama_cpp.server` child serving one GGUF on a free local port."""

    def __init__(self, path: Path, n_ctx: int, threads: int, load_timeout: float = LOAD_TIMEOUT):
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self.load_timeout = load_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self._log: IO[bytes] | None = None
        self.log_path = ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        from qa.procs import free_port

        if importlib.util.find_spec("llama_cpp") is None or not _has_server_extra():
            raise InputError(_NEEDS)
        self.stop()
        port = free_port()
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed in stop)
            prefix="qa-llama-", suffix=".log", delete=False
        )
        self.log_path = self._log.name
        threads = str(self.threads)
        cmd = [
            sys.executable,
            "-m",
            "qa.backends.llama_child",
            "--model",
            str(self.path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--model_alias",
            "local",
        ]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.load_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                reason = self.exit_reason()
                self.stop()
                raise BackendError(f"the local model process {reason} while loading {self.path}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise BackendError(
            f"the local model did not load within {self.load_timeout:.0f}s ({self.path})"
        )

    def exit_reason(self) -> str:
        """'was killed by SIGKILL', 'exited with code 1: <last log line>' or 'is running'."""
        if self.proc is None or self.proc.poll() is None:
            return "is running"
        code = self.proc.returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"was killed by {name}"
        last = _last_line(self.log_path)
        return f"exited with code {code}" + (f": {last}" if last else "")

    def stop(self) -> None:
        from qa.procs import stop

        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            stop(proc)
        if self._log is not None:
            self._log.close()
            self._log = None
            Path(self.log_path).unlink(missing_ok=True)


def _has_server_extra() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("uvicorn", "sse_starlette"))


def _last_line(path: str) -> str:
    try:
        lines = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


class LlamaCppChatModel:
    """Answers one request at a time from a local GGUF, in a supervised child process (the
    default) or in this process (`in_process=True`)."""

    name = "llamacpp"
    can_stream = True
    is_generative = True

    def __init__(
        self,
        model: str = "",
        n_ctx: int = 4096,
        threads: int | None = None,
        *,
        timeout: float = 120.0,
        in_process: bool = False,
    ) -> None:
        self.model_spec = model
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 2
        self.timeout = timeout
        self.in_process = in_process
        self._llm: Any = None
        self._child: ModelProcess | None = None
        self._lock = threading.Lock()
        self.model_path = ""

    # -- the model's home -------------------------------------------------------------------

    def _resolve(self) -> Path:
        path = resolve_gguf(self.model_spec)
        self.model_path = str(path)
        self.name = f"llamacpp:{path.name}"
        return path

    def warm_up(self) -> None:
        with self._lock:
            if self.in_process:
                self._load_in_process()
            else:
                self._ensure_child()

    def _ensure_child(self) -> ModelProcess:
        if self._child is None:
            self._child = ModelProcess(self._resolve(), self.n_ctx, self.threads)
        if not self._child.running():
            self._child.start()
        return self._child

    @property
    def child_pid(self) -> int | None:
        """The pid of the running model process (None in process or before the first use)."""
        return self._child.pid if self._child is not None and self._child.running() else None

    def close(self) -> None:
        """Stops the model process (it also stops by itself when this process ends)."""
        with self._lock:
            if self._child is not None:
                self._child.stop()

    def _load_in_process(self) -> Any:
        if self._llm is None:
            path = self._resolve()
            try:
                from llama_cpp import Llama
            except ImportError:
                raise InputError(_NEEDS) from None
            try:
                self._llm = Llama(
                    model_path=str(path), n_ctx=self.n_ctx, n_threads=self.threads, verbose=False
                )
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llama.cpp could not load {path} ({exc})") from None
        return self._llm

    @property
    def llama(self) -> Any:
        """A `llama_cpp.Llama` in this process (benchmarks share it with their baselines)."""
        with self._lock:
            return self._load_in_process()

    # -- answering --------------------------------------------------------------------------

    def stream(self, request: ChatRequest) -> Iterator[str]:
        with self._lock:  # one answer at a time, as llama.cpp contexts are not shareable
            if self.in_process:
                yield from self._stream_in_process(request)
            else:
                yield from self._stream_child(request)

    def _stream_child(self, request: ChatRequest) -> Iterator[str]:
        child = self._ensure_child()
        # the user's OpenAI key has no business with the local model
        client = OpenAIChatModel(child.base_url, "local", self.timeout, "llamacpp", api_key="")
        try:
            yield from client.stream(request)
        except BackendError as exc:
            raise BackendError(self._explain(child, exc)) from None

    def _explain(self, child: ModelProcess, exc: BackendError) -> str:
        """One line saying what happened to the model; a hung model is stopped, so the next
        question starts it afresh."""
        if child.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(2)  # a process that just died closes its socket first
        if not child.running():
            reason = child.exit_reason()
            child.stop()
            return f"the local model process {reason} while answering; it restarts next question"
        if "did not answer within" in str(exc):
            child.stop()
            return (
                f"the local model did not answer within {self.timeout:.0f}s and was stopped; "
                "it restarts next question"
            )
        return str(exc)

    def _stream_in_process(self, request: ChatRequest) -> Iterator[str]:
        llm = self._load_in_process()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        produced = False
        try:
            chunks = llm.create_chat_completion(
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stream=True,
            )
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
