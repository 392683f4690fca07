"""The model-free backend: quotes the passage sentences that best answer the question.

Grounded by construction (every sentence is a verbatim quote with its citation), so it is
the default, the fallback when a model backend fails, and the baseline in evaluations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from qa.backends.base import ChatRequest
from qa.grounding.focus import relevance
from qa.grounding.judge import Embedder, content_stems
from qa.grounding.markers import with_markers
from qa.text import language
from qa.text.question import about, analyse, fit, holds
from qa.text.sentences import sentence_spans

REFUSAL = "The articles do not answer this question."
# How many of the most relevant sentences are read for the asked-for slot, and how far
# below the best a slot-holding sentence may score and still lead (set on eval/general dev).
SLOT_WINDOW = 6
SLOT_RELATIVE = 0.7
# A holder that also states the asked-for relation (the verb, the attribute, what is
# counted) may lead from further down: such sentences often say "the company" or "the
# final cost" instead of repeating the topic words that raise similarity.
RELATION_WINDOW = 10
RELATION_RELATIVE = 0.5


class ExtractiveChatModel:
    """Scores every passage sentence against the question (meaning and shared words) and
    quotes the best few, merging the same sentence from several outlets into one."""

    name = "extractive"
    can_stream = True
    is_generative = False

    def __init__(
        self,
        embedder: Embedder,
        max_sentences: int = 3,
        min_score: float = 0.35,
        relative: float = 0.8,
        duplicate_similarity: float = 0.88,
        min_coverage: float = 0.5,
    ) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.min_score = min_score
        self.relative = relative
        self.duplicate_similarity = duplicate_similarity
        self.min_coverage = min_coverage

    def warm_up(self) -> None:
        pass

    def stream(self, request: ChatRequest, *, strict: bool = False) -> Iterator[str]:
        """The quoted answer; `strict` (quotes standing in for a model's failed answer):
        refuse unless the lead sentence states the asked-for relation."""
        picked = self.select(request.question, request.passages, strict=strict)
        if not picked:
            yield REFUSAL
            return
        for i, (text, numbers) in enumerate(picked):
            yield ("" if i == 0 else " ") + with_markers(_as_statement(text), numbers)

    def select(
        self, question: str, passages: Sequence, *, strict: bool = False
    ) -> list[tuple[str, list[int]]]:
        candidates: list[tuple[str, int, int]] = []  # text, passage n, position
        titles = {p.n: p.title for p in passages}
        texts = {p.n: p.text for p in passages}
        for p in passages:
            for a, b in sentence_spans(p.text):
                sentence = p.text[a:b]  # screened: injected text is blanked
                if len(content_stems(sentence)) >= 3:
                    candidates.append((sentence, p.n, p.n * 10_000 + a))
        if not candidates:
            return []
        scores, sv = relevance(question, [c[0] for c in candidates], self.embedder)
        order = [int(i) for i in np.argsort(scores)[::-1]]
        best = scores[order[0]]
        if best < self.min_score:
            return []
        # The sentence that holds what the question asks for (a person for "who", a sum
        # for "how much") leads, when it is among the most relevant; the others follow.
        asked = analyse(question)
        window = order[:RELATION_WINDOW]
        docs = language.parse_many([candidates[i][0] for i in window])
        holders = []
        for rank, (i, doc) in enumerate(zip(window, docs, strict=True)):
            title = titles[candidates[i][1]]
            if headline(candidates[i][0], title) or not holds(asked, doc):
                continue  # a title-case headline parses as names: it leads by relevance only
            if not about(asked, texts[candidates[i][1]], title):
                continue  # its passage is about something else than the question names
            how = fit(asked, doc, title)
            near = rank < SLOT_WINDOW and scores[i] >= best * SLOT_RELATIVE
            if near or (how[0] > 0 and scores[i] >= best * RELATION_RELATIVE):
                holders.append((how, i))
        typed = asked.kind not in {"thing", "reason"} or bool(asked.head)
        if typed and not holders:
            # "who" / "when" / "how many" / "what is the population of ..." and no close
            # sentence holds one: refuse
            return []
        # The holder that best fits the question leads; among equals, the most relevant.
        top = max(holders, key=lambda h: (h[0], scores[h[1]])) if holders else None
        lead = top[1] if top else None
        # After a model's answer failed the checker (`strict`), a sentence that merely holds
        # a thing of the asked-for kind is not enough: it must state the relation asked
        # about (the attribute, what is counted, the question's verb, a person for "who")
        # or be the sentence closest to the question, else the question stays unanswered.
        if strict and typed and (top is None or (top[0][0] == 0 and top[1] != order[0])):
            return []
        if lead is not None:
            order = [lead, *(i for i in order if i != lead)]
        floor = max(self.min_score, best * self.relative)
        chosen: list[tuple[int, list[int]]] = []  # candidate index, passage numbers
        for idx in order:
            if idx != lead and scores[idx] < floor:
                break
            duplicate = next(
                (c for c in chosen if float(sv[c[0]] @ sv[idx]) >= self.duplicate_similarity), None
            )
            if duplicate is not None:
                if candidates[idx][1] not in duplicate[1]:
                    duplicate[1].append(candidates[idx][1])
                continue
            if len(chosen) < self.max_sentences:
                chosen.append((idx, [candidates[idx][1]]))
        if lead is None and self.min_coverage > 0:
            q_words = content_stems(question)
            covered = set().union(*(content_stems(candidates[i][0]) for i, _ in chosen))
            if q_words and len(q_words & covered) / len(q_words) < self.min_coverage:
                return []  # no slot, and the best sentences miss most of the question
        return [(candidates[i][0], sorted(ns)) for i, ns in chosen]


def headline(sentence: str, title: str) -> bool:
    return bool(title) and " ".join(sentence.split()) == " ".join(title.split())


def _as_statement(sentence: str) -> str:
    text = " ".join(sentence.split())
    return text if text[-1:] in '.!?”"’' else text + "."
