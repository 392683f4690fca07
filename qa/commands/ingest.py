"""`qa ingest PATH...`: index a folder of articles (incremental, resumable)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.commands.common import add_index_flags, settings_from


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help="index articles (txt, md, html, json, jsonl)")
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders of articles")
    parser.add_argument("--prune", action="store_true", help="remove articles no longer present")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    add_index_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from qa.index.ingest import Ingestor

    settings = settings_from(args)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    summary = Ingestor(settings).ingest(
        args.paths, prune=args.prune, quiet=args.quiet or args.json, on_warning=warn
    )
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(
            f"{summary.articles_added} added, {summary.articles_updated} updated, "
            f"{summary.articles_unchanged} unchanged, {summary.articles_removed} removed, "
            f"{summary.files_skipped} skipped; {summary.chunks_added} chunks added, "
            f"{summary.chunks_total} in the index ({summary.seconds:.1f}s)"
        )
    return 0
