"""Judges for the evaluation: the offline judge of the core, or any chat backend asked a
yes/no question with qa/prompts/judge.txt. Both are measured on eval/judge.jsonl."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qa.answer.prompting import quote_passage, render
from qa.backends.base import ChatModel, ChatRequest
from qa.errors import BackendError, InputError
from qa.grounding import markers
from qa.grounding.judge import Judge, Verdict
from qa.settings import Settings

from .dataset import JudgePair
from .metrics import balanced_accuracy


class LLMJudge:
    """Asks a chat model whether the evidence supports the claim; reads the first word."""

    def __init__(self, model: ChatModel) -> None:
        if not model.is_generative:
            raise InputError(f"--judge {model.name} cannot judge: use offline or a chat model")
        self.model = model
        self.name = f"llm:{model.name}"

    def judge(
        self,
        sentence: str,
        evidence: Sequence[str],
        context: Sequence[str] = (),
        question: str = "",
    ) -> Verdict:
        claim = markers.claim(sentence)
        text = "\n\n".join(quote_passage(p) for p in evidence if p.strip())
        if not claim or not text:
            return Verdict(False, 0.0, "nothing cited")
        messages = render("judge", evidence=text, claim=claim)
        request = ChatRequest(messages, question=claim, max_tokens=4, temperature=0)
        reply = "".join(self.model.stream(request))
        return parse_verdict(reply)


def parse_verdict(reply: str) -> Verdict:
    """ "Yes." -> supported; "no" -> not; anything else counts as not supported."""
    words = reply.strip().lower().lstrip("*\"'`").split()
    first = words[0].strip(".,:;!*\"'`") if words else ""
    if first == "yes":
        return Verdict(True, 1.0, "judge: yes")
    if first == "no":
        return Verdict(False, 0.0, "judge: no")
    return Verdict(False, 0.0, f"judge reply not yes/no: {reply.strip()[:40]!r}")


class CachedJudge:
    """Remembers verdicts: ALCE asks about the same sentence and passages several times."""

    def __init__(self, inner: Judge) -> None:
        self.inner = inner
        self.name = inner.name
        self._cache: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], Verdict] = {}

    def judge(
        self,
        sentence: str,
        evidence: Sequence[str],
        context: Sequence[str] = (),
        question: str = "",
    ) -> Verdict:
        key = (sentence, tuple(evidence), tuple(context), question)
        if key not in self._cache:
            self._cache[key] = self.inner.judge(sentence, evidence, context, question)
        return self._cache[key]

    def supports(self, sentence: str, evidence: Sequence[str]) -> bool:
        return self.judge(sentence, evidence).supported


def make_judge(name: str, settings: Settings, encoder: object) -> CachedJudge:
    """ "offline" (default), "cross-encoder" (trained by scripts/train_judge.py), or the
    name of a chat backend asked yes/no (llamacpp, openai, ollama)."""
    if name == "offline":
        from qa.grounding.judge import OfflineJudge

        return CachedJudge(OfflineJudge(encoder))  # type: ignore[arg-type]
    if name == "cross-encoder":
        try:
            from qa.grounding.judge_ce import CrossEncoderJudge
        except ImportError:
            raise InputError(
                "--judge cross-encoder: qa.grounding.judge_ce is not in this install (see "
                "eval/baseline-general.md)"
            ) from None
        return CachedJudge(CrossEncoderJudge())
    from qa.backends import registry

    model = registry.create(name, settings, encoder)  # type: ignore[arg-type]
    model.warm_up()
    return CachedJudge(LLMJudge(model))


@dataclass(frozen=True)
class JudgeScore:
    """How a judge does on the human-labelled pairs."""

    name: str
    n: int
    balanced_accuracy: float
    accuracy: float
    true_positive_rate: float
    true_negative_rate: float
    by_kind: dict[str, float] = field(default_factory=dict)  # accuracy per kind of pair
    mistakes: tuple[dict[str, object], ...] = ()


def score_judge(judge: Judge, pairs: Sequence[JudgePair]) -> JudgeScore:
    """Runs the judge on every pair; a backend error counts as a "not supported" verdict."""
    predicted = []
    for pair in pairs:
        try:
            predicted.append(judge.judge(pair.sentence, list(pair.passages)).supported)
        except BackendError:
            predicted.append(False)
    truth = [p.supported for p in pairs]
    right = [t == p for t, p in zip(truth, predicted, strict=True)]
    kinds: dict[str, list[bool]] = {}
    for pair, ok in zip(pairs, right, strict=True):
        kinds.setdefault(pair.kind or "other", []).append(ok)
    positives = [p for t, p in zip(truth, predicted, strict=True) if t]
    negatives = [not p for t, p in zip(truth, predicted, strict=True) if not t]
    mistakes = tuple(
        {"id": p.id, "kind": p.kind, "sentence": p.sentence, "expected": p.supported}
        for p, ok in zip(pairs, right, strict=True)
        if not ok
    )
    return JudgeScore(
        name=judge.name,
        n=len(pairs),
        balanced_accuracy=round(balanced_accuracy(truth, predicted), 4),
        accuracy=round(sum(right) / len(right), 4),
        true_positive_rate=round(sum(positives) / len(positives), 4) if positives else 0.0,
        true_negative_rate=round(sum(negatives) / len(negatives), 4) if negatives else 0.0,
        by_kind={k: round(sum(v) / len(v), 4) for k, v in sorted(kinds.items())},
        mistakes=mistakes,
    )
