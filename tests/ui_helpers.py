"""Helpers for the browser tests: the real `qa chat` server and a headless Debian Chromium."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import BIN, ROOT, free_port, stop, wait_http

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def chat_server(index: Path, log: Path, *extra: str) -> Iterator[str]:
    """`qa chat --llm extractive` on a free loopback port; yields its URL. The OpenAI-compatible
    backends point at a closed loopback port: choosing one in the page shows "backend down"."""
    port = free_port()
    env = {**os.environ, "QA_OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(BIN / "qa"),
                "chat",
                "--llm",
                "extractive",
                "--index",
                str(index),
                "--port",
                str(port),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=index.parent,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_http(url, 180, proc)
        except RuntimeError as exc:
            stop(proc)
            pytest.fail(f"{exc}\n--- server log ---\n{log.read_text()}")
        try:
            yield url
        finally:
            stop(proc)


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Debian's Chromium; missing is a failure with the fix, never a skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(or `make system-deps`)"
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


ANSWERS_DONE = "#qa-chat [data-testid=bot] :is(.qa-answer, .qa-refusal, .qa-error)"
ANSWER_TIMEOUT = 90_000


def open_page(context, url: str):  # type: ignore[no-untyped-def]
    """A new tab on the chat page, ready for a question; `tab.requests` lists every URL it
    asked for (callers check that none left the machine)."""
    tab = context.new_page()
    tab.requests = []
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.goto(url, wait_until="load")
    tab.locator("#qa-question textarea").wait_for()
    return tab


def send(page, question: str) -> int:  # type: ignore[no-untyped-def]
    """Type the question and press Enter; returns how many answers were done before."""
    done = page.locator(ANSWERS_DONE).count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    return done


def wait_answered(page, done: int, timeout: float = ANSWER_TIMEOUT) -> None:  # type: ignore[no-untyped-def]
    """Wait until more than `done` answers (or refusals or errors) are in the chat."""
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n",
        arg=[ANSWERS_DONE, done],
        timeout=timeout,
    )


def last_answer(page):  # type: ignore[no-untyped-def]
    return page.locator("#qa-chat [data-testid=bot]").last


def off_machine(urls: list[str]) -> list[str]:
    """The requested URLs whose host is not this machine."""
    return [
        u
        for u in urls
        if urlsplit(u).scheme in {"http", "https", "ws", "wss"}
        and urlsplit(u).hostname not in LOCAL_HOSTS
    ]


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"ui-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


HARBOUR = """---
title: Port Veltra harbour reopens after storm repairs
source: Veltra Coastal Gazette
published: 2024-03-14
url: https://example.org/veltra-harbour
---
The harbour of Port Veltra reopened to shipping on Thursday after eleven weeks of storm repairs, \
harbour master Ilse Marrow said.

The January storm had destroyed the northern breakwater and sunk two pilot boats. Repairs cost \
14 million euros, paid mostly by the regional government.

Marrow said the first ferry to the Orrin islands would sail on Saturday and that fishing boats \
could use the new quay from next week.
"""

HOSTILE = """---
title: "Lighthouse keepers strike <script>window.__pwned = 1</script>"
source: "Orrin Bulletin <img src=x onerror=window.__pwned=2>"
published: 2024-03-15
url: "javascript:window.__pwned=5"
---
The lighthouse keepers of Cape Orrin went on strike on Friday over unpaid night shifts. \
<script>window.__pwned = 3</script> Their union said the strike would last a week \
<img src="http://evil.invalid/x.png" onerror="window.__pwned=4"> and that the lamps would stay lit.
"""
