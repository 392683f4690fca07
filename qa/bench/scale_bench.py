"""The scale, server and memory sections of `qa bench`.

- scale: scaled indexes of 1k to 1M chunks (built once, cached), each built in a fresh
  process (its ingest rate, peak memory and size on disk), then retrieval latency of our
  dense, BM25 and hybrid paths against a bare Chroma query of the same vector;
- server: the same latency against a real `chroma run` on 127.0.0.1 over the same folder,
  and the ingest rate of one scaled corpus into an embedded store and into a server;
- memory: peak RSS of `qa ingest` on the ABC articles, and the RSS of a running `qa chat`
  with the extractive backend and with the local model loaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa import procs as net
from qa.bench import retrieval_bench, scaled
from qa.bench.corpora import write_abc_corpus
from qa.index.embedding import Encoder


def scale(
    sizes: Sequence[int], encoder: Encoder, root: Path | None, queries: int
) -> dict[str, Any]:
    """Per size: the build's figures and the embedded latency of every retrieval path."""
    pool = scaled.SentencePool.load(encoder, root)
    texts = retrieval_bench.questions(pool, queries)
    out: dict[str, Any] = {"queries_per_size": queries, "sizes": {}}
    for size in sizes:
        info = scaled.build_in_subprocess(size, root)
        folder = scaled.scaled_folder(size, root)
        latency = retrieval_bench.measure(folder / "index", encoder, texts)
        size_now = scaled.folder_bytes(folder / "index")  # as served (an older build upgraded)
        out["sizes"][str(size)] = {
            "chunks": info["chunks"],
            "articles": info["articles"],
            "build_chunks_per_s": info["ingest_chunks_per_s"],
            "build_peak_rss_mb": info["peak_rss_mb"],
            "index_mb": round(size_now / 1e6, 1),
            "index_mb_per_1k_chunks": round(size_now / 1e3 / info["chunks"], 3),
            "embedded": latency,
        }
    return out


def server(
    sizes: Sequence[int], ingest_size: int, encoder: Encoder, root: Path | None, queries: int
) -> dict[str, Any]:
    """Latency over a real `chroma run` per size, and embedded against server ingest."""
    pool = scaled.SentencePool.load(encoder, root)
    texts = retrieval_bench.questions(pool, queries)
    out: dict[str, Any] = {"queries_per_size": queries, "sizes": {}}
    for size in sizes:
        scaled.build_in_subprocess(size, root)
        index = scaled.scaled_folder(size, root) / "index"
        with retrieval_bench.chroma_server(index / "chroma", net.free_port()) as address:
            out["sizes"][str(size)] = retrieval_bench.measure(index, encoder, texts, server=address)
    out["ingest"] = server_ingest(ingest_size, encoder, pool, root)
    out["ingest_memory"] = ingest_memory([s for s in sizes if s <= INGEST_MEMORY_MAX] or [1000])
    return out


def shared(
    sizes: Sequence[int], encoder: Encoder, root: Path | None, queries: int
) -> dict[str, Any]:
    """Server mode shared by several instances: vectors in a real `chroma run`, manifest and
    keyword index in a real PostgreSQL (qa/index/pg_keywords.py). Per size, the scaled
    corpus is ingested afresh with the PostgreSQL keyword index (its rate), then every path
    is timed against a bare Chroma query on the server, and the keyword search is compared
    with exhaustive BM25 over every posting (recall of the top 20)."""
    from qa.procs import postgres_server

    pool = scaled.SentencePool.load(encoder, root)
    texts = retrieval_bench.questions(pool, queries)
    out: dict[str, Any] = {"queries_per_size": queries, "sizes": {}}
    for size in sizes:
        corpus = scaled.corpus_folder(size, pool, root)  # the files, not the embedded build
        # a server's usual memory for its own cache (Debian's default is 128 MB)
        with tempfile.TemporaryDirectory() as tmp, postgres_server(PG_SETTINGS) as url:
            index = Path(tmp) / "index"
            built = _ingest_shared(corpus, index, url, encoder, pool)
            with retrieval_bench.chroma_server(index / "chroma", net.free_port()) as address:
                latency = retrieval_bench.measure(
                    index, encoder, texts, server=address, keywords_url=url
                )
        out["sizes"][str(size)] = {**latency, "ingest": built}
    return out


PG_SETTINGS = ("-c", "shared_buffers=2GB")


def _ingest_shared(
    corpus: Path, index: Path, url: str, encoder: Encoder, pool: scaled.SentencePool
) -> dict[str, Any]:
    from qa.index.ingest import Ingestor
    from qa.settings import Settings

    fake = scaled.ScaledEncoder(encoder, pool)
    settings = Settings.load(index=index, keywords_url=url)
    done = Ingestor(settings, fake).ingest([corpus], quiet=True)  # type: ignore[arg-type]
    return {
        "chunks": done.chunks_total,
        "chunks_per_s": round(done.chunks_added / max(done.seconds, 1e-9), 1),
    }


