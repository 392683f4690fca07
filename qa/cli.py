"""The `qa` command: parses flags, calls the library, turns QAError into one line, exit 2.

Each subcommand lives in its own module under `qa.commands`; this file only wires them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qa import offline
from qa.errors import QAError

COMMANDS = ("ingest", "ask", "chat", "eval", "bench", "doctor")


def build_parser() -> argparse.ArgumentParser:
    from importlib import import_module

    parser = argparse.ArgumentParser(
        prog="qa",
        description="Question answering over news articles, with verified citations.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"qa.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    offline.apply()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except QAError as exc:
        print(f"qa {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qa {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`qa ask ... | head -1`): stop quietly, as Unix tools do.
        # stdout is pointed at devnull so the interpreter's final flush cannot fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
