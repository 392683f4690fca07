"""`qa ask QUESTION`: one answer with its citations, streamed, or as JSON with --json."""

from __future__ import annotations

import argparse
import json
import sys

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
    from qa.assistant import Assistant
    from qa.errors import InputError

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
            print(piece, end="", flush=True)
    answer = stream.result()
    if live:
        print("\n")  # the streamed draft above; the checked answer follows
    print(answer.text)
    if answer.standalone_query != answer.question:
        print(f"\n(searched for: {answer.standalone_query})")
    if answer.refused:
        if answer.nearest:
            print("\nNearest articles:")
        for a in answer.nearest:
            print(f"  - {a.title} ({a.source}, {a.published}) similarity {a.similarity:.2f}")
        return 0
    print()
    for c in answer.citations:
        print(f"[{c.n}] {c.title} — {c.source}, {c.published}{' ' + c.url if c.url else ''}")
        print(f"    “{c.quote}”")
    for s in answer.sentences:
        if not s.supported:
            print(f"(dropped, unsupported: {s.text!r}: {s.reason})", file=sys.stderr)
    return 0
