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
        choices=("ingest", "answer", "scale", "server", "shared", "memory"),
        help="run only this section (repeatable); shared: a Chroma server with the "
        "PostgreSQL keyword index",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="scaled corpus sizes in chunks, comma-separated (default: 1000,10000,100000,"
        "1000000; --quick: 1000)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="where scaled indexes are built and kept (default: ~/.cache/qa/bench, or "
        "QA_BENCH_CACHE; --quick: a temporary folder)",
    )
    parser.add_argument("--no-llm", action="store_true", help="skip the local-model answer figures")
    parser.set_defaults(run=run)


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v.replace("_", "")) for v in value.split(",") if v.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError(
            f"{value!r}: give chunk counts of at least 100, comma-separated, e.g. 1000,10000"
        )
    return tuple(sorted(set(sizes)))


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from qa.bench import runner

    sections = tuple(args.section or runner.SECTIONS)
    results = runner.run(
        args.out,
        quick=args.quick,
        sections=sections,
        llm=not (args.no_llm or args.quick),
        sizes=args.sizes,
        cache=args.cache,
        command="qa " + shlex.join(sys.argv[1:]),
    )
    print(runner.markdown(results))
    written = ["results.json", "results.md", *results["plots"]]
    print("written: " + ", ".join(str(args.out / name) for name in written))
    return 0
