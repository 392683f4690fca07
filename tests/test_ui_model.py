"""The chat page with the bundled local model, as `make chat` serves it: the model answers
in the page, and killing the model's process (kill -9) in the middle of an answer leaves the
page serving, with a clear message and a marked extractive answer; the next question starts
the model again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from .conftest import SEEDS, descendants
from .ui_helpers import (
    ANSWER_TIMEOUT,
    ANSWERS_DONE,
    chat_server,
    last_answer,
    launch_chromium,
    off_machine,
    open_page,
    screenshot,
    send,
    wait_answered,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.server]


def model_children(parent: int) -> list[int]:
    """Pids of the `qa.backends.llama_child` processes below `parent`."""
    return descendants(parent, lambda argv: b"qa.backends.llama_child" in argv)


@pytest.fixture(scope="module")
def model_page(tmp_path_factory, encoder):
    from playwright.sync_api import sync_playwright

    from qa.index.ingest import Ingestor
    from qa.settings import Settings

    root = tmp_path_factory.mktemp("ui-model")
    Ingestor(Settings.load(index=root / "index"), encoder).ingest([SEEDS], quiet=True)
    with (
        chat_server(root / "index", root / "server.log", "--llm", "llamacpp") as url,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        tab = open_page(browser.new_context(viewport={"width": 1400, "height": 1000}), url)
        yield tab
        browser.close()
        assert off_machine(tab.requests) == []


def wait_done(page, done: int) -> None:
    wait_answered(page, done, ANSWER_TIMEOUT * 3)  # the 1.5B model on 2 cores


def chat_pid(page) -> int:
    """The `qa chat` process behind the page: the one listening on the page's port."""
    port = page.url.rsplit(":", 1)[1].strip("/")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"chat" in cmdline and port.encode() in cmdline:
                return int(entry.name)
    raise AssertionError(f"no qa chat process on port {port}")


def test_the_bundled_model_answers_a_seed_question_in_the_page(model_page):
    done = send(model_page, "What did Shoigu say about military blocs?")
    wait_done(model_page, done)
    answer = last_answer(model_page)
    text = answer.inner_text()
    assert "llamacpp:qwen2.5-coder-1.5b" in text, text
    assert "bloc" in text.lower(), text
    assert answer.locator(".qa-answer a[href^='#cite-']").count() >= 1
    screenshot(model_page, "bundled-model-answer")


def test_killing_the_model_mid_answer_falls_back_and_the_next_question_restarts_it(
    model_page,
):
    parent = chat_pid(model_page)
    before = model_children(parent)
    assert len(before) == 1, "the model runs in one child process of qa chat"
    done = send(model_page, "Who is Zhang Youxia?")
    time.sleep(1.5)  # the 1.5B model is still reading its prompt of ~1,000 tokens
    assert model_page.locator(ANSWERS_DONE).count() == done, "answered before the kill"
    os.kill(before[0], signal.SIGKILL)
    wait_done(model_page, done)
    answer = last_answer(model_page).inner_text()
    assert "The model failed (the local model process was killed by SIGKILL" in answer, answer
    assert "extractive (fallback:" in answer, answer
    assert "Zhang Youxia" in answer
    assert "Traceback" not in model_page.content()
    screenshot(model_page, "model-killed-fallback")

    done = send(model_page, "What did Putin say about military ties?")
    wait_done(model_page, done)
    again = last_answer(model_page).inner_text()
    assert "llamacpp:qwen2.5-coder-1.5b" in again and "fallback" not in again, again
    after = model_children(parent)
    assert len(after) == 1 and after != before, "a fresh model process answered"
