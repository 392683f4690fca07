"""qa: chat question answering over news articles, with verified sentence-level citations.

import qa
a = qa.answer("What did Shoigu say about military blocs?")
bot = qa.Assistant(llm="llamacpp", index="index/")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa import offline

offline.apply()

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "QAError",
    "Settings",
    "answer",
    "ingest",
]

if TYPE_CHECKING:
    from qa.answer.assistant import Assistant, answer
    from qa.errors import QAError
    from qa.index.ingest import ingest
    from qa.settings import Settings
    from qa.types import Answer, Citation

_LAZY = {
    "Assistant": "qa.answer.assistant",
    "answer": "qa.answer.assistant",
    "ingest": "qa.index.ingest",
    "Settings": "qa.settings",
    "QAError": "qa.errors",
    "Answer": "qa.types",
    "Citation": "qa.types",
}


def __getattr__(name: str) -> Any:
    # Heavy modules (torch, chromadb) load on first use, so `import qa` stays instant.
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
