"""Shared fixtures: the real embedding model, real Chroma indexes in temp folders, and
real server processes (chroma run, llama_cpp.server) on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa import offline
from qa.procs import children, free_port, stop, wait_http

offline.apply()

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
BIN = Path(sys.executable).parent


def descendants(parent: int, matches: Callable[[list[bytes]], bool]) -> list[int]:
    """Pids below `parent` whose command line (argv, as bytes) `matches`; processes that end
    while they are read are skipped."""
    found = []
    for pid in children(parent):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if matches(argv):
            found.append(pid)
    return found


@pytest.fixture(scope="session")
def encoder():
    from qa.index.embedding import Encoder

    enc = Encoder()
    enc.warm_up()
    return enc


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory, encoder):
    """A real index of seeds/ in a temp folder, built once per session."""
    from qa.index.ingest import Ingestor
    from qa.settings import Settings

    settings = Settings.load(index=tmp_path_factory.mktemp("seed-index"))
    Ingestor(settings, encoder).ingest([SEEDS], quiet=True)
    return settings


@pytest.fixture(scope="session")
def extractive(seed_settings, encoder):
    from qa.answer.assistant import Assistant

    return Assistant(seed_settings, llm="extractive", encoder=encoder)


@pytest.fixture
def run_qa(tmp_path):
    """Run the real `qa` console script; returns the CompletedProcess."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 600,
        input: str | None = None,
    ) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [str(BIN / "qa"), *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=tmp_path,
            input=input,
        )

    return run


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on 127.0.0.1, stopped at the end of the session."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = shutil.which("chroma", path=str(BIN)) or "chroma"
    log = open(path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, proc)
        yield "127.0.0.1", port
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """A real `python -m llama_cpp.server` on 127.0.0.1 serving the tiny SmolLM2 GGUF;
    yields its OpenAI-compatible base URL."""
    from qa.models import tiny_gguf

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(tiny_gguf()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", 120, proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)


def pytest_collection_modifyitems(config, items):
    """A test that drives a browser or starts a server process is slow too: the fast
    default, `pytest -m "not slow"`, leaves them (and the model runs) to `make test`."""
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("server"):
            item.add_marker(pytest.mark.slow)
