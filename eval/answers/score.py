"""Score the checker and any judge against the hand labels of eval/answers/.

    .venv/bin/python eval/answers/score.py [--judge offline --judge llamacpp --judge cross-encoder]

Reads answers.jsonl (the sentences, their cited passages and the checker's decision,
`checker_kept`) and labels.jsonl (the hand labels), and prints a markdown table: for the
checker and for each judge, on all sentences and per backend, n, accuracy, balanced accuracy,
precision and recall of "supported" and of "unsupported", and the two kinds of error
(kept but unsupported, removed but supported).

Each judge is called as `judge.judge(sentence_without_markers, [cited passage texts])` and its
`.supported` is read; by default the passages' full stored text (`--evidence screened`: the text
as the checker read it, injected instructions blanked). A judge that cannot be built (the
cross-encoder without its trained model) is skipped with a note; a judge call that fails with a
backend error counts as "not supported", as in qa's own judge scoring.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent

COLUMNS = (
    "judge",
    "sentences",
    "n",
    "accuracy",
    "balanced acc.",
    "P(supported)",
    "R(supported)",
    "P(unsupported)",
    "R(unsupported)",
    "kept but unsupported",
    "removed but supported",
)


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "—"


def metrics(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, str | int]:
    """truth/predicted: True = supported (kept)."""
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))  # kept, supported
    tn = sum(not t and not p for t, p in zip(truth, predicted, strict=True))  # removed, unsup.
    fp = sum(not t and p for t, p in zip(truth, predicted, strict=True))  # kept, unsupported
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))  # removed, supported
    n = len(truth)
    rec_s = tp / (tp + fn) if tp + fn else None
    rec_u = tn / (tn + fp) if tn + fp else None
    bal = (rec_s + rec_u) / 2 if rec_s is not None and rec_u is not None else None
    return {
        "n": n,
        "accuracy": ratio(tp + tn, n),
        "balanced acc.": f"{bal:.3f}" if bal is not None else "—",
        "P(supported)": ratio(tp, tp + fp),
        "R(supported)": ratio(tp, tp + fn),
        "P(unsupported)": ratio(tn, tn + fn),
        "R(unsupported)": ratio(tn, tn + fp),
        "kept but unsupported": fp,
        "removed but supported": fn,
    }


def run_judge(name: str, records: Sequence[dict], evidence: str) -> tuple[list[bool], list[str]]:
    """Verdicts (True = supported) of judge `name` on every record, and notes."""
    from qa.errors import BackendError
    from qa.evaluation.judges import make_judge
    from qa.grounding.markers import strip_markers
    from qa.index.embedding import Encoder
    from qa.settings import Settings

    settings = Settings.load()
    encoder = Encoder.of(settings.embedding)
    judge = make_judge(name, settings, encoder)
    key = "screened_text" if evidence == "screened" else "text"
    verdicts, notes, errors = [], [], 0
    for i, r in enumerate(records, 1):
        texts = [p[key] for p in r["passages"]]
        try:
            verdicts.append(bool(judge.judge(strip_markers(r["text"]), texts).supported))
        except BackendError as exc:
            errors += 1
            verdicts.append(False)
            notes.append(f"{name}: {r['id']}: backend error ({exc}), counted as not supported")
        if i % 25 == 0:
            print(f"  {name}: {i}/{len(records)}", file=sys.stderr, flush=True)
    model = getattr(getattr(judge, "inner", None), "model", None)
    close = getattr(model, "close", None)
    if callable(close):
        close()
    return verdicts, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", default=str(HERE / "answers.jsonl"))
    parser.add_argument("--labels", default=str(HERE / "labels.jsonl"))
    parser.add_argument("--judge", action="append", default=[], help="offline, llamacpp, ...")
    parser.add_argument("--evidence", choices=["full", "screened"], default="full")
    parser.add_argument("--by-set", action="store_true", help="also per source set")
    parser.add_argument("--verdicts", help="write every verdict (JSONL) here")
    args = parser.parse_args()

    records = load_jsonl(Path(args.answers))
    labels = {r["id"]: r for r in load_jsonl(Path(args.labels))}
    missing = [r["id"] for r in records if r["id"] not in labels]
    extra = sorted(set(labels) - {r["id"] for r in records})
    if missing or extra:
        print(f"labels do not match answers: {len(missing)} unlabelled, {len(extra)} unknown "
              f"(e.g. {(missing or extra)[:3]})", file=sys.stderr)
        return 1
    bad = [i for i, r in labels.items() if r["label"] not in ("supported", "unsupported")]
    if bad:
        print(f"bad label values: {bad[:5]}", file=sys.stderr)
        return 1
    truth = [labels[r["id"]]["label"] == "supported" for r in records]

    predictions: dict[str, list[bool]] = {"checker": [bool(r["checker_kept"]) for r in records]}
    notes: list[str] = []
    for name in args.judge:
        print(f"judge {name} on {len(records)} sentences ...", file=sys.stderr, flush=True)
        try:
            verdicts, judge_notes = run_judge(name, records, args.evidence)
        except Exception as exc:  # noqa: BLE001 - a judge that cannot be built is skipped
            notes.append(f"judge {name!r} skipped: {type(exc).__name__}: {exc}")
            continue
        predictions[name] = verdicts
        notes.extend(judge_notes)

    groups: list[tuple[str, list[int]]] = [("all", list(range(len(records))))]
    for backend in sorted({r["backend"] for r in records}):
        groups.append((backend, [i for i, r in enumerate(records) if r["backend"] == backend]))
    if args.by_set:
        for name in sorted({r["set"] for r in records}):
            groups.append((name, [i for i, r in enumerate(records) if r["set"] == name]))
            for backend in sorted({r["backend"] for r in records}):
                idx = [i for i, r in enumerate(records)
                       if r["set"] == name and r["backend"] == backend]
                groups.append((f"{name} / {backend}", idx))

    n_sup = sum(truth)
    print(f"{len(records)} labelled sentences: {n_sup} supported, {len(truth) - n_sup} "
          f"unsupported; judges read the cited passages' "
          f"{'screened' if args.evidence == 'screened' else 'full'} text\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for judge, predicted in predictions.items():
        for group, idx in groups:
            row = metrics([truth[i] for i in idx], [predicted[i] for i in idx])
            cells = [judge, group, *(str(row[c]) for c in COLUMNS[2:])]
            print("| " + " | ".join(cells) + " |")
    for note in notes:
        print(f"\nNote: {note}")
    if args.verdicts:
        with open(args.verdicts, "w", encoding="utf-8") as fh:
            for i, r in enumerate(records):
                fh.write(json.dumps({
                    "id": r["id"],
                    "label": labels[r["id"]]["label"],
                    **{j: ("supported" if p[i] else "unsupported") for j, p in predictions.items()},
                }) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
