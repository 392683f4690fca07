"""Grounding metrics as pure functions: answer correctness, retrieval rank, ALCE citation
recall and precision, faithfulness, refusal precision/recall, latency percentiles, and the
judge's balanced accuracy. Definitions are spelled out in eval/README.md."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Supports = Callable[[str, Sequence[str]], bool]  # (sentence, passage texts) -> supported?

_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "`": "'",
        "´": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
    }
)
_PUNCTUATION = set(string.punctuation) | {"–", "—", "…"}
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalise(text: str) -> str:
    """Lowercase, quotes unified, punctuation and the articles a/an/the removed (SQuAD style)."""
    text = text.lower().translate(_QUOTES)
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_correct(text: str, answers: Sequence[str]) -> bool:
    """True when one acceptable answer stands in the text, as whole words, after normalising."""
    haystack = f" {normalise(text)} "
    return any(f" {normalise(a)} " in haystack for a in answers if normalise(a))


def gold_rank(passage_articles: Sequence[Collection[str]], gold: Collection[str]) -> int | None:
    """1-based rank of the first passage from a gold article (wire copies count), else None."""
    wanted = set(gold)
    for rank, articles in enumerate(passage_articles, 1):
        if wanted & set(articles):
            return rank
    return None


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def gold_coverage(passage_articles: Sequence[Collection[str]], gold: Collection[str]) -> float:
    """Share of the gold articles that some passage comes from (both sources found?)."""
    if not gold:
        return 0.0
    found = set().union(*map(set, passage_articles)) if passage_articles else set()
    return len(set(gold) & found) / len(set(gold))


@dataclass(frozen=True)
class SentenceCheck:
    """ALCE verdicts for one sentence: recalled (its citations together support it) and,
    per citation, whether that citation is precise."""

    text: str
    citations: tuple[int, ...]
    recalled: bool
    precise: tuple[bool, ...]


@dataclass(frozen=True)
class CitationScores:
    """Citation recall and precision of one answer (ALCE, Gao et al. 2023)."""

    recall: float
    precision: float
    sentences: tuple[SentenceCheck, ...]

    @property
    def n_citations(self) -> int:
        return sum(len(s.citations) for s in self.sentences)


def check_sentence(
    text: str, cited: Sequence[int], passages: Mapping[int, str], supports: Supports
) -> SentenceCheck:
    """ALCE for one sentence.

    Recall: the cited passages joined support the sentence (no citation: not recalled; a
    citation naming no passage: not recalled). Precision, when recalled: a lone citation is
    precise; with several, citation c is imprecise only if c alone does not support the
    sentence AND the other citations still do without it. When not recalled, every citation
    of the sentence is imprecise.
    """
    cited = tuple(cited)
    if not cited or any(n not in passages for n in cited):
        return SentenceCheck(text, cited, False, tuple(False for _ in cited))
    recalled = supports(text, [passages[n] for n in cited])
    if not recalled:
        return SentenceCheck(text, cited, False, tuple(False for _ in cited))
    if len(cited) == 1:
        return SentenceCheck(text, cited, True, (True,))
    precise = []
    for n in cited:
        alone = supports(text, [passages[n]])
        rest = [passages[m] for m in cited if m != n]
        precise.append(alone or not supports(text, rest))
    return SentenceCheck(text, cited, True, tuple(precise))


def citation_scores(
    sentences: Sequence[tuple[str, Sequence[int]]], passages: Mapping[int, str], supports: Supports
) -> CitationScores | None:
    """Recall = recalled sentences / sentences; precision = precise citations / citations
    (0 when nothing is cited, as in ALCE). None for an answer with no sentences."""
    if not sentences:
        return None
    checks = tuple(check_sentence(t, c, passages, supports) for t, c in sentences)
    recall = sum(c.recalled for c in checks) / len(checks)
    flags = [p for c in checks for p in c.precise]
    precision = sum(flags) / len(flags) if flags else 0.0
    return CitationScores(recall, precision, checks)


def faithfulness(supported: Sequence[bool]) -> float | None:
    """Share of the answer's sentences the core checker found supported; None if none."""
    return sum(supported) / len(supported) if supported else None


@dataclass(frozen=True)
class RefusalScores:
    """Positive = refused; an unanswerable question should be refused."""

    precision: float | None  # refused and unanswerable / refused
    recall: float | None  # refused and unanswerable / unanswerable
    refused: int
    unanswerable: int


def refusal_scores(refused: Sequence[bool], unanswerable: Sequence[bool]) -> RefusalScores:
    both = sum(r and u for r, u in zip(refused, unanswerable, strict=True))
    n_refused, n_unanswerable = sum(refused), sum(unanswerable)
    return RefusalScores(
        both / n_refused if n_refused else None,
        both / n_unanswerable if n_unanswerable else None,
        n_refused,
        n_unanswerable,
    )


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that were measured (None skipped); None if none were."""
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def balanced_accuracy(truth: Sequence[bool], predicted: Sequence[bool]) -> float:
    """Mean of the true-positive and true-negative rates: a judge that says "yes" to
    everything scores 0.5, whatever the share of supported pairs."""
    pairs = list(zip(truth, predicted, strict=True))
    positives = [p for t, p in pairs if t]
    negatives = [not p for t, p in pairs if not t]
    rates = [sum(x) / len(x) for x in (positives, negatives) if x]
    return sum(rates) / len(rates) if rates else 0.0


def rgb_correct(prediction: str, gold: Any) -> bool:
    """RGB's rule: gold is a string, or a list whose every element must stand in the
    prediction (an element that is itself a list is satisfied by any of its alternatives)."""
    text = prediction.lower()
    required = gold if isinstance(gold, list) else [gold]
    if not required:
        return False
    for need in required:
        options = need if isinstance(need, list) else [need]
        if not any(str(o).lower() in text for o in options):
            return False
    return True
