"""`qa ask QUESTION`: one answer with its citations, streamed, or as JSON with --json."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import TextIO

from qa.commands.common import add_index_flags, add_model_flags, settings_from


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ask", help="answer one question from the indexed articles")
    parser.add_argument("question", help="the question (quote it)")
    parser.add_argument("--json", action="store_true", help="print the Answer as JSON")
    parser.add_argument("--history", help="JSON file of earlier turns [{role, content}, ...]")
    parser.add_argument("--source", action="append", default=[], help="only this outlet (repeat)")
    parser.add_argument("--from", dest="date_from", default="", help="published on/after (ISO)")
    parser.add_argument("--to", dest="date_to", default="", help="published on/before (ISO)")
    add_model_flags(parser)
    add_index_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from qa.answer.assistant import Assistant
    from qa.errors import InputError

    try:
        args.question.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal's encoding could not decode
        raise InputError(
            "the question is not valid UTF-8 text: set a UTF-8 locale (e.g. LANG=C.UTF-8) "
            "and ask again"
        ) from None
    history = []
    if args.history:
        try:
            with open(args.history, encoding="utf-8") as handle:
                history = json.load(handle)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"--history {args.history!r} is not a readable JSON file ({exc})"
            ) from None
    assistant = Assistant(settings_from(args))
    stream = assistant.stream(
        args.question,
        history=history,
        sources=args.source,
        date_from=args.date_from,
        date_to=args.date_to,
    )
    if args.json:
        print(json.dumps(stream.result().to_dict(), indent=2, ensure_ascii=False))
        return 0
    live = sys.stdout.isatty()
    for piece in stream:
        if live:
            show(piece, end="", flush=True)
    answer = stream.result()
    if live:
        print("\n")  # the streamed draft above; the checked answer follows
    show(answer.text)
    if answer.standalone_query != answer.question:
        show(f"\n(searched for: {answer.standalone_query})")
    if answer.notice:
        show(f"\n⚠ {answer.notice}")
        for f in answer.flagged:
            show(f"    [{f.n}] {f.title}: “{f.text}”", file=sys.stderr)
    if answer.refused:
        if answer.nearest:
            print("\nNearest articles:")
        for a in answer.nearest:
            show(f"  - {a.title} ({a.source}, {a.published}) similarity {a.similarity:.2f}")
        return 0
    print()
    for c in answer.citations:
        show(f"[{c.n}] {c.title} — {c.source}, {c.published}{' ' + c.url if c.url else ''}")
        show(f"    “{c.quote}”")
    for s in answer.sentences:
        if not s.supported:
            show(f"(dropped, unsupported: {s.text!r}: {s.reason})", file=sys.stderr)
    return 0


# C0 and C1 control characters except tab and newline: article text is not ours, and an
# escape sequence in it must not drive the user's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def show(text: str, *, end: str = "\n", file: TextIO | None = None, flush: bool = False) -> None:
    """print() with control characters shown as escapes (\\x1b), never sent raw."""
    safe = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    print(safe, end=end, file=file or sys.stdout, flush=flush)
