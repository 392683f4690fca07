"""Runs an evaluation set through one Assistant per backend and scores every answer.

Results are plain JSON-ready dicts (one row per question, totals per backend), so the
report, `--json` and the thresholds all read the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qa.errors import BackendError
from qa.grounding import cite
from qa.grounding.markers import strip_markers
from qa.progress import make_progress
from qa.types import Answer, Sentence

from . import metrics as m
from . import redteam
from .dataset import EvalItem
from .judges import CachedJudge


def shown_sentences(answer: Answer, unsupported: str) -> list[Sentence]:
    """The sentences a reader sees: none for a refusal; unsupported ones only when flagged."""
    if answer.refused:
        return []
    return [s for s in answer.sentences if s.supported or unsupported == "flag"]


def passage_articles(answer: Answer) -> list[list[str]]:
    """Per passage, in rank order: its article and the wire copies it stands for."""
    return [[p.article_id, *(ref.article_id for ref in p.also_in)] for p in answer.passages]


RAW_AND_CHECKER = (
    "raw_correct",
    "raw_citation_recall",
    "raw_citation_precision",
    "raw_faithfulness",
    "checker_removed",
    "checker_removed_supported",
    "checker_kept",
    "checker_kept_unsupported",
)


def raw_and_checker(
    item: EvalItem, answer: Answer, judge: CachedJudge, unsupported: str
) -> dict[str, Any]:
    """The model's own answer scored as if shown unchecked (its sentences with the markers it
    wrote), and the checker's effect as the scoring `judge` sees it: sentences it removed that
    the judge finds supported, and shown sentences the judge finds unsupported."""
    texts = {p.n: p.text for p in answer.passages}
    raw = answer.raw_text  # the gate's refusal, when it refused before the model
    parsed = [] if cite.is_refusal(raw) else cite.parse(raw)
    written = [(s.text, tuple(n for n in s.markers if n in texts)) for s in parsed]
    scores = m.citation_scores(written, texts, judge.supports)
    raw_supported = [bool(c) and judge.supports(t, [texts[n] for n in c]) for t, c in written]

    def supported(sentence: Sentence) -> bool:
        evidence = [texts[n] for n in sentence.citations if n in texts]
        return bool(evidence) and judge.supports(sentence.text, evidence)

    removed = [s for s in answer.sentences if not s.supported]
    kept = shown_sentences(answer, unsupported)
    return {
        "raw_correct": m.answer_correct(strip_markers(raw), item.answers)
        if item.answerable and parsed
        else (False if item.answerable else None),
        "raw_citation_recall": scores.recall if scores else None,
        "raw_citation_precision": scores.precision if scores else None,
        "raw_faithfulness": m.faithfulness(raw_supported),
        "checker_removed": len(removed),
        "checker_removed_supported": sum(supported(s) for s in removed if s.citations),
        "checker_kept": len(kept),
        "checker_kept_unsupported": sum(not supported(s) for s in kept),
    }


def score_answer(
    item: EvalItem,
    answer: Answer,
    judge: CachedJudge,
    k: int,
    unsupported: str = "drop",
    corpus_texts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One report row: the answer, its citations and every metric for this question.
    `corpus_texts` (article id -> text) lets the red-team checks find each quote in its article."""
    articles = passage_articles(answer)
    rank = m.gold_rank(articles, item.articles) if item.articles else None
    shown = shown_sentences(answer, unsupported)
    texts = {p.n: p.text for p in answer.passages}
    scores = m.citation_scores([(s.text, s.citations) for s in shown], texts, judge.supports)
    checks = {id(s): c for s, c in zip(shown, scores.sentences if scores else (), strict=False)}
    retrieval = bool(item.answerable and item.articles)
    sentences = [_sentence_row(s, checks.get(id(s))) for s in answer.sentences]
    return {
        "id": item.id,
        "kind": item.kind,
        "question": item.question,
        "history": [{"role": t.role, "content": t.content} for t in item.history],
        "standalone_query": answer.standalone_query,
        "answers": list(item.answers),
        "articles": list(item.articles),
        "answerable": item.answerable,
        "answer": answer.text,
        "raw_text": answer.raw_text,
        "refused": answer.refused,
        "model": answer.model,
        "fallback_reason": answer.fallback_reason,
        "refusal_reason": answer.refusal_reason,
        "correct": m.answer_correct(strip_markers(answer.text), item.answers)
        if item.answerable
        else None,
        "rank": rank,
        "hit@1": m.hit_at(rank, 1) if retrieval else None,
        "hit@k": m.hit_at(rank, k) if retrieval else None,
        "rr": m.reciprocal_rank(rank) if retrieval else None,
        "coverage": m.gold_coverage(articles, item.articles) if retrieval else None,
        "citation_recall": scores.recall if scores else None,
        "citation_precision": scores.precision if scores else None,
        "faithfulness": m.faithfulness([s.supported for s in answer.sentences]),
        "first_token": answer.timings.first_token,
        "total": answer.timings.total,
        "sentences": sentences,
        **raw_and_checker(item, answer, judge, unsupported),
        "redteam": redteam.check(item, answer, sentences, corpus_texts, unsupported)
        if item.redteam
        else None,
        "citations": [
            {"n": c.n, "article_id": c.article_id, "source": c.source, "quote": c.quote}
            for c in answer.citations
        ],
        "passages": [
            {"n": p.n, "article_id": p.article_id, "also_in": a[1:]}
            for p, a in zip(answer.passages, articles, strict=True)
        ],
        "error": "",
    }