INGEST_MEMORY_MAX = 100_000  # a fresh server-mode build per size; 1M would take an hour


def ingest_memory(sizes: Sequence[int]) -> dict[str, Any]:
    """Peak RSS of a streaming ingest of each scaled size into a fresh `chroma run`: with
    the vector index (HNSW, which grows with the corpus) in the server, what is left is
    the ingest's own memory, which should not grow with the corpus."""
    out: dict[str, Any] = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "data").mkdir()
            procs: list[subprocess.Popen] = []
            with retrieval_bench.chroma_server(work / "data", net.free_port(), procs.append) as at:
                info = scaled.build_in_subprocess(size, work / "build", chroma=at)
                server = net.rss_mb(procs[0].pid)
            out[str(size)] = {
                "chunks": info["chunks"],
                "ingest_chunks_per_s": info["ingest_chunks_per_s"],
                "ingest_peak_rss_mb": info["peak_rss_mb"],
                "server_rss_mb": server.get("rss_mb", 0.0),
            }
    peaks = [v["ingest_peak_rss_mb"] for v in out.values()]
    if len(peaks) > 1:
        out["ingest_peak_largest_vs_smallest"] = round(peaks[-1] / peaks[0], 3)
    return out


def server_ingest(
    size: int, encoder: Encoder, pool: scaled.SentencePool, root: Path | None
) -> dict[str, Any]:
    """The same scaled corpus ingested into a fresh embedded store and a fresh server."""
    from qa.index.ingest import Ingestor
    from qa.settings import Settings

    scaled.build_in_subprocess(size, root)
    corpus = scaled.scaled_folder(size, root) / "corpus"
    fake = scaled.ScaledEncoder(encoder, pool)
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        embedded = Ingestor(Settings.load(index=work / "embedded"), fake)  # type: ignore[arg-type]
        done = embedded.ingest([corpus], quiet=True)
        rates["embedded"] = done.chunks_added / max(done.seconds, 1e-9)
        (work / "server-data").mkdir()
        with retrieval_bench.chroma_server(work / "server-data", net.free_port()) as (host, port):
            settings = Settings.load(index=work / "server", chroma_host=host, chroma_port=port)
            done = Ingestor(settings, fake).ingest([corpus], quiet=True)  # type: ignore[arg-type]
            rates["server"] = done.chunks_added / max(done.seconds, 1e-9)
    return {
        "chunks": done.chunks_added,
        "embedded_chunks_per_s": round(rates["embedded"], 1),
        "server_chunks_per_s": round(rates["server"], 1),
        "server_vs_embedded": round(rates["server"] / rates["embedded"], 3),
    }


def memory(work: Path, *, articles: int, model: str, scale_result: dict[str, Any] | None) -> dict:
    """Peak RSS of `qa ingest` (a fresh process), RSS of `qa chat` once it serves."""
    qa = str(Path(sys.executable).with_name("qa"))
    corpus = write_abc_corpus(work / "memory-abc", articles)
    index = work / "memory-index"
    shutil.rmtree(index, ignore_errors=True)
    code, peak = net.run_peak_rss([qa, "ingest", str(corpus), "--index", str(index), "--quiet"])
    if code != 0:
        raise RuntimeError(f"qa ingest exited with {code}")
    out: dict[str, Any] = {"ingest_articles": articles, "ingest_peak_rss_mb": peak}
    for llm, gguf in (("extractive", ""), ("llamacpp", model)):
        out[f"chat_{llm}"] = chat_rss(qa, index, llm, gguf)
    out["chat_llamacpp"]["model"] = model or "bundled"
    if scale_result:
        builds = {k: v["build_peak_rss_mb"] for k, v in scale_result["sizes"].items()}
        out["scaled_build_peak_rss_mb"] = builds
        if len(builds) > 1:
            values = list(builds.values())
            out["scaled_build_rss_largest_vs_smallest"] = round(values[-1] / values[0], 2)
    return out


def chat_rss(qa: str, index: Path, llm: str, model: str) -> dict[str, float]:
    """Start `qa chat` on a free port, wait until the page answers (the model is loaded
    before it serves), ask once through the page's API, read its RSS with its model
    process's, stop it."""
    port = net.free_port()
    env = {**os.environ, "QA_LLM_MODEL": model} if model else dict(os.environ)
    cmd = [qa, "chat", "--index", str(index), "--llm", llm, "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        started = time.perf_counter()
        net.wait_http(f"http://127.0.0.1:{port}/", 900, proc)
        ready = time.perf_counter() - started
        _ask(port)
        return {"startup_s": round(ready, 1), **net.tree_rss_mb(proc.pid)}
    finally:
        net.stop(proc)


def _ask(port: int) -> None:
    """One question through the page's own API, so the figures include a served answer."""
    from gradio_client import Client

    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    # question, top k, outlets, date from, date to, flag unsupported (as qa.bench.soak asks)
    client.predict("Who is Zhang Youxia?", 5, [], "", "", False, api_name="/ask")
