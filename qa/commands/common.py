"""Flags shared by several subcommands and the Settings they map to."""

from __future__ import annotations

import argparse
from typing import Any

from qa.settings import Settings


def add_index_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("index")
    group.add_argument("--index", help="index folder (default: index/, or QA_INDEX)")
    group.add_argument("--collection", help="Chroma collection name (default: news)")
    group.add_argument("--chroma-host", help="use the Chroma server at this host instead")
    group.add_argument("--chroma-port", type=int, help="Chroma server port (default: 8000)")
    group.add_argument("--chroma-tenant", help="tenant on a shared or distributed Chroma")
    group.add_argument("--chroma-database", help="database on a shared or distributed Chroma")
    group.add_argument(
        "--keywords-url",
        help="postgresql://... : keep the manifest and keyword index in this database, shared "
        "by every qa instance (default: SQLite beside the index, or QA_KEYWORDS_URL)",
    )
    group.add_argument("--embedding-model", help="'bundled' (default), a folder or a model name")


def add_model_flags(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    """The answering flags; with `several`, --llm may be repeated (into `args.llms`)."""
    group = parser.add_argument_group("answering")
    if several:
        group.add_argument(
            "--llm",
            dest="llms",
            action="append",
            default=[],
            help="chat backend to evaluate (repeat to compare; default: extractive)",
        )
    else:
        group.add_argument(
            "--llm", help="chat backend: extractive (default), llamacpp, openai, ollama"
        )
    group.add_argument("--llm-model", help="GGUF path ('bundled', 'tiny') or server model name")
    group.add_argument("--openai-base-url", help="OpenAI-compatible base URL (…/v1)")
    group.add_argument("--llm-timeout", type=float, help="seconds before a backend counts as down")
    group.add_argument("--top-k", type=int, help="passages given to the model (default: 5)")
    group.add_argument(
        "--unsupported",
        choices=("drop", "flag"),
        help="what to do with sentences the checker cannot support",
    )
    group.add_argument(
        "--fallback-extractive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="answer extractively, marked as such, when the model backend fails or crashes "
        "(default: on in `qa chat`, off elsewhere)",
    )


_FLAG_SETTINGS = (
    "index",
    "collection",
    "chroma_host",
    "chroma_port",
    "chroma_tenant",
    "chroma_database",
    "keywords_url",
    "embedding_model",
    "llm",
    "llm_model",
    "openai_base_url",
    "llm_timeout",
    "top_k",
    "unsupported",
    "fallback_extractive",
)


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    flags = {name: getattr(args, name, None) for name in _FLAG_SETTINGS}
    if hasattr(args, "llms"):  # several backends: each is chosen per run, not by settings
        flags["llm"] = None
    return Settings.load(**flags, **extra)
