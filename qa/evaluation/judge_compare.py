"""Several judges side by side on labelled pairs: balanced accuracy, and accuracy by kind.

    python -m qa.evaluation.judge_compare eval/judge-general/test.jsonl \\
        --judge offline --judge cross-encoder --judge llamacpp [--json OUT]

Each judge sees every pair; a judge that cannot load is reported as such, not skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from qa.errors import QAError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.evaluation.judge_compare")
    parser.add_argument("pairs", type=Path, nargs="+", help="judge pair JSONL file(s)")
    parser.add_argument("--judge", action="append", dest="judges", help="repeatable")
    parser.add_argument("--json", type=Path, help="write the scores here")
    args = parser.parse_args(argv)
    from qa import offline
    from qa.index.embedding import Encoder
    from qa.settings import Settings

    from .dataset import load_judge_set
    from .judges import make_judge, score_judge

    offline.apply()
    try:
        pairs = [p for path in args.pairs for p in load_judge_set(path)]
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = Settings.load()
    encoder = Encoder.of(settings.embedding)
    rows = []
    for name in args.judges or ["offline"]:
        started = time.perf_counter()
        try:
            score = score_judge(make_judge(name, settings, encoder), pairs)
        except QAError as exc:
            print(f"{name}: cannot run: {exc}", file=sys.stderr)
            rows.append({"name": name, "error": str(exc)})
            continue
        row = asdict(score) | {"seconds": round(time.perf_counter() - started, 1)}
        rows.append(row)
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in row["by_kind"].items())
        print(
            f"{name}: balanced accuracy {row['balanced_accuracy']:.3f} on {row['n']} pairs "
            f"(TPR {row['true_positive_rate']:.2f}, TNR {row['true_negative_rate']:.2f}; "
            f"{row['seconds']} s) | {kinds}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        sources = [str(p) for p in args.pairs]
        args.json.write_text(json.dumps({"pairs": sources, "judges": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
