"""The offline grounding judge: is a sentence supported by the passages it cites?

No NLI model ships offline, so support is decided from evidence a reader would check:
every number and every name in the sentence must stand in the cited text, a negation must
not be added or lost, and enough of the sentence's content words and meaning (embedding
similarity to the closest passage sentences) must be there.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.sentences import split_sentences
from qa.state import STOPWORDS

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_NAME_WORD = r"(?:[A-Z][\w’'-]*[a-z][\w’'-]*|[A-Z]{2,})"
_NAME_RUN = re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD})*")
_NEGATION = re.compile(
    r"\b(not|no|never|none|neither|nor|without|cannot|denied|denies|refused)\b|n['’]t\b",
    re.IGNORECASE,
)
# Anything shaped like a citation marker: [1], [2, 3], [4; 5] (numbers kept in group 1).
MARKER_LIKE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_COMMON_CAPITALS = {
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "He",
    "She",
    "They",
    "It",
    "This",
    "That",
    "These",
    "Those",
    "But",
    "And",
    "Or",
    "As",
    "After",
    "Before",
    "During",
    "While",
    "According",
    "His",
    "Her",
    "Their",
    "Its",
    "We",
    "I",
    "When",
    "If",
    "Some",
    "Earlier",
    "Last",
    "Since",
    "Both",
    "There",
    "Yes",
    "No",
    "Also",
    "However",
    "Recently",
    "Unlike",
    "Amid",
}
_WORD_NUMBERS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "hundred": "100",
    "thousand": "1000",
}


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Verdict:
    """The judge's decision with its evidence; `score` is in [0, 1]."""

    supported: bool
    score: float
    reason: str
    best_span: str = ""  # the passage sentence(s) closest to the claim


def strip_markers(text: str) -> str:
    return " ".join(MARKER_LIKE.sub(" ", text).split())


def stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    for suffix in ("'s", "ies", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1}


def numbers_in(text: str) -> set[str]:
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    found |= {_WORD_NUMBERS[w] for w in _WORD.findall(text.lower()) if w in _WORD_NUMBERS}
    return found


def names_in(text: str) -> set[str]:
    """Capitalised names in `text`, multi-word names kept together ("zhang youxia")."""
    names = set()
    for match in _NAME_RUN.finditer(text):
        words = [
            w.rstrip("’'s").strip("’'") if w.endswith(("’s", "'s")) else w
            for w in match.group().split()
        ]
        words = [w for w in words if w not in _COMMON_CAPITALS]
        if match.start() == 0 and words and words[0].lower() in STOPWORDS:
            words = words[1:]
        if words:
            names.add(" ".join(words).lower())
    return names


def name_found(name: str, text_lower: str, context_lower: str = "") -> bool:
    """A name is found when all its words stand in the cited text; or when some of them do
    and the rest stand in the other retrieved passages (the cited passage says "Zhang", an
    earlier one "Zhang Youxia"). A name the retrieved text never gives is never found."""
    words = name.split()
    here = [bool(re.search(rf"\b{re.escape(w)}\b", text_lower)) for w in words]
    if all(here):
        return True
    if not any(here) or not context_lower:
        return False
    return all(
        found or re.search(rf"\b{re.escape(w)}\b", context_lower) is not None
        for w, found in zip(words, here, strict=True)
    )


def has_negation(text: str) -> bool:
    return bool(_NEGATION.search(text))


def negated_stems(text: str, window: int = 3) -> set[str]:
    """Content words within `window` words after a negation ("not forging a military bloc")."""
    words = _WORD.findall(text)
    out: set[str] = set()
    for i, word in enumerate(words):
        if _NEGATION.fullmatch(word) or word.lower().endswith(("n't", "n’t")):
            out |= {stem(w) for w in words[i + 1 : i + 1 + window] if w.lower() not in STOPWORDS}
    return out


class OfflineJudge:
    """Lexical and embedding support with hard checks on numbers, names and negation."""

    name = "offline"

    def __init__(self, embedder: Embedder | None, threshold: float = 0.5) -> None:
        self.embedder = embedder
        self.threshold = threshold

    def judge(self, sentence: str, evidence: Sequence[str], context: Sequence[str] = ()) -> Verdict:
        """Does `evidence` (the cited passages) support `sentence`? `context` (the other
        retrieved passages) only completes names the evidence gives in part."""
        claim = strip_markers(sentence)
        text = "\n".join(evidence)
        if not claim or not text.strip():
            return Verdict(False, 0.0, "nothing cited")
        units = _evidence_units(evidence)
        best_span, similarity = self._closest(claim, units)
        missing_numbers = numbers_in(claim) - numbers_in(text)
        if missing_numbers:
            return Verdict(
                False, 0.0, f"number {sorted(missing_numbers)[0]} not in the cited text", best_span
            )
        lowered = text.lower()
        around = " ".join(context).lower()
        missing_names = [n for n in sorted(names_in(claim)) if not name_found(n, lowered, around)]
        if missing_names:
            return Verdict(
                False, 0.0, f"name {missing_names[0]!r} not in the cited text", best_span
            )
        claim_words = content_stems(claim)
        if has_negation(claim) and not has_negation(best_span):
            return Verdict(False, 0.1, "the claim adds a negation", best_span)
        if not has_negation(claim) and negated_stems(best_span) & claim_words:
            return Verdict(False, 0.1, "the cited text negates what the claim states", best_span)
        overlap = len(claim_words & content_stems(text)) / len(claim_words) if claim_words else 0.0
        score = 0.5 * overlap + 0.5 * max(similarity, 0.0) if self.embedder else overlap
        supported = score >= self.threshold and overlap >= 0.4
        reason = f"overlap {overlap:.2f}, similarity {similarity:.2f}"
        return Verdict(supported, round(score, 3), reason, best_span)

    def _closest(self, claim: str, units: list[str]) -> tuple[str, float]:
        if not units:
            return "", 0.0
        if self.embedder is None:
            words = content_stems(claim)
            scores = [len(words & content_stems(u)) / (len(words) or 1) for u in units]
        else:
            vectors = self.embedder.encode([claim, *units])
            scores = list(vectors[1:] @ vectors[0])
        best = int(np.argmax(scores))
        return units[best], float(scores[best])


def _evidence_units(evidence: Sequence[str]) -> list[str]:
    """Sentences of the evidence, and adjacent pairs (a claim may join two sentences)."""
    units: list[str] = []
    for text in evidence:
        sentences = split_sentences(text)
        units.extend(sentences)
        units.extend(f"{a} {b}" for a, b in itertools.pairwise(sentences))
    return units or [t for t in evidence if t.strip()]
