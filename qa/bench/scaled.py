"""Scaled corpora of 10k to 1M chunks, built from the real sentences of gensim's ABC articles.

Encoding a million chunks with the real model would take about eleven hours on two cores,
so the scaled corpora reuse real vectors instead:

- every sentence of the 300 ABC articles is encoded once with the real model (the pool);
- an article is a random run of 8 to 30 pool sentences, with its own id, outlet and date,
  so word and sentence statistics stay those of real news;
- a chunk's vector is the normalised mean of the real vectors of the pool sentences it
  holds, plus Gaussian noise (about 0.93 cosine to the clean mean), seeded by the chunk text
  so a rebuild gives the same vectors.

Everything else is the real ingest path: the same loaders, chunker, Chroma collection and
FTS5 keyword index. Only `encode_batch` is replaced. Built indexes are cached under
`~/.cache/qa/bench/` (or `QA_BENCH_CACHE`), keyed by size and generator version.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from qa.bench.corpora import gensim_lee_path
from qa.index.embedding import Encoder
from qa.text.sentences import sentence_spans
from qa.types import Article

VERSION = 1
NOISE = 0.3
ARTICLES_PER_FILE = 1000
OUTLETS = (
    "ABC News",
    "Harbour Herald",
    "Inland Courier",
    "Coastal Times",
    "Capital Wire",
    "Northern Star",
    "Valley Gazette",
    "Metro Daily",
)


def cache_root() -> Path:
    root = os.environ.get("QA_BENCH_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "qa" / "bench"


class SentencePool:
    """The ABC sentences with their real vectors and token counts, computed once."""

    def __init__(self, sentences: list[str], vectors: np.ndarray, tokens: list[int]) -> None:
        self.sentences = sentences
        self.vectors = vectors
        self.tokens = dict(zip(sentences, tokens, strict=True))
        self.index = {s: i for i, s in enumerate(sentences)}

    @classmethod
    def load(cls, encoder: Encoder, cache: Path | None = None) -> SentencePool:
        lines = gensim_lee_path().read_text("utf-8", errors="replace").splitlines()
        found: dict[str, None] = {}
        for line in lines:
            text = line.strip()
            for a, b in sentence_spans(text):
                sentence = text[a:b]
                if 30 <= len(sentence) <= 400 and sentence[0].isupper():
                    found[sentence] = None
        sentences = list(found)
        digest = hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:12]
        target = (cache or cache_root()) / f"pool-{digest}-{encoder.identity[-12:]}.npy"
        if target.exists():
            vectors = np.load(target)
        else:
            vectors = np.asarray(encoder.encode_batch(sentences), dtype=np.float32)
            target.parent.mkdir(parents=True, exist_ok=True)
            np.save(target, vectors)
        return cls(sentences, vectors, encoder.count_tokens(sentences))


class ScaledEncoder:
    """Stands in for `Encoder` during a scaled ingest: real token counts (cached for pool
    sentences), vectors made from the pool's real vectors instead of running the model."""

    def __init__(self, encoder: Encoder, pool: SentencePool) -> None:
        self.encoder = encoder
        self.pool = pool
        self.identity = encoder.identity
        self.batch_size = encoder.batch_size

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        known = self.pool.tokens
        missing = [t for t in texts if t not in known]
        extra = dict(zip(missing, self.encoder.count_tokens(missing), strict=True))
        return [known[t] if t in known else extra[t] for t in texts]

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        dim = self.pool.vectors.shape[1]
        out = np.empty((len(texts), dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = [
                self.pool.index[text[a:b]]
                for a, b in sentence_spans(text)
                if text[a:b] in self.pool.index
            ]
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            rng = np.random.default_rng(seed)
            if ids:
                base = self.pool.vectors[ids].mean(axis=0)
            else:
                base = self.pool.vectors[int(rng.integers(len(self.pool.sentences)))]
            base = base / np.linalg.norm(base)
            vector = base + rng.normal(0.0, NOISE / np.sqrt(dim), dim)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_batch(texts)


def write_corpus(folder: Path, pool: SentencePool, chunks: int, seed: int = 7) -> dict[str, int]:
    """JSONL files of recombined articles, about `chunks` chunks in all (estimated from
    token counts with the chunker's own limits). Returns articles and estimated chunks."""
    from qa.corpus.chunking import Chunker

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    chunker = Chunker(count_tokens=lambda texts: [pool.tokens.get(t, 40) for t in texts])
    first_day = date(2000, 1, 1).toordinal()
    total = articles = 0
    handle = None
    try:
        while total < chunks:
            if articles % ARTICLES_PER_FILE == 0:
                if handle:
                    handle.close()
                handle = (folder / f"part-{articles // ARTICLES_PER_FILE:05d}.jsonl").open(
                    "w", encoding="utf-8"
                )
            start = rng.randrange(len(pool.sentences))
            count = rng.randint(8, 30)
            positions = [start]
            for _ in range(count - 1):
                positions.append(positions[-1] + rng.randint(1, 3))
            picked = [pool.sentences[p % len(pool.sentences)] for p in positions]
            text = " ".join(picked)
            title = " ".join(picked[0].split()[:10]).rstrip(",.;:")
            record = {
                "id": f"scaled-{articles:07d}",
                "title": title,
                "source": OUTLETS[articles % len(OUTLETS)],
                "published": date.fromordinal(first_day + rng.randrange(9000)).isoformat(),
                "text": text,
            }
            n = len(chunker.chunk(Article(record["id"], title, "", "", "", text, "")))
            total += n
            articles += 1
            assert handle is not None
            handle.write(json.dumps(record) + "\n")
    finally:
        if handle:
            handle.close()
    return {"articles": articles, "chunks_estimated": total}


def scaled_folder(size: int, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"scaled-{size}-v{VERSION}"


def corpus_folder(size: int, pool: SentencePool, root: Path | None = None) -> Path:
    """The corpus files of the scaled size (written once, `corpus.json` marks them done),
    without building an index: a run that ingests them its own way needs only these."""
    folder = scaled_folder(size, root)
    marker = folder / "corpus.json"
    if not marker.exists():
        shutil.rmtree(folder / "corpus", ignore_errors=True)
        info = write_corpus(folder / "corpus", pool, size)
        marker.write_text(json.dumps(info))
    return folder / "corpus"


def build(size: int, encoder: Encoder, *, root: Path | None = None, **settings: Any) -> Path:
    """The folder of a built scaled index of about `size` chunks, built once and reused."""
    from qa.index.ingest import Ingestor
    from qa.settings import Settings

    folder = scaled_folder(size, root)
    marker = folder / "built.json"
    if marker.exists():
        return folder
    shutil.rmtree(folder / "index", ignore_errors=True)
    pool = SentencePool.load(encoder, root)
    started = time.perf_counter()
    corpus_folder(size, pool, root)
    corpus_info = json.loads((folder / "corpus.json").read_text())
    written = time.perf_counter() - started
    config = Settings.load(index=folder / "index", **settings)
    summary = Ingestor(config, ScaledEncoder(encoder, pool)).ingest(  # type: ignore[arg-type]
        [folder / "corpus"], quiet=True
    )
    info = {
        **corpus_info,
        "chunks": summary.chunks_total,
        "corpus_seconds": round(written, 2),
        "ingest_seconds": summary.seconds,
        "ingest_chunks_per_s": round(summary.chunks_added / max(summary.seconds, 1e-9), 1),
    }
    info["peak_rss_mb"] = peak_rss_mb()
    info["index_bytes"] = folder_bytes(folder / "index")
    marker.write_text(json.dumps(info, indent=2))
    return folder


def built_info(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "built.json").read_text()))


def peak_rss_mb() -> float:
    """This process's own peak resident memory so far (VmHWM: unlike getrusage, it does not
    carry the parent's peak over fork and exec)."""
    from qa.procs import rss_mb

    return rss_mb(os.getpid())["peak_rss_mb"]


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def build_in_subprocess(
    size: int, root: Path | None = None, chroma: tuple[str, int] | None = None
) -> dict[str, Any]:
    """Build (or reuse) one scaled index in a fresh process, so its peak memory is its own;
    returns its `built.json`. With `chroma`, the vectors go to that server."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "qa.bench.scaled", "--one", str(size)]
    if root is not None:
        cmd += ["--root", str(root)]
    if chroma is not None:
        cmd += ["--chroma", f"{chroma[0]}:{chroma[1]}"]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m qa.bench.scaled [--root DIR] SIZE...`: build scaled indexes, each in a
    fresh process."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m qa.bench.scaled")
    parser.add_argument("sizes", nargs="+", type=int, help="chunks, e.g. 10000 100000")
    parser.add_argument("--root", type=Path, help=f"where to build (default: {cache_root()})")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--chroma", help="HOST:PORT of a `chroma run` to hold the vectors")
    args = parser.parse_args(argv)
    if args.one:
        encoder = Encoder()
        encoder.warm_up()
        server: dict[str, Any] = {}
        if args.chroma:
            host, _, port = args.chroma.rpartition(":")
            server = {"chroma_host": host, "chroma_port": int(port)}
        folder = build(args.sizes[0], encoder, root=args.root, **server)
        print(json.dumps(built_info(folder)), flush=True)
        return
    for size in args.sizes:
        print(json.dumps({"size": size, **build_in_subprocess(size, args.root)}), flush=True)


if __name__ == "__main__":
    main()
