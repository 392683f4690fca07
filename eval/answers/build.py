"""Generate answers of both backends on the DEVELOPMENT questions and write one record per
answer sentence, plus every raw answer (raw.jsonl) and a header (meta.json).

    .venv/bin/python eval/general/build_corpus.py /tmp/general-corpus
    .venv/bin/qa ingest /tmp/general-corpus --index /tmp/answers-general-index
    .venv/bin/qa ingest eval/hostile/articles --index /tmp/answers-hostile-index
    .venv/bin/python eval/answers/build.py [--backend extractive --backend llamacpp]

Questions, by a fixed rule: every line of eval/general/dev.jsonl and every line of
eval/hostile/cases.jsonl whose split is "dev", in file order. The test splits are never read
(the hostile file is filtered on `split` by qa's own loader before anything is asked).

Every sentence the checker parsed out of an answer is kept (`answer.sentences`), also when the
checker removed all of them and the answer became a refusal; sentences with no citation at all
(no valid marker and none added by the checker) are skipped, and so are refusals (the gate's,
or the model's own "the passages do not say"), which have no sentences.

All generated sentences go to answers-all.jsonl. The labelled set, answers.jsonl, is chosen
by a rule that reads no answer (`select`): every llamacpp sentence, and the extractive
sentences of the questions at even positions (0, 2, 4, ...) of each set; the other extractive
sentences go to answers-unlabelled.jsonl. `--select-only` re-applies the rule to existing files.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

SETS = {
    "general-dev": {
        "questions": ROOT / "eval/general/dev.jsonl",
        "split": None,
        "index": "/tmp/answers-general-index",
        "corpus": "/tmp/general-corpus",
    },
    "hostile-dev": {
        "questions": ROOT / "eval/hostile/cases.jsonl",
        "split": "dev",
        "index": "/tmp/answers-hostile-index",
        "corpus": str(ROOT / "eval/hostile/articles"),
    },
}


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    ).stdout.strip()


def tree_hash() -> str:
    """SHA-256 over qa/**/*.py as they are on disk now: the commit plus uncommitted edits."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "qa").rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["extractive", "llamacpp"])
    parser.add_argument("--set", action="append", choices=list(SETS), dest="sets")
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--limit", type=int, default=0, help="questions per set (0: all)")
    parser.add_argument(
        "--select-only",
        action="store_true",
        help="generate nothing: re-apply the selection rule to the files in --out",
    )
    args = parser.parse_args()
    if args.select_only:
        return select(Path(args.out))
    backends = args.backend or ["extractive", "llamacpp"]
    sets = args.sets or list(SETS)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from qa.answer.assistant import Assistant
    from qa.errors import BackendError
    from qa.evaluation.dataset import load_eval_set
    from qa.index.embedding import Encoder
    from qa.settings import Settings

    settings = Settings.load()
    encoder = Encoder.of(settings.embedding)
    records: list[dict] = []
    raws: list[dict] = []
    started = time.time()
    qa_tree = tree_hash()
    commit_at_start = git("rev-parse", "HEAD")
    for backend in backends:
        for set_name in sets:
            spec = SETS[set_name]
            items = load_eval_set(spec["questions"], split=spec["split"])
            if args.limit:
                items = items[: args.limit]
            bot = Assistant(settings, llm=backend, index=spec["index"], encoder=encoder)
            bot.warm_up()
            print(f"{backend} on {set_name}: {len(items)} questions", file=sys.stderr, flush=True)
            for done, item in enumerate(items, 1):
                history = [{"role": t.role, "content": t.content} for t in item.history]
                t0 = time.perf_counter()
                try:
                    answer = bot.answer(item.question, history=list(item.history))
                except BackendError as exc:
                    raws.append(
                        {"set": set_name, "backend": backend, "item_id": item.id,
                         "question": item.question, "error": str(exc)}
                    )
                    print(f"  {item.id}: backend error {exc}", file=sys.stderr, flush=True)
                    continue
                seconds = round(time.perf_counter() - t0, 2)
                by_n = {p.n: p for p in answer.passages}
                screened = {p.n: p.text for p in _screened(answer)}
                flagged_ns = {f.n for f in answer.flagged}
                about = {
                    "set": set_name,
                    "backend": backend,
                    "model": answer.model,
                    "item_id": item.id,
                    "kind": item.kind,
                    "question": item.question,
                    "history": history,
                    "standalone_query": answer.standalone_query,
                }
                raws.append(
                    {
                        **about,
                        "raw_text": answer.raw_text,
                        "text": answer.text,
                        "refused": answer.refused,
                        "refusal_reason": answer.refusal_reason,
                        "sentences": len(answer.sentences),
                        "flagged_passages": sorted(flagged_ns),
                        "seconds": seconds,
                    }
                )
                for k, s in enumerate(answer.sentences):
                    if not s.citations:
                        continue
                    added = "citation added by the checker" in s.reason
                    records.append(
                        {
                            "id": f"{backend}-{item.id}-{k}",
                            **about,
                            "sentence_index": k,
                            "answer_sentences": len(answer.sentences),
                            "text": s.text,
                            "citations": list(s.citations),
                            "citation_by": "checker" if added else "model",
                            "passages": [
                                {
                                    "n": n,
                                    "article_id": by_n[n].article_id,
                                    "title": by_n[n].title,
                                    "text": by_n[n].text,
                                    "flagged": n in flagged_ns,
                                    # the text as the checker read it (injected text blanked)
                                    "screened_text": screened.get(n, by_n[n].text),
                                }
                                for n in s.citations
                            ],
                            "checker_kept": bool(s.supported),
                            "checker_reason": s.reason,
                            "checker_score": s.score,
                        }
                    )
                if done % 10 == 0 or done == len(items):
                    print(
                        f"  {done}/{len(items)} ({time.time() - started:.0f}s, "
                        f"{len(records)} sentences so far)",
                        file=sys.stderr,
                        flush=True,
                    )
            close = getattr(bot.model, "close", None)
            if callable(close):
                close()
            del bot

    with (out / "answers-all.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with (out / "raw.jsonl").open("w", encoding="utf-8") as fh:
        for r in raws:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    meta = {
        "commit": commit_at_start,
        "commit_at_end": git("rev-parse", "HEAD"),
        "working_tree_dirty": bool(git("status", "--porcelain", "--", "qa")),
        "qa_tree_sha256_at_start": qa_tree,
        "qa_tree_sha256_at_end": tree_hash(),
        "note": "development set: eval/general/dev.jsonl and the dev split of "
        "eval/hostile/cases.jsonl only",
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(),
        "backends": backends,
        "sets": {name: {k: str(v) for k, v in SETS[name].items()} for name in sets},
        "settings": {
            k: v
            for k, v in settings.public().items()
            if k in ("temperature", "max_tokens", "top_k", "focus_sentences", "min_similarity",
                     "unsupported", "condense", "n_ctx", "embedding_model")
        },
        "questions": {
            f"{b}/{s}": sum(1 for r in raws if r["backend"] == b and r["set"] == s)
            for b in backends
            for s in sets
        },
        "sentences": {
            b: sum(1 for r in records if r["backend"] == b) for b in backends
        },
        "seconds": round(time.time() - started, 1),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(meta["sentences"]), file=sys.stderr)
    return select(out)


def select(out: Path) -> int:
    """The labelled set, by a fixed rule that reads no answer: every llamacpp sentence, and the
    extractive sentences of the questions at even positions (0, 2, 4, ... in file order) of
    each set. All generated sentences stay in answers-all.jsonl; the labelled set goes to
    answers.jsonl, the extractive rest to answers-unlabelled.jsonl."""
    from qa.evaluation.dataset import load_eval_set

    everything = out / "answers-all.jsonl"
    if not everything.exists():
        (out / "answers.jsonl").rename(everything)
    records = [json.loads(line) for line in everything.read_text("utf-8").splitlines() if line]
    position = {}
    for name, spec in SETS.items():
        for i, item in enumerate(load_eval_set(spec["questions"], split=spec["split"])):
            position[(name, item.id)] = i

    def chosen(r: dict) -> bool:
        return r["backend"] == "llamacpp" or position[(r["set"], r["item_id"])] % 2 == 0

    keep = [r for r in records if chosen(r)]
    rest = [r for r in records if not chosen(r)]
    for name, rows in (("answers.jsonl", keep), ("answers-unlabelled.jsonl", rest)):
        with (out / name).open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {}
    for r in keep:
        counts[r["backend"]] = counts.get(r["backend"], 0) + 1
    print(f"selected {len(keep)} of {len(records)} sentences: {counts}", file=sys.stderr)
    meta_path = out / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text("utf-8"))
        meta["selection"] = {
            "rule": "every llamacpp sentence; extractive sentences of the questions at even "
            "0-based positions of each set (file order)",
            "generated": len(records),
            "labelled_set": counts,
            "unlabelled": len(rest),
        }
        meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return 0


def _screened(answer):
    """The cited passages as the checker read them: flagged (injected) spans blanked."""
    from qa.text.hostile import screen

    readable, _ = screen(answer.passages)
    return readable


if __name__ == "__main__":
    raise SystemExit(main())
