"""The `qa` command: parses flags, calls the library, turns QAError into one line, exit 2.

Each subcommand lives in its own module under `qa.commands`; this file only wires them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
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


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager or `kill` stopping qa), raised where the program stands, as
    Ctrl-C is: every `with` and `finally` runs, so an ingest stops between articles, and the
    servers and temporary folders qa started (a model process, a Chroma or PostgreSQL server
    of a benchmark) go with it instead of being left behind."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    offline.apply()
    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.run(args) or 0)
    except QAError as exc:
        print(f"qa {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print(f"qa {args.command}: terminated", file=sys.stderr)
        return 143
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