def _sentence_row(sentence: Sentence, check: m.SentenceCheck | None) -> dict[str, Any]:
    return {
        "text": sentence.text,
        "citations": list(sentence.citations),
        "checker_supported": sentence.supported,
        "checker_reason": sentence.reason,
        "shown": check is not None,
        "recalled": check.recalled if check else None,
        "precise": list(check.precise) if check else None,
    }


def error_row(item: EvalItem, error: str) -> dict[str, Any]:
    """A question the backend failed on: counted wrong (and not refused), never skipped."""
    row: dict[str, Any] = {
        key: None
        for key in (
            "rank",
            "hit@1",
            "hit@k",
            "rr",
            "coverage",
            "citation_recall",
            "citation_precision",
            "faithfulness",
        )
    }
    retrieval = bool(item.answerable and item.articles)
    row.update({key: 0.0 for key in ("hit@1", "hit@k", "rr", "coverage") if retrieval})
    row.update(
        {
            "id": item.id,
            "kind": item.kind,
            "question": item.question,
            "history": [],
            "standalone_query": "",
            "answers": list(item.answers),
            "articles": list(item.articles),
            "answerable": item.answerable,
            "answer": "",
            "raw_text": "",
            "refused": False,
            "model": "",
            "fallback_reason": "",
            "refusal_reason": "",
            "correct": False if item.answerable else None,
            "first_token": None,
            "total": None,
            "sentences": [],
            "citations": [],
            "passages": [],
            "redteam": redteam.error_check(error) if item.redteam else None,
            **{key: None for key in RAW_AND_CHECKER},
            "raw_correct": False if item.answerable else None,
            "error": error,
        }
    )
    return row


def run_backend(
    assistant: Any,
    items: Sequence[EvalItem],
    judge: CachedJudge,
    label: str,
    quiet: bool = False,
    corpus_texts: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Asks every question (with its history) and scores the answer, with a progress bar."""
    k = assistant.settings.answer.top_k
    unsupported = assistant.settings.answer.unsupported
    progress = make_progress(len(items), f"eval {label}", quiet=quiet)
    rows: list[dict[str, Any]] = []
    try:
        for done, item in enumerate(items, 1):
            try:
                answer = assistant.answer(item.question, history=list(item.history))
                rows.append(score_answer(item, answer, judge, k, unsupported, corpus_texts))
            except BackendError as exc:
                rows.append(error_row(item, str(exc)))
            progress.update(done, correct=sum(bool(r["correct"]) for r in rows))
    finally:
        progress.close()
    return rows


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def totals(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """Whole-set figures: means over the questions each metric applies to."""
    answerable = [r for r in rows if r["answerable"]]
    refusal = m.refusal_scores([r["refused"] for r in rows], [not r["answerable"] for r in rows])
    first = [r["first_token"] for r in rows if r["first_token"] is not None]
    total = [r["total"] for r in rows if r["total"] is not None]
    out: dict[str, Any] = {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": refusal.unanswerable,
        "k": k,
        "correctness": m.mean([float(r["correct"]) for r in answerable]),
        "hit@1": m.mean([r["hit@1"] for r in rows]),
        "hit@k": m.mean([r["hit@k"] for r in rows]),
        "mrr": m.mean([r["rr"] for r in rows]),
        "gold_coverage": m.mean([r["coverage"] for r in rows]),
        "citation_recall": m.mean([r["citation_recall"] for r in rows]),
        "citation_precision": m.mean([r["citation_precision"] for r in rows]),
        "faithfulness": m.mean([r["faithfulness"] for r in rows]),
        "refusal_precision": refusal.precision,
        "refusal_recall": refusal.recall,
        "refused": refusal.refused,
        "false_refusals": sum(r["refused"] for r in answerable),
        "first_token_p50": m.percentile(first, 50),
        "first_token_p95": m.percentile(first, 95),
        "total_p50": m.percentile(total, 50),
        "total_p95": m.percentile(total, 95),
        "errors": sum(bool(r["error"]) for r in rows),
        "raw_correctness": m.mean(
            [float(r["raw_correct"]) for r in answerable if r.get("raw_correct") is not None]
        ),
        "raw_citation_recall": m.mean([r.get("raw_citation_recall") for r in rows]),
        "raw_citation_precision": m.mean([r.get("raw_citation_precision") for r in rows]),
        "raw_faithfulness": m.mean([r.get("raw_faithfulness") for r in rows]),
        **{
            key: sum(r.get(key) or 0 for r in rows)
            for key in RAW_AND_CHECKER
            if key.startswith("checker_")
        },
        **redteam.summary(rows),
    }
    return {key: _rounded(v) if isinstance(v, float) else v for key, v in out.items()}


def by_kind(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Correctness and refusals per kind of question (single, both, follow-up, ...)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["kind"] or "other", []).append(row)
    out = {
        kind: {
            "questions": len(group),
            "correctness": _rounded(
                m.mean([float(r["correct"]) for r in group if r["correct"] is not None])
            ),
            "refused": sum(r["refused"] for r in group),
        }
        for kind, group in groups.items()
    }
    for kind, group in groups.items():
        if any(r.get("redteam") for r in group):
            out[kind]["redteam_pass"] = _rounded(redteam.summary(group)["redteam_pass"])
    return out
