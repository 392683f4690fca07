"""The offline grounding judge: is a sentence supported by the passages it cites?

No NLI model ships offline, so support is decided from evidence a reader would check:
every number (text2num: "ten" is 10) and every name (spaCy's entities and proper nouns) in
the sentence must stand in the cited text, a negation (from the parse) must not be added
or lost, and enough of the sentence's content words and meaning (embedding similarity to
the closest passage sentences) must be there.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from qa.grounding.markers import strip_markers
from qa.text import language
from qa.text.language import Name
from qa.text.sentences import split_sentences
from qa.text.words import STOPWORDS

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Verdict:
    """The judge's decision with its evidence; `score` is in [0, 1]."""

    supported: bool
    score: float
    reason: str
    best_span: str = ""  # the passage sentence(s) closest to the claim


class Judge(Protocol):
    """Does `evidence` (the cited passages) support `sentence`? `context` (the other
    retrieved passages) and `question` may help a judge, which is free to ignore them."""

    name: str

    def judge(
        self,
        sentence: str,
        evidence: Sequence[str],
        context: Sequence[str] = (),
        question: str = "",
    ) -> Verdict: ...


def stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    for suffix in ("'s", "ies", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1}


def numbers_in(text: str) -> set[str]:
    return language.numbers(text)


def missing_name(claim: Any, text_lower: str, context_lower: str = "") -> str:
    """The first name of the parsed claim that the cited text does not give, or "".

    A name is given when all its words stand in the cited text; or when some of them do
    and the rest stand in the other retrieved passages (the cited passage says "Zhang", an
    earlier one "Zhang Youxia"). A name the retrieved text never gives is never found.
    """
    for name in language.names(claim):
        if language.name_in(name, text_lower):
            continue
        words = name.text.split()
        here = [language.name_in(Name(w, name.label), text_lower) for w in words]
        if (
            context_lower
            and any(here)
            and all(
                h or language.name_in(Name(w, name.label), context_lower)
                for w, h in zip(words, here, strict=True)
            )
        ):
            continue
        return name.text
    return ""


class OfflineJudge:
    """Lexical and embedding support with hard checks on numbers, names and negation."""

    name = "offline"

    def __init__(self, embedder: Embedder | None, threshold: float = 0.5) -> None:
        self.embedder = embedder
        self.threshold = threshold

    def judge(
        self,
        sentence: str,
        evidence: Sequence[str],
        context: Sequence[str] = (),
        question: str = "",
    ) -> Verdict:
        """Does `evidence` (the cited passages) support `sentence`? `context` (the other
        retrieved passages) only completes names the evidence gives in part. Names and
        numbers the `question` states and some retrieved passage gives are the question's
        premise restated ("since 1941, ..."), not new claims."""
        claim = strip_markers(sentence)
        text = "\n".join(evidence)
        if not claim or not text.strip():
            return Verdict(False, 0.0, "nothing cited")
        units = _evidence_units(evidence)
        ranked = self._ranked(claim, units)
        best_span, similarity = ranked[0] if ranked else ("", 0.0)
        everything = " ".join([text, *context])
        premise = numbers_in(question) & numbers_in(everything) if question else set()
        missing_numbers = numbers_in(claim) - numbers_in(text) - premise
        if missing_numbers:
            return Verdict(
                False, 0.0, f"number {sorted(missing_numbers)[0]} not in the cited text", best_span
            )
        claim_doc, span_doc = language.parse_many([claim, best_span])
        given = f"{text}\n{question}" if question else text
        name = missing_name(claim_doc, given.lower(), " ".join(context).lower())
        if name:
            return Verdict(False, 0.0, f"name {name!r} not in the cited text", best_span)
        claim_words = content_stems(claim)
        if language.negated(claim_doc) and not language.negated(span_doc):
            return Verdict(False, 0.1, "the claim adds a negation", best_span)
        if not language.negated(claim_doc) and language.negated_lemmas(span_doc) & {
            t.lemma_.lower() for t in claim_doc
        }:
            return Verdict(False, 0.1, "the cited text negates what the claim states", best_span)
        claim_lemmas = {t.lemma_.lower() for t in claim_doc}
        lost = {
            h
            for h in language.hedges(span_doc) - language.hedges(claim_doc)
            if h.split(":")[1] in claim_lemmas and h.split(":")[-1] not in claim_lemmas
        }
        if lost:
            return Verdict(False, 0.2, f"the claim drops a hedge ({sorted(lost)[0]})", best_span)
        widened = language.universals(claim_doc) - language.universals(span_doc)
        if widened:
            return Verdict(False, 0.2, f"the claim widens to {sorted(widened)[0]!r}", best_span)
        # Words that restate the question are the premise; the rest must be in the text.
        new_words = claim_words - content_stems(question) if question else claim_words
        new_words = new_words or claim_words
        overlap = len(new_words & content_stems(text)) / len(new_words) if new_words else 0.0
        score = 0.5 * overlap + 0.5 * max(similarity, 0.0) if self.embedder else overlap
        supported = score >= self.threshold and overlap >= 0.4
        reason = f"overlap {overlap:.2f}, similarity {similarity:.2f}"
        return Verdict(supported, round(score, 3), reason, best_span)

    def _closest(self, claim: str, units: list[str]) -> tuple[str, float]:
        ranked = self._ranked(claim, units)
        return ranked[0] if ranked else ("", 0.0)

    def _ranked(self, claim: str, units: list[str]) -> list[tuple[str, float]]:
        """Evidence units, closest to the claim first."""
        if not units:
            return []
        if self.embedder is None:
            words = content_stems(claim)
            scores = [len(words & content_stems(u)) / (len(words) or 1) for u in units]
        else:
            vectors = self.embedder.encode([claim, *units])
            scores = list(vectors[1:] @ vectors[0])
        order = np.argsort(scores)[::-1]
        return [(units[i], float(scores[i])) for i in order]


def _evidence_units(evidence: Sequence[str]) -> list[str]:
    """Sentences of the evidence, and adjacent pairs (a claim may join two sentences)."""
    units: list[str] = []
    for text in evidence:
        sentences = split_sentences(text)
        units.extend(sentences)
        units.extend(f"{a} {b}" for a, b in itertools.pairwise(sentences))
    return units or [t for t in evidence if t.strip()]
