"""How well qa.text.hostile tells instructions from news: detection on the red-team attacks,
false alarms on ordinary sentences.

    python eval/hostile/detector.py [--ordinary /tmp/ordinary.jsonl]
                                    [--split dev|test|all|both] [--show] [--json OUT]

- attacks: `attacks.jsonl`, each attack text through `qa.text.hostile.flags`; detected when one
  of its sentences is flagged (for `encoded` the attack as written, not the payload; HTML
  as text, see `as_read`).
- hard negatives: `hard_negatives.jsonl`, 60 hand-written news sentences that look like
  orders; split odd/even by number (odd = dev).
- extra, extra2: `extra/` and `extra2/`, later development sets (90 attacks and 80 hard
  negatives; 72 and 72), with dev.
- ordinary: the output of `ordinary.py` (>= 1,000 real sentences; RGB passages, the seeds,
  mini_newsgroup); split by a hash of the id (dev/test, about half each).

Rules in qa/text/hostile.py were written from the dev split only; report test. `--show` prints
the misses and false alarms of the chosen split (use it on dev only). `--split both` measures
dev and test apart, in one file with its commit and command (what `make figures-detector`
writes into eval/baseline.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from qa.text.hostile import assess, flags  # noqa: E402

_TAG = re.compile(r"<[/a-zA-Z][^>]*>")
_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_ATTR = re.compile(r"\b(?:alt|title|content)\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)


def as_read(attack: str) -> str:
    """An HTML attack as text: tags out, the text of alt/title/content attributes in (the
    loader drops hidden elements and comments entirely; this measures the detector alone)."""
    if "<" not in attack:
        return attack
    attack = _COMMENT.sub(lambda m: m.group(1), attack)
    return _TAG.sub(lambda m: " " + " ".join(_ATTR.findall(m.group())) + " ", attack).strip()


def _split_of_id(text: str) -> str:
    return "dev" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2 == 0 else "test"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def measure(split: str, ordinary: Path | None, show: bool) -> dict:
    out: dict = {"split": split}
    attacks = [a for a in _rows(HERE / "attacks.jsonl") if split in ("all", a["split"])]
    by_kind: dict[str, list[int]] = {}
    misses = []
    for a in attacks:
        hit = bool(flags(as_read(a["attack"])))
        by_kind.setdefault(a["kind"], [0, 0])
        by_kind[a["kind"]][0] += hit
        by_kind[a["kind"]][1] += 1
        if not hit:
            misses.append(f"{a['case']} {a['kind']}: {a['attack'][:160]}")
    found = sum(v[0] for v in by_kind.values())
    out["attacks"] = {
        "detected": found,
        "of": len(attacks),
        "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())},
    }
    alarms = []
    negatives = []
    for row in _rows(HERE / "hard_negatives.jsonl"):
        number = int("".join(c for c in row["id"] if c.isdigit()))
        if split in ("all", "dev" if number % 2 else "test"):
            negatives.append(row["sentence"])
    hard_fp = [s for s in negatives if assess(s)]
    alarms += [f"hard: {s} -> {assess(s)}" for s in hard_fp]
    out["hard_negatives"] = {"flagged": len(hard_fp), "of": len(negatives)}
    if split in ("dev", "all"):
        for folder in LATER_DEV_SETS:
            out[folder] = measure_extra(folder)
    if ordinary is not None:
        rows = [r for r in _rows(ordinary) if split in ("all", _split_of_id(r["id"]))]
        fp = [r for r in rows if assess(r["sentence"])]
        alarms += [
            f"ordinary {r['id']}: {r['sentence'][:160]} -> {assess(r['sentence'])}" for r in fp
        ]
        hard = [r for r in rows if r.get("hard")]
        out["ordinary"] = {
            "flagged": len(fp),
            "of": len(rows),
            "rate": round(len(fp) / max(1, len(rows)), 4),
            "hard_flagged": sum(1 for r in hard if assess(r["sentence"])),
            "hard_of": len(hard),
        }
    if show:
        print("\n".join(["misses:", *misses, "false alarms:", *alarms]), file=sys.stderr)
    return out


# Later development sets, written fresh after the first split: `extra/` (90 attacks in nine
# styles, 80 hard negatives) and `extra2/` (72 attacks in five styles, 72 hard negatives).
LATER_DEV_SETS = ("extra", "extra2")


def measure_extra(folder: str = "extra") -> dict:
    """A later development set: rules were written from it, so it counts as dev only."""
    by_kind: dict[str, list[int]] = {}
    for a in _rows(HERE / folder / "attacks.jsonl"):
        hit = bool(flags(as_read(a["attack"])))
        by_kind.setdefault(a["kind"], [0, 0])
        by_kind[a["kind"]][0] += hit
        by_kind[a["kind"]][1] += 1
    negatives = [r["sentence"] for r in _rows(HERE / folder / "hard_negatives.jsonl")]
    return {
        "attacks": {
            "detected": sum(v[0] for v in by_kind.values()),
            "of": sum(v[1] for v in by_kind.values()),
            "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())},
        },
        "hard_negatives": {"flagged": sum(1 for s in negatives if assess(s)), "of": len(negatives)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ordinary", type=Path)
    parser.add_argument("--split", default="test", choices=("dev", "test", "all", "both"))
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.split == "both":
        from datetime import UTC, datetime

        from qa.procs import commit

        result = {
            "command": "python eval/hostile/detector.py " + " ".join(sys.argv[1:]),
            "commit": commit(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "splits": {split: measure(split, args.ordinary, False) for split in ("dev", "test")},
        }
    else:
        result = measure(args.split, args.ordinary, args.show)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
