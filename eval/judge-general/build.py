"""Write dev.jsonl and test.jsonl from the hand-written pairs in pairs_dev.py / pairs_test.py.

    .venv/bin/python eval/general/build_corpus.py /tmp/general-corpus
    .venv/bin/python eval/judge-general/build.py /tmp/general-corpus

Each passage is cut out of its article file (first words .. last words), so it is a verbatim,
contiguous excerpt; the script stops with an error if a marker is missing or ambiguous, if a
passage is shorter than 300 or longer than 1,200 characters, if it does not start and end at a
sentence boundary, or if a pair sits on the wrong side of the dev/test split. Ids are assigned
in list order: jg-dev-001, jg-test-001, ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pairs_dev  # noqa: E402
import pairs_test  # noqa: E402

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
SUPPORTED_KINDS = {"verbatim": True, "paraphrase": True}
MIN_CHARS, MAX_CHARS = 300, 1200


def article_splits(corpus: Path) -> dict[str, str]:
    """Sorted article ids: even positions are dev, odd positions are test (eval/general rule)."""
    ids = sorted(p.stem for p in corpus.glob("*.txt"))
    if len(ids) != 59:
        sys.exit(
            f"expected 59 article files in {corpus}, found {len(ids)}: "
            "run eval/general/build_corpus.py first"
        )
    return {aid: ("dev" if i % 2 == 0 else "test") for i, aid in enumerate(ids)}


def cut(text: str, first: str, last: str, where: str) -> str:
    start = text.find(first)
    if start < 0:
        sys.exit(f"{where}: start marker not found: {first!r}")
    if text.find(first, start + 1) >= 0:
        sys.exit(f"{where}: start marker occurs twice: {first!r}")
    end = text.find(last, start)
    if end < 0:
        sys.exit(f"{where}: end marker not found after start: {last!r}")
    passage = text[start : end + len(last)]
    if not MIN_CHARS <= len(passage) <= MAX_CHARS:
        sys.exit(f"{where}: passage has {len(passage)} characters (want {MIN_CHARS}-{MAX_CHARS})")
    before = text[:start].rstrip(" ")
    if before and not (before.endswith("\n") or before.endswith((".", "!", "?", ")", '"'))):
        sys.exit(f"{where}: passage does not start at a sentence boundary: ...{before[-30:]!r}")
    after = text[end + len(last) :]
    if after and not after.startswith(("\n", " ")):
        sys.exit(f"{where}: passage does not end at a word boundary: {after[:20]!r}")
    return passage


def build(corpus: Path) -> dict[str, list[dict]]:
    splits = article_splits(corpus)
    out: dict[str, list[dict]] = {}
    for split, module in (("dev", pairs_dev), ("test", pairs_test)):
        passages: dict[str, tuple[str, str]] = {}
        for key, (article, first, last) in module.PASSAGES.items():
            path = corpus / f"{article}.txt"
            if not path.is_file():
                sys.exit(f"{split}/{key}: no article file {path}")
            if splits[article] != split:
                sys.exit(f"{split}/{key}: article {article} is in {splits[article]}, not {split}")
            passages[key] = (article, cut(path.read_text("utf-8"), first, last, f"{split}/{key}"))
        used = set()
        records = []
        for number, (keys, kind, supported, sentence) in enumerate(module.PAIRS, 1):
            where = f"{split} pair {number}"
            if kind not in KINDS:
                sys.exit(f"{where}: unknown kind {kind!r}")
            if kind in SUPPORTED_KINDS and supported is not True:
                sys.exit(f"{where}: {kind} pairs are supported")
            if kind not in SUPPORTED_KINDS and kind != "split" and supported is not False:
                sys.exit(f"{where}: {kind} pairs are unsupported")
            record = {"id": f"jg-{split}-{number:03d}", "kind": kind, "sentence": sentence}
            if kind == "split":
                if not (isinstance(keys, tuple) and len(keys) == 2):
                    sys.exit(f"{where}: split pairs need two passage keys")
                record["passages"] = [passages[k][1] for k in keys]
                record["supported"] = supported
                record["articles"] = [passages[k][0] for k in keys]
            else:
                if not isinstance(keys, str):
                    sys.exit(f"{where}: only split pairs take two passages")
                record["passage"] = passages[keys][1]
                record["supported"] = supported
                record["article"] = passages[keys][0]
            used.update([keys] if isinstance(keys, str) else keys)
            records.append(record)
        unused = set(passages) - used
        if unused:
            sys.exit(f"{split}: passages defined but not used: {sorted(unused)}")
        out[split] = records
    return out


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: build.py CORPUS_DIR")
    sets = build(Path(sys.argv[1]))
    for split, records in sets.items():
        path = HERE / f"{split}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"wrote {len(records)} pairs to {path}")


if __name__ == "__main__":
    main()
