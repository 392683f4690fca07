"""`qa chat`: the chat page on http://127.0.0.1:7860 (Gradio), answering from the index."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from qa.commands.common import add_index_flags, add_model_flags, settings_from
from qa.errors import InputError, QAError

if TYPE_CHECKING:
    from qa.answer.assistant import Assistant


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("chat", help="open the chat page (Gradio) in a browser")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument(
        "--share",
        action="store_true",
        help="also open a public gradio.live link (needs internet; off by default)",
    )
    parser.add_argument("--auth", help="USER:PASSWORD required to open the page (or QA_AUTH)")
    parser.add_argument(
        "--uploads",
        type=Path,
        help="folder for articles added from the page (default: INDEX/uploads)",
    )
    parser.add_argument(
        "--allow-folders",
        action="store_true",
        default=None,
        help="let page users index server folders by path "
        "(on by default only when listening on loopback)",
    )
    add_model_flags(parser)
    add_index_flags(parser)
    parser.set_defaults(run=run)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """ "user:password" -> (user, password); None when not given."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise InputError("--auth / QA_AUTH must look like USER:PASSWORD (both non-empty)")
    return user, password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from qa.answer.assistant import Assistant

    auth = parse_auth(args.auth or os.environ.get("QA_AUTH"))
    local = is_loopback(args.host) and not args.share
    if not local and auth is None:
        print(
            f"warning: the page on {args.host} is reachable by others and has no password: "
            "anyone who reaches it can ask questions and add articles; set --auth USER:PASS "
            "or QA_AUTH",
            file=sys.stderr,
        )
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} is not a port number (1-65535)")
    settings = settings_from(args)
    if args.fallback_extractive is None and not os.environ.get("QA_FALLBACK_EXTRACTIVE"):
        settings = settings.replace(fallback_extractive=True)  # the page keeps answering
    assistant = Assistant(settings)
    _warm_up(assistant)
    from qa.ui.app import build_app, launch

    allow = local if args.allow_folders is None else args.allow_folders
    app = build_app(assistant, uploads=args.uploads, allow_folders=allow)
    shown = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host
    print(
        f"qa chat: {assistant.model.name} on http://{shown}:{args.port}  (Ctrl+C stops)",
        file=sys.stderr,
        flush=True,
    )
    try:
        launch(app, host=args.host, port=args.port, share=args.share, auth=auth)
    except OSError as exc:
        raise InputError(
            f"cannot serve on {args.host}:{args.port} ({exc}): choose another --port"
        ) from None
    return 0


def _warm_up(assistant: Assistant) -> None:
    """Load models before the first question; a problem is a warning, the page still opens
    (an empty index can be filled from the page, another model chosen in its settings)."""
    assistant.encoder.warm_up()
    for step in (lambda: assistant.retriever, assistant.model.warm_up):
        try:
            step()
        except QAError as exc:
            print(f"warning: {exc}", file=sys.stderr, flush=True)
