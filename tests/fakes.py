"""Fakes, only where a real part cannot produce the case under test on demand."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from qa.backends.base import ChatRequest


class FakeChatModel:
    """A chat model that writes a scripted answer: real models cannot be made to emit a
    dangling marker or a wrong number on demand."""

    can_stream = True
    is_generative = True

    def __init__(self, text: str | list[str], name: str = "fake") -> None:
        self.texts = [text] if isinstance(text, str) else list(text)  # one per request
        self.name = name
        self.requests: list[ChatRequest] = []

    def warm_up(self) -> None:
        pass

    def stream(self, request: ChatRequest) -> Iterator[str]:
        self.requests.append(request)
        text = self.texts[min(len(self.requests), len(self.texts)) - 1]
        for word in text.split(" "):
            yield word + " "


class FakeOpenAIServer:
    """An HTTP server on 127.0.0.1 that speaks just enough of the OpenAI protocol to send
    malformed stream data, hang, or echo a rejected key: faults a healthy llama.cpp server
    never shows."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps({"data": [{"id": "fake"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.mode == "echo-key":  # as some servers do: the rejected key in the error
                    key = self.headers.get("Authorization", "")
                    body = json.dumps({"error": f"Incorrect API key provided: {key}"}).encode()
                    self.send_response(401)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if outer.mode == "hang":
                    outer.release.wait(30)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if outer.mode == "malformed":
                    self.wfile.write(b'data: {"choices": [{"delta": {"content": "Putin"}}]}\n\n')
                    self.wfile.write(b"data: this is not json\n\n")
                elif outer.mode == "die":
                    self.wfile.write(b'data: {"choices": [{"delta": {"content": "Putin "}}]}\n\n')
                self.wfile.flush()

        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
