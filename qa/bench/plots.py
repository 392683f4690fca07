"""PNG plots of a `qa bench` run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.bench.retrieval_bench import PATHS


def write_all(results: dict[str, Any], out: Path) -> list[str]:
    """Writes every plot the results allow; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    written = []
    for name, draw in (
        ("latency.png", _latency),
        ("ingest.png", _ingest),
        ("memory.png", _memory),
    ):
        if draw(results, out / name):
            written.append(name)
    return written


def _latency(results: dict[str, Any], target: Path) -> bool:
    import matplotlib.pyplot as plt

    series = []
    for mode, section in (("embedded", "scale"), ("server", "server")):
        sizes = results.get(section, {}).get("sizes", {})
        if sizes:
            rows = {int(k): (v["embedded"] if mode == "embedded" else v) for k, v in sizes.items()}
            series.append((mode, dict(sorted(rows.items()))))
    if not series:
        return False
    fig, axes = plt.subplots(1, len(series), figsize=(6 * len(series), 4.2), squeeze=False)
    for ax, (mode, rows) in zip(axes[0], series, strict=True):
        xs = list(rows)
        for path in PATHS:
            ax.plot(xs, [rows[x][path]["p95_ms"] for x in xs], marker="o", label=path)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("chunks in the index")
        ax.set_ylabel("p95 latency (ms)")
        ax.set_title(f"retrieval p95, Chroma {mode}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return True


def _ingest(results: dict[str, Any], target: Path) -> bool:
    bars: dict[str, float] = {}
    ingest = results.get("ingest")
    if not ingest:
        return False
    bars["raw encoder\n(the limit)"] = ingest["raw_encoder_chunks_per_s"]
    bars["qa ingest"] = ingest["ingest_chunks_per_s"]
    if ingest.get("llama_index_chunks_per_s"):
        bars["llama-index\nfrom_documents"] = ingest["llama_index_chunks_per_s"]
    title = f"ingest of {ingest['chunks']} ABC chunks (real encoder)"
    colors = ["#999", "#2a6", "#46c"][: len(bars)]
    return _bars(bars, target, "chunks per second", title, colors, width=6)


def _memory(results: dict[str, Any], target: Path) -> bool:
    memory = results.get("memory")
    if not memory:
        return False
    bars = {"qa ingest\n(ABC)": memory["ingest_peak_rss_mb"]}
    for size, mb in memory.get("scaled_build_peak_rss_mb", {}).items():
        bars[f"ingest\n{int(size):,} chunks"] = mb
    bars["qa chat\nextractive"] = memory["chat_extractive"]["rss_mb"]
    bars[f"qa chat\n{memory['chat_llamacpp']['model']} model"] = memory["chat_llamacpp"]["rss_mb"]
    title = "peak RSS of ingest, RSS of a serving chat page"
    return _bars(bars, target, "resident memory (MB)", title, "#46c", max(6, 1.3 * len(bars)))


def _bars(
    bars: dict[str, float], target: Path, ylabel: str, title: str, color: Any, width: float
) -> bool:
    """A labelled bar chart, each bar's value written on top."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, 4))
    ax.bar(list(bars), list(bars.values()), color=color)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    for i, value in enumerate(bars.values()):
        ax.annotate(f"{value:.0f}", (i, value), ha="center", va="bottom")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return True
