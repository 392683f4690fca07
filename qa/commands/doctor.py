"""`qa doctor`: checks model files, the llama.cpp build against this CPU, a one-token
generation in a child process, the Chroma store or server and the index; a table with the
fix for each failure, or JSON with --json. Exit status 1 when any check fails."""

from __future__ import annotations

import argparse
import json

from qa.commands.common import add_index_flags, settings_from

_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "doctor", help="check models, the llama.cpp build, Chroma and the index; say the fix"
    )
    parser.add_argument(
        "--llm-model",
        default="",
        help="GGUF to try for the generation check: 'bundled' (default), 'tiny' or a path",
    )
    parser.add_argument(
        "--no-generate", action="store_true", help="skip the one-token generation check"
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    add_index_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from qa.commands.checks import as_dicts, run_checks

    settings = settings_from(args)
    checks = run_checks(settings, model=args.llm_model, generate=not args.no_generate)
    failed = [c for c in checks if c.status == "fail"]
    if args.json:
        print(json.dumps({"ok": not failed, "checks": as_dicts(checks)}, indent=2))
        return 1 if failed else 0
    width = max(len(c.name) for c in checks)
    for c in checks:
        took = f" ({c.seconds:.1f}s)" if c.seconds >= 0.5 else ""
        print(f"{c.name:<{width}}  {_MARK[c.status]:<4}  {c.detail}{took}")
    advice = [c for c in checks if c.fix and c.status in {"fail", "warn"}]
    if advice:
        print("\nto fix:")
        for c in advice:
            print(f"  {c.name}: {c.fix}")
    print(f"\n{len(failed)} failed" if failed else "\nall checks passed")
    return 1 if failed else 0
