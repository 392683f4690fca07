"""Published figures written from results, never typed.

`python -m qa.bench.figures RESULTS.json --into FILE --block NAME --style STYLE`
replaces the block between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` in FILE,
headed by the commit and the command that produced the results:

- `table`: the README's short table of a `qa eval` run, one column per backend;
- `report`: a `qa eval` run's summary report (figures, raw vs checked, judges, by kind,
  red-team failures), for `eval/baseline.md`;
- `bench`: a `qa bench` run's tables, for BENCHMARKS.md;
- `soak`: `python -m qa.bench.soak --json` against a running `qa chat`, for README.md;
- `detector`: the hostile-text detector on attacks, hard negatives and ordinary sentences
  (`eval/hostile/detector.py --split both --json`), for `eval/baseline.md`.

`make figures` runs the evaluations and the benchmark and writes every block."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from qa.evaluation.report import checker_agreement, fmt
from qa.procs import commit

ROWS = (
    ("answer correctness (shown)", ("correctness",)),
    ("answer correctness (raw model answer)", ("raw_correctness",)),
    ("retrieval hit@k / MRR", ("hit@k", "mrr")),
    ("citation recall / precision", ("citation_recall", "citation_precision")),
    ("faithfulness", ("faithfulness",)),
    ("refusal precision / recall", ("refusal_precision", "refusal_recall")),
    ("sentences removed by the checker", ("checker_removed",)),
)


def table(results: dict[str, Any]) -> list[str]:
    names = list(results["backends"])
    measured = results.get("commit") or commit()
    lines = [
        f"Commit {measured}, `{results['command']}` ({results['questions']} questions, "
        f"judge: {results['judge']}, run {results['created'][:10]}):",
        "",
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for label, keys in ROWS:
        cells = [
            " / ".join(fmt(results["backends"][n]["totals"].get(k)) for k in keys) for n in names
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    rgb = results.get("rgb")
    if rgb:  # the external figure: noisy retrieval over RGB's pooled snippets
        cells = [fmt(rgb["backends"].get(n, {}).get("accuracy")) for n in names]
        label = f"RGB noisy retrieval accuracy ({rgb['questions']} questions, external)"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    agreement = [fmt(checker_agreement(results["backends"][n]["totals"])) for n in names]
    if any(a != fmt(None) for a in agreement):
        label = f"checker agrees with the {results['judge']} judge"
        lines.append(f"| {label} | " + " | ".join(agreement) + " |")
    judges = results.get("judges") or []
    if judges:
        lines += [
            "",
            "Judge balanced accuracy on the labelled pairs: "
            + ", ".join(f"{j['name']} {fmt(j['balanced_accuracy'])}" for j in judges)
            + ".",
        ]
    return lines


def _demoted(markdown: str) -> list[str]:
    """A report's headings one level down, its title and command line dropped (the block's
    own first line says them)."""
    lines = markdown.splitlines()
    out = []
    for line in lines[1:]:
        if line.startswith("Command: `"):
            continue
        out.append("#" + line if line.startswith("#") else line)
    while out and not out[0].strip():
        out.pop(0)
    return out


def _head(results: dict[str, Any], when: str) -> str:
    """ "Commit abc1234, `qa ...`, run 2026-12-04": what every block opens with."""
    measured = results.get("commit") or commit()
    return f"Commit {measured}, `{results.get('command', 'qa bench')}`, run {str(when)[:10]}"


def report_block(results: dict[str, Any]) -> list[str]:
    from qa.evaluation.report import markdown

    head = _head(results, results["created"]) + ":"
    return [head, "", *_demoted(markdown(results, per_question=False))]


def bench_block(results: dict[str, Any]) -> list[str]:
    from qa.bench.runner import markdown

    head = _head(results, results.get("started", "")) + (
        f", machine `{json.dumps(results.get('machine'))}`:"
    )
    body = [
        line for line in _demoted(markdown(results)) if not line.startswith(("Machine: `", "Run: "))
    ]
    while body and not body[0].strip():
        body.pop(0)
    return [head, "", *body]


def fair_block(results: dict[str, Any]) -> list[str]:
    """Only the fair answer comparison of a `qa bench --section answer` run (for README)."""
    from qa.bench.runner import fair_table

    fair = results["answer"]["fair_vs_citation_engine"]
    head = _head(results, results.get("started", "")) + (
        "; first token, ours vs CitationQueryEngine (answered questions, p50): "
        f"**{fair.get('answered_first_token_ratio')}x**."
    )
    return [head, "", *fair_table(fair)[2:]]


def detector_block(results: dict[str, Any]) -> list[str]:
    """Detection of attacks and false alarms on ordinary news, per split, and by style."""
    lines = [
        _head(results, results["created"]) + ":",
        "",
        "| split | attacks detected | hard negatives flagged "
        "| ordinary sentences flagged (false-positive rate) |",
        "|---|---|---|---|",
    ]
    for split, r in results["splits"].items():
        a, h, o = r["attacks"], r["hard_negatives"], r.get("ordinary")
        ordinary = f"{o['flagged']}/{o['of']:,} ({100 * o['rate']:.2f}%)" if o else "not measured"
        lines.append(
            f"| {split} | {a['detected']}/{a['of']} ({a['detected'] / max(1, a['of']):.2f}) "
            f"| {h['flagged']}/{h['of']} | {ordinary} |"
        )
    for split, r in results["splits"].items():
        for folder in ("extra", "extra2"):
            extra = r.get(folder)
            if not extra:
                continue
            a, h = extra["attacks"], extra["hard_negatives"]
            lines += [
                "",
                f"Later {split} set `eval/hostile/{folder}` (rules written from it, never a test "
                f"figure): attacks {a['detected']}/{a['of']} detected, hard negatives "
                f"{h['flagged']}/{h['of']} flagged.",
            ]
    test = results["splits"].get("test")
    if test:
        styles = ", ".join(f"{k} {v}" for k, v in test["attacks"]["by_kind"].items())
        lines += ["", f"Test detection by style: {styles}."]
    return lines


def soak_block(results: dict[str, Any]) -> list[str]:
    """`python -m qa.bench.soak --json`: load on a running `qa chat`, for README.md."""
    growth = results.get("rss_growth_pct")
    memory = (
        f"server RSS {results['rss_warm_mb']:.0f} MB after warm-up and "
        f"{results['rss_end_mb']:.0f} MB at the end"
        + ("" if growth is None else f" ({growth:+.1f}%)")
        if results.get("rss_warm_mb") is not None and results.get("rss_end_mb") is not None
        else "server memory not sampled"
    )
    return [
        _head(results, results.get("created", "")) + ":",
        "",
        f"{results['sessions']} sessions, {results['questions']} of {results['planned']} "
        f"questions in {results['seconds']:.0f} s (stopped: {results['stopped']}): "
        f"**{results['errors']} errors, {results['crossed']} crossed histories, "
        f"{results['bad']} wrong answers** ({results['refusals']} expected refusals), "
        f"{results['per_second']:.1f} questions/s, p50 {results['latency_p50']:.2f} s, p95 "
        f"{results['latency_p95']:.2f} s (queue wait included); {memory}.",
    ]


STYLES = {
    "soak": soak_block,
    "detector": detector_block,
    "table": table,
    "report": report_block,
    "bench": bench_block,
    "fair": fair_block,
}


def replace_block(text: str, name: str, lines: list[str]) -> str:
    start, end = f"<!-- figures:{name} -->", f"<!-- /figures:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {start} ... {end} block to replace")
    block = "\n".join([start, *lines, end])
    return pattern.sub(lambda _: block, text, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.figures")
    parser.add_argument("results", type=Path, help="results.json of a qa eval or qa bench run")
    parser.add_argument("--into", "--readme", dest="into", type=Path, default=Path("README.md"))
    parser.add_argument("--block", default="seeds")
    parser.add_argument("--style", choices=sorted(STYLES), default="table")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text("utf-8"))
        lines = STYLES[args.style](results)
        text = replace_block(args.into.read_text("utf-8"), args.block, lines)
    except (OSError, ValueError, KeyError) as exc:
        print(f"figures: {exc}", file=sys.stderr)
        return 2
    args.into.write_text(text, "utf-8")
    print(f"figures: {args.into} block {args.block!r} written from {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
