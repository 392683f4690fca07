"""The refusal gate: decide, before any model runs, that the passages cannot answer.

Three signals, all general:
- the best dense similarity between the question and a passage (an off-topic question
  scores near zero);
- the names and numbers the question is about (from spaCy's entities and text2num): a
  question about the 88th ceremony, or about "Brazil", cannot be answered from passages
  that never mention them, however close in topic;
- answerability: among the passage sentences that bear most on the question, one must
  hold what it asks for (a person for "who", a date for "when", a sum for "how much", the
  population for "what is the population of ...": see qa.text.question).
The same reading, after the model, tells an answer that gives no such thing
(`unanswered`): a checked sentence about the topic that leaves the question open.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.grounding.judge import Embedder
from qa.retrieval.hybrid import Retrieval
from qa.text import language
from qa.text.question import about, analyse, holds
from qa.text.sentences import split_sentences

# How many of the most relevant passage sentences may hold the answer (set on the
# development split of eval/general).
SLOT_WINDOW = 6
# Kinds of question whose answer is a thing of a kind a parse can see (qa.text.question).
_TYPED = frozenset({"person", "date", "number", "amount", "place"})


def refusal_reason(
    query: str,
    found: Retrieval,
    min_similarity: float,
    embedder: Embedder | None = None,
    window: int = SLOT_WINDOW,
) -> str:
    """Why the passages cannot answer `query`, or "" when they may."""
    if not found.passages:
        return "no passages matched"
    if found.best_similarity < min_similarity:
        return f"best passage similarity {found.best_similarity:.2f} < {min_similarity:.2f}"
    text = " ".join(p.text + " " + p.title for p in found.passages).lower()
    asked = analyse(query)
    # A nationality or group word ("the Frenchman") describes; it need not be in the text.
    missing = sorted(
        n.text for n in asked.names if n.label != "NORP" and not language.name_in(n, text)
    )
    if missing:
        return f"no passage mentions {missing[0]!r}"
    stated = language.numbers(text)
    numbers = sorted(asked.numbers - stated)
    if numbers:
        return f"no passage mentions {numbers[0]}"
    if embedder is None or window <= 0:
        return ""
    where: dict[str, tuple[str, str]] = {}  # sentence -> the passage and title it is in
    for p in found.passages:
        for sentence in split_sentences(p.text):
            where.setdefault(sentence, (p.text, p.title))
    sentences = list(where)
    if not sentences:
        return "no passage sentences"
    from qa.grounding.focus import relevance

    scores, _ = relevance(query, sentences, embedder)
    best = sorted(range(len(sentences)), key=lambda i: -scores[i])[:window]
    docs = language.parse_many([sentences[i] for i in best])
    if not any(
        holds(asked, doc) and about(asked, *where[sentences[i]])
        for i, doc in zip(best, docs, strict=True)
    ):
        what = f"the {asked.head}" if asked.head else f"a {asked.kind}"
        return f"no passage sentence gives {what} the question asks for"
    return ""


def unanswered(query: str, sentences: Sequence[str]) -> str:
    """Why an answer made of `sentences` does not answer `query` ("who", "when", "how
    many", "what is the population of ..." and no sentence gives one), or ""."""
    asked = analyse(query)
    if not sentences or not (asked.kind in _TYPED or asked.head):
        return ""
    if any(holds(asked, doc) for doc in language.parse_many(list(sentences))):
        return ""
    what = asked.head or asked.kind
    return f"no sentence of the model's answer gives the {what} the question asks for"
