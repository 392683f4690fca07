"""`qa eval SET.jsonl`: the grounding evaluation, with a report, JSON and CI thresholds.

Exit codes: 0 all thresholds met, 1 one or more missed (one line says which), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.commands.common import add_index_flags, add_model_flags, settings_from


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="measure answers, retrieval and citations")
    parser.add_argument("eval_set", type=Path, help="JSONL: id, question, answers, articles, ...")
    add_model_flags(parser, several=True)
    parser.add_argument(
        "--judge",
        default="llamacpp",
        help="judge for citation metrics: llamacpp (default: the bundled model asked yes/no, "
        "a method independent of the checker), another chat backend, or offline (the "
        "checker's own rules: then the scores are not independent)",
    )
    parser.add_argument(
        "--split",
        help="only the questions whose 'split' is this (e.g. test); default: all",
    )
    parser.add_argument(
        "--judge-set",
        type=Path,
        help="labelled judge pairs (default: judge.jsonl beside the eval set)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        help="ingest this folder first (default, into an empty index: the folder named like "
        "the set beside it, e.g. eval/redteam/, else seeds/)",
    )
    parser.add_argument("--rgb", type=Path, help="also run RGB en_fact.json (noisy retrieval)")
    parser.add_argument("--rgb-limit", type=int, help="ask only the first N RGB questions")
    parser.add_argument("--report", type=Path, help="write summary.md, report.html, results.json")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    limits = parser.add_argument_group("thresholds (exit 1 when one is missed)")
    for flag in (
        "correctness",
        "hit-rate",
        "mrr",
        "citation-recall",
        "citation-precision",
        "faithfulness",
        "refusal-precision",
        "refusal-recall",
        "redteam-pass",
        "judge-accuracy",
        "rgb-accuracy",
    ):
        limits.add_argument(f"--min-{flag}", type=float, metavar="X")
    limits.add_argument("--max-p95-latency", type=float, metavar="SECONDS")
    add_index_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from qa.evaluation.dataset import load_eval_set
    from qa.evaluation.suite import THRESHOLDS, EvalPlan, command_line, evaluate, unmet_thresholds

    items = load_eval_set(args.eval_set, args.split)  # bad input fails here, before any model loads
    judge_set = args.judge_set or (args.eval_set.parent / "judge.jsonl")
    if args.judge_set is not None and not judge_set.is_file():
        from qa.errors import InputError

        raise InputError(f"--judge-set {judge_set} does not exist")
    plan = EvalPlan(
        eval_set=args.eval_set,
        items=tuple(items),
        llms=tuple(args.llms or ["extractive"]),
        judge=args.judge,
        judge_set=judge_set if judge_set.is_file() else None,
        corpus=args.corpus,
        rgb=args.rgb,
        rgb_limit=args.rgb_limit,
        quiet=args.quiet,
        command=command_line(sys.argv[1:]),
        thresholds={k: v for k in THRESHOLDS if (v := getattr(args, k, None)) is not None},
    )
    results = evaluate(plan, settings_from(args))
    _output(results, args)
    failures = unmet_thresholds(results, plan.thresholds)
    if failures:
        print(f"qa eval: threshold not met: {'; '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def _output(results: dict, args: argparse.Namespace) -> None:
    from qa.evaluation import report

    if args.report:
        files = report.write(results, args.report)
        print("report: " + ", ".join(str(f) for f in files), file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print(report.markdown(results, per_question=False))
