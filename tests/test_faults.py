"""Faults while the tool runs: a locked index, a model file that is not the pinned one, a
backend that hangs or garbles its stream, a full disk and a Chroma server that goes away
mid-ingest. Each is one line and exit code 2 from the CLI, and nothing is lost: the index
still answers and the next run reaches the state of a clean ingest."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import chromadb
import pytest

from qa.answer.assistant import Assistant
from qa.bench.corpora import write_abc_corpus
from qa.errors import BackendError, InputError, ModelIntegrityError
from qa.index import keywords_path as state_path
from qa.index.ingest import Ingestor
from qa.models import BUNDLED_GGUF_NAME, BUNDLED_GGUF_SIZE, resolve_gguf
from qa.settings import Settings

from .conftest import BIN, SEEDS, descendants, free_port, stop, wait_http
from .fakes import FakeOpenAIServer
from .test_bad_input import one_line_error

ABC_ARTICLES = 24
INGEST_ENV = {"QA_INGEST_BATCH": "8"}  # several crash-safe batches in a small corpus


def contents(collection, state: Path) -> tuple[list, list, int]:
    """What an index holds: Chroma rows (id, text, metadata), keyword rows, FTS rows; and
    no article left half-written."""
    got = collection.get(include=["documents", "metadatas"])
    metas = [json.dumps(m, sort_keys=True) for m in got["metadatas"]]
    rows = sorted(zip(got["ids"], got["documents"], metas, strict=True))
    db = sqlite3.connect(state)
    try:
        keyword = sorted(db.execute("SELECT chunk_id, article_id FROM chunks").fetchall())
        fts = db.execute("SELECT count(*) FROM chunk_fts").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM articles WHERE status != 'done'").fetchone()[0]
    finally:
        db.close()
    assert pending == 0
    return rows, keyword, fts


def local_contents(settings: Settings) -> tuple[list, list, int]:
    client = chromadb.PersistentClient(path=str(Path(settings.store.index) / "chroma"))
    return contents(client.get_collection(settings.store.collection), state_path(settings.store))


def done_articles(state: Path) -> int:
    try:
        db = sqlite3.connect(state)
        try:
            return int(
                db.execute("SELECT count(*) FROM articles WHERE status='done'").fetchone()[0]
            )
        finally:
            db.close()
    except sqlite3.Error:  # not created yet, or mid-write
        return 0


@pytest.fixture(scope="module")
def abc(tmp_path_factory, encoder) -> tuple[Path, tuple[list, list, int]]:
    """A small real news corpus and what a clean, uninterrupted ingest of it holds."""
    root = tmp_path_factory.mktemp("abc")
    corpus = write_abc_corpus(root / "corpus", limit=ABC_ARTICLES)
    settings = Settings.load(index=root / "clean")
    Ingestor(settings, encoder).ingest([corpus], quiet=True)
    return corpus, local_contents(settings)


def test_a_locked_index_is_a_one_line_error_and_nothing_is_lost(
    run_qa, seed_settings, encoder, tmp_path
):
    index = tmp_path / "idx"
    shutil.copytree(seed_settings.store.index, index)
    settings = Settings.load(index=index)
    before = local_contents(settings)
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "ferry.txt").write_text(
        "The Kessel harbour board approved a new ferry terminal on Monday.", "utf-8"
    )
    holder = sqlite3.connect(index / "state.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of writing the index
    try:
        locked = run_qa(
            "ingest", str(corpus), "--index", str(index), "--quiet", env={"QA_LOCK_TIMEOUT": "1"}
        )
        message = one_line_error(locked)
        assert "state.sqlite3 is locked by another process" in message
        assert "run the command again" in message
        # the writer does not stop anyone from asking
        answer = Assistant(settings, encoder=encoder).answer("Who is Zhang Youxia?")
        assert not answer.refused and "Zhang" in answer.text
    finally:
        holder.rollback()
        holder.close()
    assert local_contents(settings) == before
    again = Ingestor(settings, encoder).ingest([corpus], quiet=True)
    assert (again.articles_added, again.articles_unchanged) == (1, 2)


@pytest.mark.slow
def test_a_gguf_that_is_not_the_pinned_file_is_refused(run_qa, seed_settings, tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"GGUF" + b"\x00" * 4096)  # a GGUF header, then not the model
    pinned = hashlib.sha256(b"the model the user meant").hexdigest()
    done = run_qa(
        "ask",
        "Who is Zhang Youxia?",
        "--index",
        str(seed_settings.store.index),
        "--llm",
        "llamacpp",
        env={"QA_LLM_MODEL": f"{fake}#sha256={pinned}", "QA_CACHE_DIR": str(tmp_path / "cache")},
    )
    message = one_line_error(done)
    assert str(fake) in message and "SHA-256" in message and "download it again" in message


def test_a_damaged_bundled_model_in_the_cache_says_how_to_rebuild_it(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    cached = tmp_path / "models" / BUNDLED_GGUF_NAME
    cached.parent.mkdir()
    with open(cached, "wb") as handle:  # the right size, the wrong bytes (sparse: no disk)
        handle.truncate(BUNDLED_GGUF_SIZE)
    with pytest.raises(ModelIntegrityError) as caught:
        resolve_gguf("bundled")
    message = str(caught.value)
    assert str(cached) in message and "SHA-256" in message
    assert "delete" in message and "assembled anew" in message


def test_a_file_that_is_not_a_gguf_is_refused_before_llama_cpp_sees_it(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    page = tmp_path / "model.gguf"
    page.write_bytes(b"<html>404 Not Found</html>")  # a failed download saved as a model
    digest = hashlib.sha256(page.read_bytes()).hexdigest()
    with pytest.raises(ModelIntegrityError, match=r"is not a GGUF model .*give a \.gguf file"):
        resolve_gguf(f"{page}#sha256={digest}")
    with pytest.raises(InputError, match="64-digit hex SHA-256"):
        resolve_gguf(f"{page}#sha256=abc")


def test_a_hung_backend_is_an_error_after_the_configured_timeout(seed_settings, encoder):
    with FakeOpenAIServer("hang") as server:
        settings = seed_settings.replace(
            llm="openai", openai_base_url=server.base_url, llm_model="fake", llm_timeout=1.0
        )
        with pytest.raises(BackendError, match=r"did not answer within 1s: raise --llm-timeout"):
            Assistant(settings, encoder=encoder).answer("Who is Zhang Youxia?")


def test_a_garbled_stream_falls_back_to_a_clean_extractive_answer(
    seed_settings, encoder, extractive
):
    question = "Who is Zhang Youxia?"
    with FakeOpenAIServer("malformed") as server:
        settings = seed_settings.replace(
            llm="openai", openai_base_url=server.base_url, llm_model="fake"
        )
        stream = Assistant(settings, encoder=encoder, fallback_extractive=True).stream(question)
        shown = "".join(stream)
        answer = stream.result()
    assert shown.startswith("Putin")  # the half answer streamed before the garbage
    assert "malformed" in answer.fallback_reason
    assert answer.model.startswith("extractive (fallback:")
    # nothing of the garbled draft is left in the answer
    assert answer.text == extractive.answer(question).text and not answer.refused


def _limit_file_size(limit: int):
    def limit_in_child() -> None:
        # a file that would pass `limit` fails with EFBIG, as on a full disk, instead of
        # the process being killed by SIGXFSZ
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_in_child


@pytest.mark.slow
def test_disk_full_mid_ingest_is_a_clear_error_and_the_rerun_resumes(abc, encoder, tmp_path):
    corpus, clean = abc
    # room for the empty store and about half of what the corpus adds to it
    empty = tmp_path / "empty"
    chromadb.PersistentClient(path=str(empty)).get_or_create_collection("news")
    start = (empty / "chroma.sqlite3").stat().st_size
    full = (Path(corpus).parent / "clean" / "chroma" / "chroma.sqlite3").stat().st_size
    assert full > start
    index = tmp_path / "idx"
    failed = subprocess.run(
        [str(BIN / "qa"), "ingest", str(corpus), "--index", str(index), "--quiet"],
        env={**os.environ, **INGEST_ENV},
        preexec_fn=_limit_file_size((start + full) // 2),
        capture_output=True,
        text=True,
        timeout=600,
    )
    message = one_line_error(failed)
    assert "free space" in message and "run `qa ingest` again, it resumes" in message
    assert str(index) in message
    assert 0 < done_articles(index / "state.sqlite3") < ABC_ARTICLES  # it stopped midway

    # the half-written index answers from what it holds
    settings = Settings.load(index=index)
    db = sqlite3.connect(index / "state.sqlite3")
    article_id, title = db.execute(
        "SELECT id, title FROM articles WHERE status='done' ORDER BY id LIMIT 1"
    ).fetchone()
    db.close()
    answer = Assistant(settings, encoder=encoder).answer(title)
    assert article_id in {p.article_id for p in answer.passages}
    resumed = Ingestor(settings, encoder).ingest([corpus], quiet=True)
    assert resumed.articles_unchanged > 0
    assert local_contents(settings) == clean


def _chroma_run(path: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(BIN / "chroma"),
            "run",
            "--path",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            f"{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, proc)
    except RuntimeError:
        stop(proc)
        raise
    return proc


@pytest.mark.server
def test_chroma_server_stopped_mid_ingest_then_restarted_resumes(abc, encoder, tmp_path):
    corpus, clean = abc
    port = free_port()
    settings = Settings.load(index=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=port)
    state = state_path(settings.store)
    server = _chroma_run(tmp_path / "server-data", port)
    try:
        ingest = subprocess.Popen(
            [
                *(str(BIN / "qa"), "ingest", str(corpus), "--quiet"),
                *("--index", str(settings.store.index), "--chroma-host", "127.0.0.1"),
                *("--chroma-port", str(port)),
            ],
            env={**os.environ, **INGEST_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 600
        while ingest.poll() is None and done_articles(state) == 0:
            assert time.monotonic() < deadline, "the ingest wrote nothing"
            time.sleep(0.05)
        # hold the ingest still while the server goes away, so it is surely midway
        ingest.send_signal(signal.SIGSTOP)
        assert 0 < done_articles(state) < ABC_ARTICLES
        stop(server)
        ingest.send_signal(signal.SIGCONT)
        out, err = ingest.communicate(timeout=600)
        message = one_line_error(
            subprocess.CompletedProcess(ingest.args, ingest.returncode, out, err)
        )
        assert f"cannot reach Chroma server 127.0.0.1:{port}" in message
        assert "run `qa ingest` again, it resumes" in message

        server = _chroma_run(tmp_path / "server-data", port)
        resumed = Ingestor(settings, encoder).ingest([corpus], quiet=True)
        assert resumed.articles_unchanged > 0
        client = chromadb.HttpClient(host="127.0.0.1", port=port)
        assert contents(client.get_collection(settings.store.collection), state) == clean
    finally:
        stop(server)


def _postgres_under(pid: int) -> list[int]:
    return descendants(pid, lambda argv: argv[0].endswith(b"/postgres") and b"-D" in argv)


@pytest.mark.slow
@pytest.mark.server
def test_a_terminated_benchmark_leaves_no_server_or_folder_behind(tmp_path, request):
    """`kill` (SIGTERM) stops qa the way Ctrl-C does: the PostgreSQL server a shared-mode
    benchmark started, and its data folder, go with it; one line, exit 143."""
    # the postgres user must be able to enter the server's folder: not under pytest's 0700 tmp
    temp = Path(tempfile.mkdtemp(prefix="qa-term-"))
    temp.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(temp, ignore_errors=True))
    proc = subprocess.Popen(
        [
            str(BIN / "qa"),
            "bench",
            "--quick",
            "--section",
            "shared",
            "--out",
            str(tmp_path / "out"),
        ],
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while not _postgres_under(proc.pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no PostgreSQL server was started"
            time.sleep(0.2)
        server = _postgres_under(proc.pid)
        assert list(temp.glob("qa-pg-*")), "the server's folder is in TMPDIR"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        leftovers = [p for p in server if Path(f"/proc/{p}").exists()]
        for pid in leftovers:  # a failing run must not leave its server to the next test
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 143, err[-2000:]
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "qa bench: terminated"
    assert not leftovers, "postgres left running"
    assert not list(temp.glob("qa-pg-*")), "the server's data folder left behind"
