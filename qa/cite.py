"""Citations: parse [n] markers, drop the ones that point at nothing, check every sentence
against the passages it cites, and find the exact span each citation quotes."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.judge import OfflineJudge, strip_markers
from qa.sentences import sentence_spans
from qa.types import Citation, Passage, Sentence

MARKER = re.compile(r"\[(\d{1,4}(?:\s*[,;]\s*\d{1,4})*)\]")
_REFUSAL = re.compile(
    r"\b(articles|passages|context|sources?)\b.{0,40}\b(do(?:es)? not|don['’]t|doesn['’]t)\b"
    r".{0,20}\b(say|answer|contain|mention|provide|include)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedSentence:
    text: str  # without markers
    markers: tuple[int, ...]  # every number written, valid or not


def parse(text: str) -> list[ParsedSentence]:
    """Sentences of a model's answer with the marker numbers each carries."""
    out = []
    for a, b in sentence_spans(text):
        raw = text[a:b]
        numbers: list[int] = []
        for match in MARKER.finditer(raw):
            numbers.extend(int(x) for x in re.split(r"\s*[,;]\s*", match.group(1)))
        clean = strip_markers(raw)
        clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
        if clean and any(ch.isalnum() for ch in clean):
            out.append(ParsedSentence(clean, tuple(dict.fromkeys(numbers))))
    return out


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text)) and len(text) < 400


def check(text: str, passages: Sequence[Passage], judge: OfflineJudge) -> list[Sentence]:
    """Every sentence with its valid citations and the judge's verdict.

    A marker naming no passage is dropped. A sentence with no valid marker is checked
    against each passage and given the one that supports it, if any.
    """
    by_n = {p.n: p for p in passages}
    sentences = []
    for parsed in parse(text):
        cited = tuple(n for n in parsed.markers if n in by_n)
        dangling = len(cited) < len(parsed.markers)
        if cited:
            verdict = judge.judge(parsed.text, [by_n[n].text for n in cited])
            reason = verdict.reason + ("; dangling marker removed" if dangling else "")
            sentences.append(Sentence(parsed.text, cited, verdict.supported, verdict.score, reason))
            continue
        best = None
        for p in passages:
            verdict = judge.judge(parsed.text, [p.text])
            if verdict.supported and (best is None or verdict.score > best[1].score):
                best = (p.n, verdict)
        if best:
            sentences.append(
                Sentence(
                    parsed.text,
                    (best[0],),
                    True,
                    best[1].score,
                    best[1].reason + "; citation added by the checker",
                )
            )
        else:
            sentences.append(Sentence(parsed.text, (), False, 0.0, "no valid citation"))
    return sentences


def citations(
    sentences: Sequence[Sentence], passages: Sequence[Passage], judge: OfflineJudge
) -> tuple[Citation, ...]:
    """One Citation per cited passage, quoting the passage span closest to the sentence."""
    by_n = {p.n: p for p in passages}
    out: dict[int, Citation] = {}
    for sentence in sentences:
        for n in sentence.citations:
            if n in out or n not in by_n:
                continue
            p = by_n[n]
            start, end = quote_span(sentence.text, p, judge)
            out[n] = Citation(
                n,
                p.article_id,
                p.title,
                p.source,
                p.published,
                p.url,
                p.text[start:end],
                p.start + start,
                p.start + end,
            )
    return tuple(out[n] for n in sorted(out))


def quote_span(claim: str, passage: Passage, judge: OfflineJudge) -> tuple[int, int]:
    """Offsets (in the passage) of the passage sentence that best matches the claim."""
    spans = sentence_spans(passage.text)
    if not spans:
        return 0, len(passage.text)
    best = judge.judge(claim, [passage.text]).best_span
    for a, b in spans:
        if passage.text[a:b] == best:
            return a, b
    for (a, _), (_, b) in itertools.pairwise(spans):  # a two-sentence span
        if " ".join(passage.text[a:b].split()) == " ".join(best.split()):
            return a, b
    return spans[0]


def render(sentences: Sequence[Sentence], mode: str) -> str:
    """The answer text: supported sentences with markers; unsupported dropped or flagged."""
    parts = []
    for s in sentences:
        if not s.supported and mode != "flag":
            continue
        text = with_markers(s.text, s.citations)
        parts.append(text if s.supported else f"{text} (unsupported)")
    return " ".join(parts)


def with_markers(text: str, numbers: Sequence[int]) -> str:
    """ "... bloc [1][2]." : markers go before a final full stop, after a closing quote."""
    markers = "".join(f"[{n}]" for n in numbers)
    if not markers:
        return text
    if text[-1:] in ".!?":
        return f"{text[:-1]} {markers}{text[-1]}"
    return f"{text} {markers}"
