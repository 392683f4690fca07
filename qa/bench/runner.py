"""`qa bench`: run the benchmark sections, write results.json and results.md under a folder."""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from qa.bench import answer_bench, ingest_bench, plots, scale_bench, scaled
from qa.index.embedding import Encoder
from qa.procs import commit
from qa.settings import Settings

SECTIONS = ("ingest", "answer", "scale", "server", "shared", "memory")
SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000,)
# latency tables: (mode as printed, results section); "shared" is a Chroma server plus the
# PostgreSQL keyword index, as several instances share them
MODES = (("embedded", "scale"), ("server", "server"), ("shared", "shared"))


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


def run(
    out: Path,
    *,
    quick: bool,
    sections: tuple[str, ...],
    llm: bool,
    sizes: tuple[int, ...] | None = None,
    cache: Path | None = None,
    command: str = "",
) -> dict[str, Any]:
    """Runs the sections; writes results.json, results.md and the plots under `out`.
    Scaled indexes are built under `cache` (default: the bench cache, or a temporary folder
    in quick mode) and reused by later runs."""
    encoder = Encoder()
    encoder.warm_up()
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    results: dict[str, Any] = {
        "machine": machine(),
        "command": command,
        "commit": commit(),
        "quick": quick,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    queries = 40 if quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = cache or (work / "scaled" if quick else scaled.cache_root())
        if "ingest" in sections:
            results["ingest"] = ingest_bench.run(work, encoder, limit=40 if quick else 300)
        if "answer" in sections:
            results["answer"] = _answer(work, encoder, quick=quick, llm=llm)
        if "scale" in sections:
            results["scale"] = scale_bench.scale(sizes, encoder, root, queries)
        if "server" in sections:
            ingest_size = sizes[0] if quick else min(10_000, max(sizes))
            results["server"] = scale_bench.server(sizes, ingest_size, encoder, root, queries)
        if "shared" in sections:
            results["shared"] = scale_bench.shared(sizes, encoder, root, queries)
        if "memory" in sections:
            results["memory"] = scale_bench.memory(
                work,
                articles=40 if quick else 300,
                model="tiny" if quick or not llm else "",
                scale_result=results.get("scale"),
            )
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    out.mkdir(parents=True, exist_ok=True)
    results["plots"] = plots.write_all(results, out)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(markdown(results))
    return results


def _answer(work: Path, encoder: Encoder, *, quick: bool, llm: bool) -> dict[str, Any]:
    from qa.answer.assistant import Assistant
    from qa.index.ingest import Ingestor

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    settings = Settings.load(index=work / "seed-index")
    Ingestor(settings, encoder).ingest([seeds], quiet=True)
    questions = answer_bench.SEED_QUESTIONS[:2] if quick else answer_bench.SEED_QUESTIONS
    out: dict[str, Any] = {"questions": len(questions)}
    extractive = Assistant(settings, llm="extractive", encoder=encoder)
    out["extractive"] = answer_bench.summarise(answer_bench.ours(extractive, questions))
    if llm:
        # The model in its supervised child (the default) against the same model loaded in
        # this process: both warmed with one question outside the measured set.
        local = Assistant(settings, llm="llamacpp", encoder=encoder)
        local.warm_up()
        answer_bench.ours(local, (answer_bench.WARM_UP,))
        out["llamacpp"] = answer_bench.summarise(answer_bench.ours(local, questions))
        local.model.close()  # type: ignore[attr-defined]
        inproc = Assistant(settings.replace(llm_in_process=True), llm="llamacpp", encoder=encoder)
        inproc.warm_up()
        answer_bench.ours(inproc, (answer_bench.WARM_UP,))
        out["llamacpp_in_process"] = answer_bench.summarise(answer_bench.ours(inproc, questions))
        child_first = out["llamacpp"]["first_token_p50"]
        inproc_first = out["llamacpp_in_process"]["first_token_p50"]
        out["first_token_child_vs_in_process"] = round(child_first / inproc_first, 2)
        out["fair_vs_citation_engine"] = _fair(settings, inproc, quick)
    elif quick:
        # CI's quick run: the same fair comparison end to end with the tiny GGUF in process
        # (its figures are not published; they show the method runs on real objects).
        tiny_settings = settings.replace(llm_in_process=True, llm_model="tiny")
        tiny = Assistant(tiny_settings, llm="llamacpp", encoder=encoder)
        tiny.warm_up()
        out["fair_vs_citation_engine"] = _fair(tiny_settings, tiny, quick)
    return out


def _fair(settings: Settings, inproc: Any, quick: bool) -> dict[str, Any]:
    """The fair comparison: the same loaded weights in this process on both sides, both
    warmed by a question outside the measured set, then every question cold on both (state
    reset), in alternating order; refusals timed apart; correctness counted."""
    llama = getattr(inproc.model, "llama")  # noqa: B009  (the in-process llama.cpp model)
    engine = answer_bench.citation_engine(inproc, llama, settings)
    answer_bench.ours(inproc, (answer_bench.WARM_UP,))
    engine.query(answer_bench.WARM_UP).get_response()
    rows = answer_bench.fair_rows(inproc, engine, llama, answer_bench.bench_items(quick))
    fair: dict[str, Any] = {n: answer_bench.fair_summary(r) for n, r in rows.items()}
    fair["method"] = answer_bench.FAIR_METHOD
    ours_first = fair["ours"].get("answered_first_token_p50")
    theirs_first = fair["citation_engine"].get("answered_first_token_p50")
    if ours_first and theirs_first:
        fair["answered_first_token_ratio"] = round(theirs_first / ours_first, 2)
    return fair


def headline(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, goal) rows for the figures the issue sets goals for."""
    rows: list[tuple[str, str, str]] = []
    ingest = results.get("ingest")
    if ingest:
        rows += [
            ("ingest vs raw encoder", f"{ingest['ratio_vs_raw_encoder']}x", ">= 0.9x"),
            ("ingest vs llama-index from_documents", f"{ingest['ratio_vs_llama_index']}x", ""),
            ("unchanged re-ingest speedup", f"{ingest['reingest_speedup']}x", ">= 50x"),
        ]
    for mode, section in MODES:
        for size, data in results.get(section, {}).get("sizes", {}).items():
            latency = data["embedded"] if mode == "embedded" else data
            rows.append(
                (
                    f"hybrid p95 vs bare Chroma, {int(size):,} chunks, {mode}",
                    f"{latency['hybrid_p95_vs_bare']}x "
                    f"({latency['hybrid']['p95_ms']} vs {latency['bare_chroma']['p95_ms']} ms)",
                    "<= 3x at 1M" if mode in ("embedded", "shared") else "",
                )
            )
            if mode == "shared":
                rows.append(
                    (
                        f"shared keyword search recall@20 vs exhaustive BM25, {int(size):,} chunks",
                        f"{latency['bm25_overlap_vs_exact']}",
                        ">= 0.95 at 1M",
                    )
                )
    server = results.get("server", {}).get("ingest")
    if server:
        rows.append(("server ingest vs embedded", f"{server['server_vs_embedded']}x", ""))
    flat = results.get("server", {}).get("ingest_memory", {})
    sizes = [k for k in flat if k.isdigit()]
    if len(sizes) > 1:
        low, high = flat[sizes[0]], flat[sizes[-1]]
        rows.append(
            (
                f"ingest peak RSS, server mode, {int(sizes[-1]):,} vs {int(sizes[0]):,} chunks",
                f"{flat['ingest_peak_largest_vs_smallest']}x "
                f"({high['ingest_peak_rss_mb']} vs {low['ingest_peak_rss_mb']} MB)",
                "flat",
            )
        )
    answer = results.get("answer", {})
    if "first_token_child_vs_in_process" in answer:
        rows.append(
            (
                "first token p50, model in a child process vs in process",
                f"{answer['first_token_child_vs_in_process']}x "
                f"({answer['llamacpp']['first_token_p50']} vs "
                f"{answer['llamacpp_in_process']['first_token_p50']} s)",
                "",
            )
        )
    for name in ("extractive", "llamacpp", "llamacpp_in_process"):
        if name in answer:
            a = answer[name]
            rows.append(
                (
                    f"answer {name}: first token / total p50",
                    f"{a.get('first_token_p50')} / {a.get('total_p50')} s",
                    "",
                )
            )
    fair = answer.get("fair_vs_citation_engine")
    if fair:
        ours, theirs = fair["ours"], fair["citation_engine"]
        rows.append(
            (
                "answered first token p50, CitationQueryEngine vs ours (fair, cold)",
                f"{fair.get('answered_first_token_ratio')}x "
                f"({theirs.get('answered_first_token_p50')} vs "
                f"{ours.get('answered_first_token_p50')} s)",
                "",
            )
        )
        rows.append(
            (
                "correct, ours vs CitationQueryEngine",
                f"{ours['correct']}/{ours['questions']} vs "
                f"{theirs['correct']}/{theirs['questions']}",
                "",
            )
        )
    memory = results.get("memory")
    if memory:
        rows.append(("qa ingest peak RSS", f"{memory['ingest_peak_rss_mb']} MB", ""))
        for name in ("chat_extractive", "chat_llamacpp"):
            rows.append(
                (f"qa {name.replace('_', ' --llm ')} RSS", f"{memory[name]['rss_mb']} MB", "")
            )
    return rows


def markdown(results: dict[str, Any]) -> str:
    lines = ["# qa bench results", ""]
    if results.get("command"):
        lines += [f"Command: `{results['command']}`", ""]
    lines += [f"Machine: `{json.dumps(results['machine'])}`", ""]
    lines += [f"Run: {results['started']} to {results.get('finished', '')}", ""]
    lines += ["## Headline", "", "| figure | value | goal |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in headline(results)]
    lines.append("")
    if "scale" in results or "server" in results:
        lines += _latency_table(results)
    fair = results.get("answer", {}).get("fair_vs_citation_engine")
    if fair:
        lines += fair_table(fair)
    for section in SECTIONS:
        if section not in results:
            continue
        lines += [f"## {section}: every figure", "", "| figure | value |", "|---|---|"]
        for key, value in _flat(results[section]):
            lines.append(f"| {key} | {value} |")
        lines.append("")
    for name in results.get("plots", []):
        lines += [f"![{name}]({name})", ""]
    return "\n".join(lines)


def _latency_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Retrieval latency (ms; p50 / p95)",
        "",
        "| chunks | mode | bare Chroma | dense | BM25 | hybrid | hybrid p95 / bare |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, section in MODES:
        for size, data in results.get(section, {}).get("sizes", {}).items():
            lat = data["embedded"] if mode == "embedded" else data
            cells = [f"{lat[p]['p50_ms']} / {lat[p]['p95_ms']}" for p in retrieval_paths()]
            lines.append(
                f"| {int(size):,} | {mode} | "
                + " | ".join(cells)
                + f" | {lat['hybrid_p95_vs_bare']}x |"
            )
    lines += [
        "",
        "## BM25 against exhaustive FTS5 scoring (top 20, 50 questions)",
        "",
        "| chunks | mode | overlap | top 20 correct | proven exact | BM25 p50 / p95 ms "
        "| exhaustive p50 / p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, section in MODES:
        for size, data in results.get(section, {}).get("sizes", {}).items():
            lat = data["embedded"] if mode == "embedded" else data
            versus = lat.get("bm25_vs_exhaustive")
            if not versus:
                continue
            lines.append(
                f"| {int(size):,} | {mode} | {lat['bm25_overlap_vs_exact']} | "
                f"{versus['top_n_correct']} | {versus['proven_exact']} | "
                f"{lat['bm25']['p50_ms']} / {lat['bm25']['p95_ms']} | "
                f"{versus['exhaustive_p50_ms']} / {versus['exhaustive_p95_ms']} |"
            )
    return [*lines, ""]


def fair_table(fair: dict[str, Any]) -> list[str]:
    lines = [
        "## Answers: ours vs a plain CitationQueryEngine, the fair way",
        "",
        f"Method: {fair['method']}.",
        "",
        "| side | answerable right | unanswerable refused | answered: first token / total p50 "
        "| refused: first token / total p50 |",
        "|---|---|---|---|---|",
    ]
    for name, label in (
        ("ours", "qa (llamacpp, in process)"),
        ("citation_engine", "CitationQueryEngine"),
    ):
        s = fair[name]
        lines.append(
            f"| {label} | {s['answerable_correct']}/{s['answerable']} | "
            f"{s['unanswerable_refused']}/{s['unanswerable']} | "
            f"{s.get('answered_first_token_p50', '-')} / {s.get('answered_total_p50', '-')} s | "
            f"{s.get('refused_first_token_p50', '-')} / {s.get('refused_total_p50', '-')} s |"
        )
    return [*lines, ""]


def retrieval_paths() -> tuple[str, ...]:
    from qa.bench.retrieval_bench import PATHS

    return PATHS


def _flat(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.extend(_flat(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows
