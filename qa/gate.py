"""The refusal gate: decide, before any model runs, that the passages cannot answer.

Two signals, both cheap: the best dense similarity between the question and a passage
(an off-topic question scores near zero), and the names the question asks about (a
question about "Brazil" cannot be answered from passages that never mention Brazil,
however close they are in topic).
"""

from __future__ import annotations

from qa.judge import name_found, names_in
from qa.retrieve import Retrieval


def refusal_reason(query: str, found: Retrieval, min_similarity: float) -> str:
    """Why the passages cannot answer `query`, or "" when they may."""
    if not found.passages:
        return "no passages matched"
    if found.best_similarity < min_similarity:
        return f"best passage similarity {found.best_similarity:.2f} < {min_similarity:.2f}"
    text = " ".join(p.text + " " + p.title for p in found.passages).lower()
    # The first word of a question is capitalised whatever it is, so it is not a name.
    rest = query.split(maxsplit=1)[1] if " " in query.strip() else ""
    missing = sorted(n for n in names_in(rest) if not name_found(n, text))
    if missing:
        return f"no passage mentions {missing[0]!r}"
    return ""
