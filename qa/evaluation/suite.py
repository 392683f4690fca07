"""One `qa eval` run end to end: make sure the index exists, answer the set with every
backend, score the judges on the labelled pairs, optionally run RGB, check thresholds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import IndexMissingError
from qa.procs import commit
from qa.settings import Settings

from .dataset import EvalItem, load_judge_set
from .judges import make_judge, score_judge
from .peer import NAME as PEER
from .redteam import article_texts
from .runner import by_kind, run_backend, totals


@dataclass(frozen=True)
class EvalPlan:
    """What to run; built by the command from its flags."""

    eval_set: Path
    items: tuple[EvalItem, ...]
    llms: tuple[str, ...] = ("extractive",)
    judge: str = "llamacpp"  # independent of the checker; "offline" is the checker's method
    judge_set: Path | None = None
    corpus: Path | None = None
    rgb: Path | None = None
    rgb_limit: int | None = None
    quiet: bool = False
    command: str = "qa eval"
    thresholds: dict[str, float] = field(default_factory=dict)


def index_size(settings: Settings, encoder: Any) -> int:
    """Chunks in the index; 0 when it does not exist yet."""
    from qa.index import Index

    try:
        return Index(settings.store, encoder.identity).store.count()
    except IndexMissingError:
        return 0


def default_corpus(plan: EvalPlan) -> Path | None:
    """The folder named like the set beside it (eval/redteam/ for eval/redteam.jsonl), or
    seeds/ beside the eval set's folder (or in the working folder), if it holds the gold
    articles of the set: what `qa eval eval/seeds.jsonl` needs on a fresh checkout."""
    gold = {a for item in plan.items for a in item.articles}
    where = plan.eval_set.resolve()
    for folder in (where.with_suffix(""), where.parent.parent / "seeds", Path("seeds")):
        if folder.is_dir() and gold and gold <= {p.stem.split(".")[0] for p in folder.iterdir()}:
            return folder
    return None


def prepare_index(plan: EvalPlan, settings: Settings, encoder: Any) -> Path | None:
    """Ingest --corpus (or the default corpus into an empty index); returns the folder
    ingested, if any."""
    from qa.index.ingest import Ingestor

    corpus = plan.corpus
    if corpus is None and index_size(settings, encoder) == 0:
        corpus = default_corpus(plan)
        if corpus is None:
            raise IndexMissingError(
                f"index at {settings.store.index}/ is empty: "
                "run `qa ingest DIR` or pass --corpus DIR"
            )
    if corpus is not None:
        Ingestor(settings, encoder).ingest([corpus], quiet=plan.quiet)
    return corpus


def evaluate(plan: EvalPlan, settings: Settings) -> dict[str, Any]:
    """The results dict the report, --json and the thresholds read."""
    from qa.answer.assistant import Assistant
    from qa.index.embedding import Encoder

    measured = commit()  # the code as it was loaded, not HEAD when a long run ends
    encoder = Encoder.of(settings.embedding)
    encoder.warm_up()
    corpus = prepare_index(plan, settings, encoder)
    # red-team quotes are also found in the articles themselves, when we know the files
    articles = article_texts(corpus) if corpus and any(i.redteam for i in plan.items) else None
    judge = make_judge(plan.judge, settings, encoder)
    backends = {}
    for llm in plan.llms:
        assistant: Any = Assistant(
            settings, llm="extractive" if llm == PEER else llm, encoder=encoder
        )
        if llm == PEER:  # the plain llama-index CitationQueryEngine, same model and index
            from .peer import CitationEnginePeer

            assistant = CitationEnginePeer(settings, encoder, assistant.retriever)
        rows = run_backend(assistant, plan.items, judge, llm, plan.quiet, articles)
        backends[llm] = {
            "totals": totals(rows, settings.answer.top_k),
            "by_kind": by_kind(rows),
            "questions": rows,
        }
    judges = []
    if plan.judge_set is not None:
        pairs = load_judge_set(plan.judge_set)
        names = dict.fromkeys(["offline", plan.judge])
        judges = [
            asdict(
                score_judge(judge if n == plan.judge else make_judge(n, settings, encoder), pairs)
            )
            for n in names
        ]
    rgb = None
    if plan.rgb is not None:
        from .rgb import run_rgb

        rgb = run_rgb(plan.rgb, settings, encoder, plan.llms, plan.rgb_limit, plan.quiet)
    return {
        "eval_set": str(plan.eval_set),
        "command": plan.command,
        "judge": judge.name,
        "questions": len(plan.items),
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "commit": measured,
        "index": str(settings.store.index),
        "backends": backends,
        "judges": judges,
        "rgb": rgb,
    }


# flag name -> (where the figure is, True when higher is better)
THRESHOLDS: dict[str, tuple[str, bool]] = {
    "min_correctness": ("correctness", True),
    "min_hit_rate": ("hit@k", True),
    "min_mrr": ("mrr", True),
    "min_citation_recall": ("citation_recall", True),
    "min_citation_precision": ("citation_precision", True),
    "min_faithfulness": ("faithfulness", True),
    "min_refusal_precision": ("refusal_precision", True),
    "min_refusal_recall": ("refusal_recall", True),
    "min_redteam_pass": ("redteam_pass", True),
    "max_p95_latency": ("total_p95", False),
    "min_judge_accuracy": ("judge", True),
    "min_rgb_accuracy": ("rgb", True),
}


def _figures(results: dict[str, Any], metric: str) -> list[tuple[str, float | None]]:
    """(label, value) pairs a threshold applies to: one per backend (or per judge)."""
    if metric == "judge":
        return [
            (f"judge {j['name']} balanced accuracy", j["balanced_accuracy"])
            for j in results["judges"]
        ] or [("judge balanced accuracy", None)]
    if metric == "rgb":
        runs = (results.get("rgb") or {}).get("backends", {})
        return [(f"{n} rgb accuracy", r["accuracy"]) for n, r in runs.items()] or [
            ("rgb accuracy (run with --rgb)", None)
        ]
    return [(f"{n} {metric}", run["totals"].get(metric)) for n, run in results["backends"].items()]


def unmet_thresholds(results: dict[str, Any], limits: dict[str, float]) -> list[str]:
    """One phrase per figure that misses its threshold ("extractive correctness 0.60 < 0.70")."""
    failures = []
    for flag, limit in limits.items():
        metric, higher = THRESHOLDS[flag]
        for label, value in _figures(results, metric):
            if value is None:
                failures.append(f"{label} not measured (--{flag.replace('_', '-')} {limit})")
            elif (value < limit) if higher else (value > limit):
                failures.append(f"{label} {value:.3f} {'<' if higher else '>'} {limit}")
    return failures


def command_line(argv: Sequence[str]) -> str:
    return " ".join(["qa", *(a if a and " " not in a else repr(a) for a in argv)])
