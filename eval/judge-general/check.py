#!/usr/bin/env python
"""Verify the general-domain judge sets (dev.jsonl, test.jsonl) against the built corpus.

    .venv/bin/python eval/general/build_corpus.py /tmp/general-corpus
    .venv/bin/python eval/judge-general/check.py /tmp/general-corpus

Checks, for both files:

* each file loads with `qa.evaluation.dataset.load_judge_set`, and every line has the fields
  of its kind: `id`, `kind`, `sentence`, `supported`, and either `passage` + `article` or, for
  kind `split`, `passages` + `articles` (two of each);
* ids are unique across both files and named jg-SPLIT-NNN; kinds are the eight known ones;
  the label fits the kind (verbatim/paraphrase supported, the swap/negation/overclaim/
  unrelated kinds unsupported, split either);
* every passage occurs character for character in its article file CORPUS_DIR/ID.txt, is
  300-1,200 characters long, and starts and ends at a sentence boundary;
* every article sits in the file's split by the eval/general rule (sorted article ids:
  positions 0, 2, 4, ... dev; 1, 3, 5, ... test), both passages of a split pair included;
* size and balance: at least 14 pairs of every kind, at least 10 supported and 4 unsupported
  split pairs, at least 20 articles, Wikipedia and newsgroup text both present, per split;
  no claim sentence is repeated for the same passage(s).

Prints the counts per split, kind and label; exits 1 on any problem, 2 on bad usage.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # the repository root, for `qa`

from qa.errors import InputError  # noqa: E402
from qa.evaluation.dataset import load_judge_set  # noqa: E402

KINDS = (
    "verbatim",
    "paraphrase",
    "number_swap",
    "name_swap",
    "negation",
    "overclaim",
    "unrelated",
    "split",
)
LABEL = {
    "verbatim": True,
    "paraphrase": True,
    "number_swap": False,
    "name_swap": False,
    "negation": False,
    "overclaim": False,
    "unrelated": False,
}
ID_RE = re.compile(r"^jg-(dev|test)-\d{3}$")
SINGLE_KEYS = {"id", "kind", "sentence", "passage", "supported", "article"}
SPLIT_KEYS = {"id", "kind", "sentence", "passages", "supported", "articles"}
MIN_CHARS, MAX_CHARS = 300, 1200
MIN_PER_KIND, MIN_SPLIT_TRUE, MIN_SPLIT_FALSE, MIN_ARTICLES = 14, 10, 4, 20
ENDS = (".", "!", "?", '"', ")", "...")


def article_splits(corpus: Path) -> dict[str, str]:
    ids = sorted(p.stem for p in corpus.glob("*.txt"))
    return {aid: ("dev" if i % 2 == 0 else "test") for i, aid in enumerate(ids)}


def check_passage(text: str, passage: str) -> str | None:
    """None if `passage` is a verbatim excerpt cut at sentence boundaries, else the reason."""
    start = text.find(passage)
    if start < 0:
        return "does not occur verbatim in the article"
    if not MIN_CHARS <= len(passage) <= MAX_CHARS:
        return f"is {len(passage)} characters long (want {MIN_CHARS}-{MAX_CHARS})"
    before = text[:start].rstrip(" ")
    if before and not before.endswith(("\n", *ENDS)):
        return f"does not start at a sentence boundary (...{before[-25:]!r})"
    if not passage.rstrip().endswith((*ENDS, ":)")):
        return f"does not end at a sentence boundary ({passage[-25:]!r})"
    return None


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        print("usage: check.py CORPUS_DIR", file=sys.stderr)
        return 2
    corpus = Path(sys.argv[1])
    if not corpus.is_dir():
        print(
            f"{corpus} is not a directory: build it with eval/general/build_corpus.py",
            file=sys.stderr,
        )
        return 2
    splits = article_splits(corpus)
    if len(splits) != 59:
        print(f"expected 59 article files in {corpus}, found {len(splits)}", file=sys.stderr)
        return 2
    texts = {aid: (corpus / f"{aid}.txt").read_text("utf-8") for aid in splits}

    problems: list[str] = []
    seen_ids: set[str] = set()
    table: dict[str, Counter] = {}
    for split in ("dev", "test"):
        path = HERE / f"{split}.jsonl"
        try:
            loaded = load_judge_set(path)
        except InputError as exc:
            problems.append(f"{path.name}: load_judge_set failed: {exc}")
            continue
        lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
        if len(loaded) != len(lines):
            problems.append(
                f"{path.name}: load_judge_set returned {len(loaded)} pairs for {len(lines)} lines"
            )
        counts: Counter = Counter()
        articles: set[str] = set()
        claims: set[tuple] = set()
        for number, line in enumerate(lines, 1):
            where = f"{path.name}:{number}"
            rec = json.loads(line)
            rid = rec.get("id", "")
            where = f"{where} ({rid})"
            kind = rec.get("kind")
            if not ID_RE.match(rid) or not rid.startswith(f"jg-{split}-"):
                problems.append(f"{where}: id must be jg-{split}-NNN")
            if rid in seen_ids:
                problems.append(f"{where}: id used twice")
            seen_ids.add(rid)
            if kind not in KINDS:
                problems.append(f"{where}: unknown kind {kind!r}")
                continue
            keys = SPLIT_KEYS if kind == "split" else SINGLE_KEYS
            if set(rec) != keys:
                problems.append(f"{where}: fields {sorted(rec)} (want {sorted(keys)})")
                continue
            if not isinstance(rec["supported"], bool):
                problems.append(f"{where}: supported must be true or false")
                continue
            if kind in LABEL and rec["supported"] is not LABEL[kind]:
                problems.append(f"{where}: {kind} pairs must have supported={LABEL[kind]}")
            if kind == "split":
                passages, arts = rec["passages"], rec["articles"]
                pair_ok = isinstance(passages, list) and isinstance(arts, list)
                if not (pair_ok and len(passages) == len(arts) == 2):
                    problems.append(f"{where}: split pairs need two passages and two articles")
                    continue
                if passages[0] == passages[1]:
                    problems.append(f"{where}: the two passages are the same text")
            else:
                passages, arts = [rec["passage"]], [rec["article"]]
            for passage, aid in zip(passages, arts, strict=True):
                if aid not in texts:
                    problems.append(f"{where}: no article file {aid}.txt in {corpus}")
                    continue
                if splits[aid] != split:
                    problems.append(f"{where}: article {aid} belongs to {splits[aid]}, not {split}")
                reason = check_passage(texts[aid], passage)
                if reason:
                    problems.append(f"{where}: passage from {aid} {reason}")
                articles.add(aid)
            key = (rec["sentence"].strip(), tuple(passages))
            if key in claims:
                problems.append(f"{where}: the same claim and passage(s) occur twice")
            claims.add(key)
            counts[(kind, rec["supported"])] += 1
        table[split] = counts
        for kind in KINDS:
            n = counts[(kind, True)] + counts[(kind, False)]
            if n < MIN_PER_KIND:
                problems.append(f"{split}: {n} {kind} pairs (want at least {MIN_PER_KIND})")
        n_true, n_false = counts[("split", True)], counts[("split", False)]
        if n_true < MIN_SPLIT_TRUE or n_false < MIN_SPLIT_FALSE:
            problems.append(
                f"{split}: split pairs {n_true} supported / {n_false} unsupported "
                f"(want at least {MIN_SPLIT_TRUE} / {MIN_SPLIT_FALSE})"
            )
        if len(articles) < MIN_ARTICLES:
            problems.append(
                f"{split}: pairs come from {len(articles)} articles (want at least {MIN_ARTICLES})"
            )
        sources = {aid.split("_", 1)[0] for aid in articles}
        if sources != {"wiki", "news"}:
            problems.append(f"{split}: sources {sorted(sources)} (want both wiki and news)")
        wiki = sum(a.startswith("wiki_") for a in articles)
        print(
            f"{split}: {sum(counts.values())} pairs from {len(articles)} articles "
            f"({wiki} Wikipedia, {len(articles) - wiki} newsgroup)"
        )

    if table:
        print(
            f"{'kind':<12}"
            + "".join(f"{s + ' true':>11}{s + ' false':>12}" for s in table)
            + f"{'total':>8}"
        )
        for kind in [*KINDS, "all"]:
            row, total = f"{kind:<12}", 0
            for counts in table.values():
                true = sum(v for (k, lab), v in counts.items() if lab and kind in (k, "all"))
                false = sum(v for (k, lab), v in counts.items() if not lab and kind in (k, "all"))
                row += f"{true:>11}{false:>12}"
                total += true + false
            print(row + f"{total:>8}")

    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
