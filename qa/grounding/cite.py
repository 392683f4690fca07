"""Citations: parse [n] markers, drop the ones that point at nothing, check every sentence
against the passages it cites, and find the exact span each citation quotes."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.grounding import markers
from qa.grounding.judge import Judge, content_stems
from qa.grounding.markers import MARKER, with_markers
from qa.text.sentences import sentence_spans
from qa.types import Citation, Passage, Sentence

_REFUSAL = re.compile(
    r"\b(articles|passages|context|sources?)\b.{0,40}\b(do(?:es)? not|don['’]t|doesn['’]t)\b"
    r".{0,20}\b(say|answer|contain|mention|provide|include)",
    re.IGNORECASE,
)


SHORT_ANSWER_WORDS = 4  # fewer content words than this: judged together with the question


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
            numbers.extend(markers.numbers(match.group(1)))
        clean = markers.claim(raw)
        if clean and any(ch.isalnum() for ch in clean):
            out.append(ParsedSentence(clean, tuple(dict.fromkeys(numbers))))
    return out


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text)) and len(text) < 400


def check(
    text: str, passages: Sequence[Passage], judge: Judge, question: str = ""
) -> list[Sentence]:
    """Every sentence with its valid citations and the judge's verdict.

    A marker naming no passage is dropped. A sentence with no valid marker is checked
    against each passage and given the one that supports it, if any. A fragment that only
    makes sense as an answer ("Li Shangfu [1]") is judged together with the question.
    """
    by_n = {p.n: p for p in passages}
    sentences = []
    for parsed in parse(text):
        claim = parsed.text
        if question and len(content_stems(claim)) < SHORT_ANSWER_WORDS:
            claim = f"{question} {claim}"
        cited = tuple(n for n in parsed.markers if n in by_n)
        if cited:
            context = [evidence(p) for p in passages if p.n not in cited]
            verdict = judge.judge(claim, [evidence(by_n[n]) for n in cited], context, question)
            reason = verdict.reason
            if len(cited) < len(parsed.markers):
                reason += "; dangling marker removed"
            if not verdict.supported and len(passages) > len(cited):
                # A wrong number ("[2]" for a fact of [1]): the passage that supports the
                # sentence is cited instead, and the reason says so.
                moved = _cite_for(parsed.text, claim, passages, judge, question)
                if moved.supported:
                    sentences.append(
                        dataclasses.replace(
                            moved,
                            reason=f"{moved.reason}; cited {list(cited)} did not support it "
                            f"({verdict.reason})",
                        )
                    )
                    continue
            sentences.append(Sentence(parsed.text, cited, verdict.supported, verdict.score, reason))
            continue
        sentences.append(_cite_for(parsed.text, claim, passages, judge, question))
    return sentences


def evidence(passage: Passage) -> str:
    """What a passage states, for the judge: its text, under its article's title (the
    passage's "it" is the title's subject)."""
    title = " ".join(passage.title.split())
    if not title or title.lower() in passage.text[: len(title) + 40].lower():
        return passage.text
    return f"{title}.\n{passage.text}"


def _cite_for(
    text: str, claim: str, passages: Sequence[Passage], judge: Judge, question: str = ""
) -> Sentence:
    """A sentence written without a valid marker gets the passage that supports it best."""
    best = None
    for p in passages:
        context = [evidence(q) for q in passages if q.n != p.n]
        verdict = judge.judge(claim, [evidence(p)], context, question)
        if verdict.supported and (best is None or verdict.score > best[1].score):
            best = (p.n, verdict)
    if best is None:
        return Sentence(text, (), False, 0.0, "no valid citation")
    reason = best[1].reason + "; citation added by the checker"
    return Sentence(text, (best[0],), True, best[1].score, reason)


def citations(
    sentences: Sequence[Sentence], passages: Sequence[Passage], judge: Judge
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


def quote_span(claim: str, passage: Passage, judge: Judge) -> tuple[int, int]:
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
