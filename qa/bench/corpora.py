"""Benchmark corpora that need no download: the seeds and gensim's 300 ABC news articles."""

from __future__ import annotations

from pathlib import Path

from qa.errors import InputError


def gensim_lee_path() -> Path:
    try:
        import gensim
    except ImportError:
        raise InputError("the benchmarks need gensim's ABC corpus: `pip install gensim`") from None
    return Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"


def write_abc_corpus(folder: Path, limit: int = 300) -> Path:
    """The ABC articles as one .txt file each (ids abc_000 ...), written once."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = gensim_lee_path().read_text("utf-8", errors="replace").splitlines()
    for i, line in enumerate(lines[:limit]):
        if line.strip():
            target = folder / f"abc_{i:03d}.txt"
            if not target.exists():
                target.write_text(line.strip() + "\n", "utf-8")
    return folder
