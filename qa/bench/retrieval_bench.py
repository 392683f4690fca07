"""Retrieval latency at scale: our dense, BM25 and hybrid paths against a bare Chroma query
of the same vector on the same collection, embedded or on a real `chroma run` server."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from qa.bench.scaled import SentencePool
from qa.index import Index
from qa.index.embedding import Encoder
from qa.index.keywords import KeywordIndex
from qa.retrieval.hybrid import HybridRetriever
from qa.settings import Settings

K = 5
PATHS = ("bare_chroma", "dense", "bm25", "hybrid")


def questions(pool: SentencePool, n: int, seed: int = 11) -> list[str]:
    """Short questions from pool sentences: 4 to 9 of a sentence's words, as a user types."""
    rng = random.Random(seed)
    out = []
    for sentence in rng.sample(pool.sentences, n):
        words = sentence.rstrip(".").split()
        start = rng.randrange(max(1, len(words) - 4))
        out.append(" ".join(words[start : start + rng.randint(4, 9)]) + "?")
    return out


def measure(
    index: Path,
    encoder: Encoder,
    texts: list[str],
    *,
    server: tuple[str, int] | None = None,
    keywords_url: str = "",
    repeats: int = 2,
) -> dict[str, Any]:
    """p50/p95/mean in ms for each path; query vectors are encoded beforehand (and cached),
    so every path is timed without the encoder, as the bare Chroma query is. With
    `keywords_url` the keyword index is the shared PostgreSQL one."""
    overrides: dict[str, Any] = {"index": index, "keywords_url": keywords_url}
    if server:
        overrides.update(chroma_host=server[0], chroma_port=server[1])
    settings = Settings.load(**overrides)
    opened = Index(settings.store, encoder.identity)
    store, state = opened.store, opened.keywords
    retriever = HybridRetriever(encoder, store, state)
    vectors = encoder.encode(texts)
    pool = max(4 * K, 20)
    paths: dict[str, Callable[[int], object]] = {
        "bare_chroma": lambda i: store.collection.query(
            query_embeddings=[vectors[i].tolist()], n_results=pool
        ),
        "dense": lambda i: store.query(vectors[i], pool, None),
        "bm25": lambda i: state.search(texts[i], pool),
        "hybrid": lambda i: retriever.retrieve(texts[i], K),
    }
    for i in range(min(5, len(texts))):  # warm caches and connections
        for run in paths.values():
            run(i)
    times: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for rep in range(repeats):
        for i in range(len(texts)):
            shift = (i + rep) % len(names)  # rotate the order: no path always goes first
            for name in names[shift:] + names[:shift]:
                started = time.perf_counter()
                paths[name](i)
                times[name].append((time.perf_counter() - started) * 1000)
    quality = bm25_quality(state, texts[:50], pool)
    state.close()
    out: dict[str, Any] = {"queries": len(texts) * repeats, "chunks": store.count()}
    out["bm25_overlap_vs_exact"] = quality.pop("overlap_vs_exact")
    out["bm25_vs_exhaustive"] = quality
    for name, values in times.items():
        out[name] = {
            "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2),
            "mean_ms": round(statistics.fmean(values), 2),
        }
    bare = out["bare_chroma"]["p95_ms"]
    for name in ("dense", "bm25", "hybrid"):
        out[f"{name}_p95_vs_bare"] = round(out[name]["p95_ms"] / bare, 2)
    return out


def bm25_quality(state: KeywordIndex, texts: list[str], n: int) -> dict[str, Any]:
    """Our BM25 top n against FTS5 scoring every chunk that holds a query word (the exact
    reference, and what a keyword search without impact lists costs):
    - overlap_vs_exact: mean share of the reference's top n that ours returns too;
    - top_n_correct: share of queries whose every result scores at least the reference's
      n-th score (a tie at the n-th place may be broken either way);
    - proven_exact: share of queries the early stop certified exact;
    - exhaustive p50/p95 ms: the reference's own time, for comparison with `bm25`."""
    shares, correct, proven, slow = [], 0, 0, []
    for text in texts:
        ours = state.search(text, n)
        proven += state.last_exact
        started = time.perf_counter()
        exact = state.search_exact(text, n)
        slow.append((time.perf_counter() - started) * 1000)
        if exact:
            shares.append(len({c for c, _ in ours} & {c for c, _ in exact}) / len(exact))
        nth = exact[-1][1] if len(exact) == n else 0.0
        correct += len(ours) == len(exact) and all(s >= nth - 1e-9 for _, s in ours)
    count = max(1, len(texts))
    return {
        "overlap_vs_exact": round(statistics.fmean(shares), 3) if shares else 1.0,
        "top_n_correct": round(correct / count, 3),
        "proven_exact": round(proven / count, 3),
        "exhaustive_p50_ms": round(statistics.median(slow), 2) if slow else 0.0,
        "exhaustive_p95_ms": round(float(np.percentile(slow, 95)), 2) if slow else 0.0,
    }


@contextmanager
def chroma_server(
    path: Path, port: int, started: Callable[[subprocess.Popen], None] | None = None
) -> Iterator[tuple[str, int]]:
    """A real `chroma run` on 127.0.0.1 over `path`, stopped afterwards; `started` gets the
    process once it answers (to read its memory)."""
    from qa.procs import stop, wait_http

    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_server_env(),
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 600, proc)
        if started is not None:
            started(proc)
        yield "127.0.0.1", port
    finally:
        stop(proc)


def _server_env() -> dict[str, str]:
    import os

    return {**os.environ, "ANONYMIZED_TELEMETRY": "False", "CHROMA_TELEMETRY": "False"}
