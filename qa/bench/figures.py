"""Published figures written from results, never typed: `python -m qa.bench.figures
RESULTS.json [--readme README.md]` replaces the block between `<!-- figures:seeds -->` and
`<!-- /figures:seeds -->` in the README with the table of a `qa eval` run (`make figures`
runs the evaluation and this), headed by the commit and the command that produced it."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from qa.evaluation.report import fmt
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
    judges = results.get("judges") or []
    if judges:
        lines += [
            "",
            "Judge balanced accuracy on the labelled pairs: "
            + ", ".join(f"{j['name']} {fmt(j['balanced_accuracy'])}" for j in judges)
            + ".",
        ]
    return lines


def replace_block(text: str, name: str, lines: list[str]) -> str:
    start, end = f"<!-- figures:{name} -->", f"<!-- /figures:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {start} ... {end} block to replace")
    block = "\n".join([start, *lines, end])
    return pattern.sub(lambda _: block, text, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.figures")
    parser.add_argument("results", type=Path, help="results.json of a qa eval run")
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--block", default="seeds")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text("utf-8"))
        text = replace_block(args.readme.read_text("utf-8"), args.block, table(results))
    except (OSError, ValueError, KeyError) as exc:
        print(f"figures: {exc}", file=sys.stderr)
        return 2
    args.readme.write_text(text, "utf-8")
    print(f"figures: {args.readme} block {args.block!r} written from {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
