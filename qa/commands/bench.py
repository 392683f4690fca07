"""`qa bench`: ingest and answer benchmarks, each against a baseline in the same run."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="run the benchmarks and write a report")
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="output folder")
    parser.add_argument("--quick", action="store_true", help="small corpora, for CI")
    parser.add_argument(
        "--section",
        action="append",
        choices=("ingest", "answer"),
        help="run only this section (repeatable)",
    )
    parser.add_argument("--no-llm", action="store_true", help="skip the local-model answer figures")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from qa.bench import runner

    sections = tuple(args.section or runner.SECTIONS)
    results = runner.run(
        args.out, quick=args.quick, sections=sections, llm=not (args.no_llm or args.quick)
    )
    print(runner.markdown(results))
    print(f"written: {args.out / 'results.json'}, {args.out / 'results.md'}")
    return 0
