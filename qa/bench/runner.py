"""`qa bench`: run the benchmark sections, write results.json and results.md under a folder."""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from qa.bench import answer_bench, ingest_bench
from qa.embedding import Encoder
from qa.settings import Settings

SECTIONS = ("ingest", "answer")


def machine() -> dict[str, Any]:
    import os

    import torch

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def run(out: Path, *, quick: bool, sections: tuple[str, ...], llm: bool) -> dict[str, Any]:
    encoder = Encoder()
    encoder.warm_up()
    results: dict[str, Any] = {
        "machine": machine(),
        "quick": quick,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "ingest" in sections:
            results["ingest"] = ingest_bench.run(work, encoder, limit=40 if quick else 300)
        if "answer" in sections:
            results["answer"] = _answer(work, encoder, quick=quick, llm=llm)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(markdown(results))
    return results


def _answer(work: Path, encoder: Encoder, *, quick: bool, llm: bool) -> dict[str, Any]:
    from qa.assistant import Assistant
    from qa.ingest import Ingestor

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    settings = Settings.load(index=work / "seed-index")
    Ingestor(settings, encoder).ingest([seeds], quiet=True)
    questions = answer_bench.SEED_QUESTIONS[:2] if quick else answer_bench.SEED_QUESTIONS
    out: dict[str, Any] = {"questions": len(questions)}
    extractive = Assistant(settings, llm="extractive", encoder=encoder)
    out["extractive"] = answer_bench.summarise(answer_bench.ours(extractive, questions))
    if llm:
        local = Assistant(settings, llm="llamacpp", encoder=encoder)
        local.warm_up()
        answer_bench.ours(local, questions[:1])  # warm the prompt cache like a running server
        out["llamacpp"] = answer_bench.summarise(answer_bench.ours(local, questions))
        llama = getattr(local.model, "llama")  # noqa: B009  (the llamacpp backend's model)
        rows = answer_bench.citation_engine(settings, local, questions, llama)
        out["citation_query_engine"] = answer_bench.summarise(rows)
        ours_first = out["llamacpp"]["first_token_p50"]
        base_first = out["citation_query_engine"]["first_token_p50"]
        out["first_token_speedup_vs_citation_engine"] = round(base_first / ours_first, 2)
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = ["# qa bench results", "", f"Machine: `{json.dumps(results['machine'])}`", ""]
    for section in ("ingest", "answer"):
        if section not in results:
            continue
        lines += [f"## {section}", "", "| figure | value |", "|---|---|"]
        for key, value in _flat(results[section]):
            lines.append(f"| {key} | {value} |")
        lines.append("")
    return "\n".join(lines)


def _flat(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.extend(_flat(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows
