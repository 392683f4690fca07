#!/usr/bin/env python
"""Verify the "general" evaluation sets against the corpus that build_corpus.py writes.

    python eval/general/check.py CORPUS_DIR [SET.jsonl ...]

Without set paths it checks dev.jsonl and test.jsonl next to this file.  Checks:

* every line is a JSON object with the schema of eval/seeds.jsonl (id, kind, question,
  answers, articles, evidence; history for follow-ups), ids unique and named SPLIT-KIND-NN;
* every article id names a file CORPUS_DIR/ID.txt;
* answerable questions: every evidence string occurs character for character in one of the
  question's article files; every answer occurs (case-insensitively) in its evidence (for a
  multi question: in at least one of its evidence sentences); a multi question names at
  least two articles and has evidence from each; a follow-up has a user/assistant history
  whose last assistant turn cites [1];
* unanswerable questions: no answers, no evidence, at least one near-miss article; the
  strings in UNANSWERABLE_CHECKS (the real-world answer, or words a passage holding the answer
  would need) occur nowhere in the corpus ("absent") or nowhere in the near-miss articles
  ("absent_in"), case-insensitively;
* the split: each article's questions sit in the split the fixed rule gives it (article ids of
  the corpus sorted; positions 0, 2, 4, ... are dev, 1, 3, 5, ... are test), so no article has
  questions on both sides.

Prints the counts per split and kind; exits 1 on any problem, 2 on bad usage.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter, defaultdict
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("single", "multi", "follow-up", "unanswerable", "paraphrase")
ID_RE = re.compile(r"^(dev|test)-(single|multi|follow-up|unanswerable|paraphrase)-\d{2}$")
KEYS = {"id", "kind", "question", "answers", "articles", "evidence", "history"}

# Per unanswerable question: strings that must not occur anywhere in the corpus ("absent")
# or in its near-miss articles ("absent_in"); all case-insensitive.
UNANSWERABLE_CHECKS: dict[str, dict[str, list[str]]] = {
    "dev-unanswerable-01": {
        "absent": ["million viewers", "one billion", "1 billion"],
        "absent_in": ["viewers", "audience"],
    },
    "dev-unanswerable-02": {"absent": ["Spotlight"]},
    "dev-unanswerable-03": {
        "absent": ["$400", "per statuette"],
        "absent_in": ["cost to make", "costs $"],
    },
    "dev-unanswerable-04": {"absent": ["turnout"]},
    "dev-unanswerable-05": {"absent": ["205,764"], "absent_in": ["200,000"]},
    "dev-unanswerable-06": {"absent": ["Wimbledon"]},
    "dev-unanswerable-07": {"absent": ["GDP", "gross domestic product"]},
    "dev-unanswerable-08": {"absent_in": ["population", "estimated"]},
    "dev-unanswerable-09": {"absent": ["discovered by", "Rangabé"]},
    "dev-unanswerable-10": {"absent_in": ["$", "price", "cost", "dollar"]},
    "dev-unanswerable-11": {"absent": ["Second Chances"]},
    "dev-unanswerable-12": {"absent_in": ["$", "billion", "million"]},
    "dev-unanswerable-13": {
        "absent": ["December 31, 2016", "31 December 2016"],
        "absent_in": ["2016"],
    },
    "dev-unanswerable-14": {"absent_in": ["founded", "1875", "established in"]},
    "dev-unanswerable-15": {"absent_in": ["1809", "born"]},
    "dev-unanswerable-16": {"absent": ["1889", "1876"]},
    "dev-unanswerable-17": {"absent_in": ["students", "enrol"]},
    "dev-unanswerable-18": {"absent_in": ["budget", "million", "pesetas"]},
    "dev-unanswerable-19": {"absent": ["William Egan", "Bill Egan"], "absent_in": ["governor"]},
    "dev-unanswerable-20": {"absent_in": ["flag"]},
    "dev-unanswerable-21": {"absent_in": ["2018", "2019", "was adopted", "redefined"]},
    "test-unanswerable-01": {"absent_in": ["$", "cost", "billion"]},
    "test-unanswerable-02": {"absent": ["New England Patriots won"], "absent_in": ["2017"]},
    "test-unanswerable-03": {"absent_in": ["lek", "currency"]},
    "test-unanswerable-04": {"absent_in": ["copies", "million"]},
    "test-unanswerable-05": {
        "absent": ["laryngeal"],
        "absent_in": ["cancer", "died of", "cause of death"],
    },
    "test-unanswerable-06": {"absent_in": ["tall", "feet", "inches", "height"]},
    "test-unanswerable-07": {
        "absent_in": ["head of government", "Prime Minister", "Head of Government"],
        "absent": ["Antoni Martí"],
    },
    "test-unanswerable-08": {"absent_in": ["million", "practitioners worldwide"]},
    "test-unanswerable-09": {"absent_in": ["doctorate", "PhD", "thesis", "École Normale"]},
    "test-unanswerable-10": {"absent_in": ["students attended", "number of students"]},
    "test-unanswerable-11": {"absent_in": ["launched on", "was launched"]},
    "test-unanswerable-12": {"absent_in": ["1993", "December", "scheduled for"]},
    "test-unanswerable-13": {"absent_in": ["$", "million", "billion"]},
    "test-unanswerable-14": {"absent_in": ["published by", "publisher"]},
    "test-unanswerable-15": {"absent": ["Gene Kelly", "Vincente Minnelli"], "absent_in": ["1951"]},
    "test-unanswerable-16": {"absent": ["We the Living"]},
    "test-unanswerable-17": {"absent_in": ["minutes", "running time", "runtime"]},
    "test-unanswerable-18": {
        "absent": ["Halas", "Batchelor"],
        "absent_in": ["animated", "film adaptation"],
    },
    "test-unanswerable-19": {"absent_in": ["first film", "debut", "first movie"]},
    "test-unanswerable-20": {
        "absent_in": ["population of Andorra la Vella", "Andorra la Vella has", "inhabitants"]
    },
}


def split_rule(article_ids: list[str]) -> dict[str, str]:
    """Sorted article ids alternate: even positions are dev, odd positions are test."""
    return {aid: ("dev" if i % 2 == 0 else "test") for i, aid in enumerate(sorted(article_ids))}


def load_corpus(corpus_dir: str) -> dict[str, str]:
    texts = {}
    for name in sorted(os.listdir(corpus_dir)):
        if name.endswith(".txt"):
            with open(os.path.join(corpus_dir, name), encoding="utf-8") as fh:
                texts[name[:-4]] = fh.read()
    return texts


def _strings(value: Any, allow_empty: bool = True) -> bool:
    if not isinstance(value, list) or (not value and not allow_empty):
        return False
    return all(isinstance(s, str) and s.strip() for s in value)


def _history_ok(hist: Any) -> bool:
    if not isinstance(hist, list) or len(hist) < 2:
        return False
    for turn in hist:
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            return False
        if not isinstance(turn.get("content"), str) or not turn["content"].strip():
            return False
    return True


def check_record(
    rec: dict[str, Any], split: str, texts: dict[str, str], rule: dict[str, str]
) -> list[str]:
    """The problems with one eval line (an empty list when it is fine)."""
    qid, kind = rec.get("id"), rec.get("kind")
    if not isinstance(qid, str) or not ID_RE.match(qid):
        return ["id must look like dev-single-01"]
    if kind not in KINDS:
        return [f"unknown kind {kind!r}"]
    out = []
    if qid.split("-")[0] != split or qid[len(split) + 1 : -3] != kind:
        out.append(f"id does not match split {split!r} and kind {kind!r}")
    if set(rec) - KEYS:
        out.append(f"unexpected keys {sorted(set(rec) - KEYS)}")
    if not isinstance(rec.get("question"), str) or not rec["question"].strip():
        out.append("empty question")
    if not _strings(rec.get("answers")):
        return [*out, "answers must be a list of non-empty strings"]
    if not _strings(rec.get("articles"), allow_empty=False):
        return [*out, "articles must be a non-empty list of article ids"]
    if not _strings(rec.get("evidence", [])):
        return [*out, "evidence must be a list of non-empty strings"]
    answers: list[str] = rec["answers"]
    articles: list[str] = rec["articles"]
    evidence: list[str] = rec.get("evidence", [])
    missing = [a for a in articles if a not in texts]
    if missing:
        return [*out, f"no corpus file for {missing}"]
    out += [
        f"article {a} belongs to the {rule[a]} split by the split rule"
        for a in articles
        if rule[a] != split
    ]
    if ("history" in rec) != (kind == "follow-up"):
        out.append("history is required for follow-up questions and only for them")

    if kind == "unanswerable":
        if answers or evidence:
            out.append("an unanswerable question has answers [] and no evidence")
        spec = UNANSWERABLE_CHECKS.get(qid)
        if spec is None:
            return [*out, "no entry in UNANSWERABLE_CHECKS"]
        for term in spec.get("absent", []):
            hits = [aid for aid, t in texts.items() if term.lower() in t.lower()]
            if hits:
                out.append(f"{term!r} occurs in the corpus: {hits}")
        for term in spec.get("absent_in", []):
            hits = [aid for aid in articles if term.lower() in texts[aid].lower()]
            if hits:
                out.append(f"{term!r} occurs in the near-miss article(s) {hits}")
        return out

    if not answers:
        out.append("an answerable question needs answers")
    if not evidence:
        return [*out, "an answerable question needs evidence"]
    covered: set[str] = set()
    for e in evidence:
        holders = [a for a in articles if e in texts[a]]
        if not holders:
            out.append(f"evidence is not verbatim in {articles}: {e[:80]!r}")
        covered.update(holders)
    for a in answers:
        if not any(a.lower() in e.lower() for e in evidence):
            out.append(f"answer {a!r} is not in the evidence")
    if kind == "multi":
        if len(set(articles)) < 2:
            out.append("a multi question names two articles")
        if not set(articles) <= covered:
            out.append(f"no evidence from {sorted(set(articles) - covered)}")
    elif len(articles) != 1 or len(evidence) != 1:
        out.append(f"a {kind} question has one article and one evidence sentence")
    if kind == "follow-up":
        hist = rec.get("history") or []
        if not _history_ok(hist):
            out.append("history must be a list of {role: user|assistant, content} turns")
        elif hist[-1]["role"] != "assistant" or "[1]" not in hist[-1]["content"]:
            out.append("the last history turn is the assistant's, citing [1]")
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    corpus_dir = argv[1]
    sets = argv[2:] or [os.path.join(HERE, "dev.jsonl"), os.path.join(HERE, "test.jsonl")]
    if not os.path.isdir(corpus_dir):
        print(f"no corpus folder {corpus_dir!r}; build it with build_corpus.py", file=sys.stderr)
        return 2
    texts = load_corpus(corpus_dir)
    rule = split_rule(list(texts))
    problems: list[str] = []
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    seen: set[str] = set()
    used: dict[str, set[str]] = defaultdict(set)

    for path in sets:
        split = os.path.basename(path).split(".")[0]
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.readlines()
        except OSError as exc:
            problems.append(f"{path}: {exc}")
            continue
        for lineno, line in enumerate(lines, 1):
            where = f"{os.path.basename(path)}:{lineno}"
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: bad JSON ({exc})")
                continue
            if not isinstance(rec, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            qid = rec.get("id", "?")
            if qid in seen:
                problems.append(f"{where} {qid}: duplicate id")
            seen.add(qid)
            problems += [f"{where} {qid}: {p}" for p in check_record(rec, split, texts, rule)]
            if rec.get("kind") in KINDS:
                counts[split][rec["kind"]] += 1
            used[split].update(a for a in rec.get("articles") or [] if isinstance(a, str))

    both = used["dev"] & used["test"]
    if both:
        problems.append(f"articles with questions in both splits: {sorted(both)}")
    stale = set(UNANSWERABLE_CHECKS) - seen
    if stale and not argv[2:]:
        problems.append(f"UNANSWERABLE_CHECKS entries without a question: {sorted(stale)}")

    n_dev = sum(1 for s in rule.values() if s == "dev")
    print(f"corpus: {len(texts)} articles in {corpus_dir} ({n_dev} dev, {len(texts) - n_dev} test)")
    print(f"{'split':<6}" + "".join(f"{k:>14}" for k in KINDS) + f"{'total':>8}{'articles':>10}")
    for split in sorted(counts):
        total = sum(counts[split].values())
        cells = "".join(
            f"{counts[split][k]:>6} ({100 * counts[split][k] / total:>4.1f}%)" for k in KINDS
        )
        print(f"{split:<6}{cells}{total:>8}{len(used[split]):>10}")
    print(f"all   {sum(sum(c.values()) for c in counts.values())} questions")
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(
        "OK: every evidence sentence is verbatim, every answer is in its evidence, "
        "unanswerable near misses hold no answer, and no article is on both sides"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
