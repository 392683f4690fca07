"""Lean prompts: keep only the passage sentences that bear on the question.

A small local model spends most of its time to first token reading the prompt (about 100
tokens/s on 2 cores), and reads noise badly. So the prompt carries the best few sentences
across the retrieved passages, each under its passage number; citations still point at
the whole passage, and the checker still reads the whole passage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.grounding.judge import Embedder, content_stems
from qa.text.sentences import sentence_spans
from qa.types import Passage


def relevance(
    question: str, sentences: Sequence[str], embedder: Embedder
) -> tuple[list[float], np.ndarray]:
    """How well each sentence bears on the question: 0.7 x embedding similarity + 0.3 x the
    share of the question's content words it contains; also the sentence vectors."""
    vectors = embedder.encode([question, *sentences])
    q_words = content_stems(question)
    scores = [
        0.7 * float(v @ vectors[0]) + 0.3 * len(q_words & content_stems(s)) / (len(q_words) or 1)
        for s, v in zip(sentences, vectors[1:], strict=True)
    ]
    return scores, vectors[1:]


def focus(
    question: str, passages: Sequence[Passage], embedder: Embedder, budget: int
) -> dict[int, str]:
    """{passage n: excerpt} with the `budget` best sentences overall, in reading order.
    Passages none of whose sentences made it are left out of the mapping. The passages come
    screened (qa.text.hostile.screen): injected text is already blanked."""
    units, seen = [], set()
    for p in passages:  # overlapping chunks repeat sentences: keep each sentence once
        for a, b in sentence_spans(p.text):
            if (p.article_id, p.start + a) not in seen:
                seen.add((p.article_id, p.start + a))
                units.append((p.n, a, p.text[a:b]))
    if budget <= 0 or len(units) <= budget:
        return {p.n: p.text for p in passages}
    scores, _ = relevance(question, [u[2] for u in units], embedder)
    keep = sorted(sorted(range(len(units)), key=lambda i: -scores[i])[:budget])
    excerpts: dict[int, list[str]] = {}
    for i in keep:
        excerpts.setdefault(units[i][0], []).append(units[i][2])
    return {n: " … ".join(parts) for n, parts in excerpts.items()}
