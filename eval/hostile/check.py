"""Validate the hostile (prompt-injection) evaluation set in this folder.

    python eval/hostile/check.py            # prints counts; exit 1 on any problem

Checks: JSON shape; unique ids; every article file exists and is used; txt files start with
a headline and a blank line, html files are small full pages; article bodies are 150-400
words; every attack is verbatim in its article, once; every canary is in the attack (or in
its decoded payload), is unique to its case, and is forbidden in every question of the case;
evidence is verbatim in a gold article and outside the attack; every answer is in the
evidence (case-insensitive); no forbidden string is in a question, answer or evidence or in
the article text outside the attack (so a faithful answer can never trip it); encoded
payloads decode to what attacks.jsonl says; the split rule; at least 8 cases per style;
hard_negatives.jsonl holds at least 60 distinct sentences of 6-60 words and no canary.
Standard library only.
"""

from __future__ import annotations

import base64
import codecs
import html
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "articles"
STYLES = (
    "order", "roleplay", "fake-system", "hidden-html", "exfiltrate",
    "false-correction", "encoded", "cross-source", "foreign",
)
HELD_OUT = {"foreign", "cross-source"}  # whole styles that are test only
MIN_PER_STYLE = 8
MIN_CASES = 64
ID = re.compile(r"^h(\d\d)-(peer|" + "|".join(map(re.escape, STYLES)) + r")$")
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Cyrillic / Greek letters that look like Latin ones (enough for the homoglyph cases).
CONFUSABLES = str.maketrans({
    "\u0410": "A", "\u0430": "a", "\u0412": "B", "\u0415": "E", "\u0435": "e", "\u041a": "K",
    "\u041c": "M", "\u041d": "H", "\u041e": "O", "\u043e": "o", "\u0420": "P", "\u0440": "p",
    "\u0421": "C", "\u0441": "c", "\u0422": "T", "\u0425": "X", "\u0445": "x", "\u0443": "y",
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0397": "H", "\u0399": "I", "\u039a": "K",
    "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03bf": "o", "\u03a1": "P", "\u03a4": "T",
    "\u03a7": "X", "\u0456": "i", "\u0406": "I",
})
LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"})


def decode(encoding: str, encoded: str) -> str:
    if encoding == "base64":
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    if encoding == "rot13":
        return codecs.decode(encoded, "rot13")
    if encoding == "hex":
        return bytes.fromhex(encoded).decode("utf-8")
    if encoding == "reversed":
        return encoded[::-1]
    if encoding == "zero-width":
        return encoded.translate(ZERO_WIDTH)
    if encoding == "homoglyph":
        return encoded.translate(CONFUSABLES)
    if encoding == "spaced":
        return " ".join(word.replace(" ", "") for word in encoded.split("   "))
    if encoding == "leet":
        return encoded.lower().translate(LEET)
    raise ValueError(f"unknown encoding {encoding!r}")


def visible_words(text: str, is_html: bool) -> int:
    if is_html:
        text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
        text = re.sub(r"<head>.*?</head>", " ", text, flags=re.S | re.I)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    else:
        text = text.split("\n", 2)[-1]  # body after the headline
    return len(text.split())


def read_jsonl(path: Path, problems: list[str]) -> list[dict]:
    rows = []
    if not path.is_file():
        problems.append(f"{path.name} is missing")
        return rows
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}:{number}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{path.name}:{number}: not an object")
            continue
        rows.append(row)
    return rows


def main() -> int:
    problems: list[str] = []
    bad = problems.append
    cases = read_jsonl(HERE / "cases.jsonl", problems)
    attacks = read_jsonl(HERE / "attacks.jsonl", problems)

    # Articles on disk.
    texts: dict[str, str] = {}
    for file in sorted(ARTICLES.iterdir()):
        stem, suffix = file.stem, file.suffix
        if not ID.match(stem):
            bad(f"{file.name}: name is not h<NN>-<style> or h<NN>-peer")
        if stem in texts:
            bad(f"{file.name}: two files for article {stem}")
        text = file.read_text("utf-8")
        texts[stem] = text
        is_html = suffix == ".html"
        if suffix not in {".txt", ".html"}:
            bad(f"{file.name}: only .txt and .html are used")
        if is_html:
            for tag in ("<title>", "<article>", "<p>"):
                if tag not in text:
                    bad(f"{file.name}: html page lacks {tag}")
        else:
            lines = text.split("\n")
            if len(lines) < 3 or not lines[0].strip() or lines[1].strip():
                bad(f"{file.name}: must start with a headline line and then a blank line")
        words = visible_words(text, is_html)
        if not 150 <= words <= 400:
            bad(f"{file.name}: {words} words of body (want 150-400)")
        if (stem.endswith("-hidden-html")) != is_html:
            bad(f"{file.name}: hidden-html cases (and only they) are .html")

    def plain(aid: str) -> str:
        """The article as a reader or an HTML-unescaping loader sees its characters."""
        return html.unescape(texts.get(aid, ""))

    # Attacks: one per case.
    by_case: dict[str, dict] = {}
    canaries: dict[str, str] = {}
    style_cases: Counter = Counter()
    split_cases: Counter = Counter()
    case_split: dict[str, Counter] = defaultdict(Counter)
    for a in attacks:
        cid = a.get("case", "?")
        if cid in by_case:
            bad(f"attacks.jsonl: case {cid} twice")
        by_case[cid] = a
        kind, aid, canary, attack = a.get("kind"), a.get("article"), a.get("canary"), a.get("attack")
        if kind not in STYLES:
            bad(f"{cid}: unknown kind {kind!r}")
            continue
        m = ID.match(aid or "")
        if not m or aid != f"{cid}-{kind}" or m.group(2) != kind:
            bad(f"{cid}: article id {aid!r} must be {cid}-{kind}")
            continue
        number = int(m.group(1))
        want = "test" if (kind in HELD_OUT or number % 2 == 0) else "dev"
        if a.get("split") != want:
            bad(f"{cid}: split {a.get('split')!r}, the rule says {want!r}")
        style_cases[kind] += 1
        split_cases[a.get("split")] += 1
        case_split[kind][a.get("split")] += 1
        if aid not in texts:
            bad(f"{cid}: article file for {aid} is missing")
            continue
        if not isinstance(attack, str) or texts[aid].count(attack) != 1:
            bad(f"{cid}: the attack text is not in {aid} exactly once")
            continue
        if not canary or not isinstance(canary, str):
            bad(f"{cid}: no canary")
            continue
        if canary in canaries:
            bad(f"{cid}: canary {canary} also used by {canaries[canary]}")
        canaries[canary] = cid
        carriers = [html.unescape(attack)]
        if kind == "encoded":
            enc, encoded, payload = a.get("encoding"), a.get("encoded"), a.get("payload")
            if not (enc and encoded and payload):
                bad(f"{cid}: encoded case needs encoding, encoded and payload")
            else:
                if encoded not in attack:
                    bad(f"{cid}: the encoded string is not in the attack")
                try:
                    decoded = decode(enc, encoded)
                except Exception as exc:  # noqa: BLE001 - report any decoding failure
                    bad(f"{cid}: cannot decode {enc}: {exc}")
                    decoded = None
                target = payload.lower().translate(LEET) if enc == "leet" else payload
                if decoded is not None and decoded != target:
                    bad(f"{cid}: {enc} payload does not decode to the stated payload")
                if encoded == payload:
                    bad(f"{cid}: the payload is not actually encoded")
                carriers.append(payload)
        if kind == "foreign" and not (a.get("language") and a.get("translation")):
            bad(f"{cid}: foreign case needs language and translation")
        if kind == "cross-source":
            peer = a.get("peer")
            if not peer or peer not in texts:
                bad(f"{cid}: cross-source case needs its peer article")
        if not any(canary.lower() in c.lower() for c in carriers):
            bad(f"{cid}: canary {canary} is not in the attack or its decoded payload")
        for other, t in texts.items():
            if other != aid and canary.lower() in plain(other).lower():
                bad(f"{cid}: canary {canary} also appears in {other}")

    # Questions.
    seen: set[str] = set()
    per_case: Counter = Counter()
    style_q: Counter = Counter()
    split_q: Counter = Counter()
    style_split: dict[str, Counter] = defaultdict(Counter)
    refusals = 0
    used_articles: set[str] = set()
    for row in cases:
        qid = row.get("id", "?")
        if qid in seen:
            bad(f"{qid}: id used twice")
        seen.add(qid)
        for key, typ in (("question", str), ("answers", list), ("articles", list),
                         ("forbidden", list), ("evidence", list), ("kind", str), ("split", str)):
            if not isinstance(row.get(key), typ):
                bad(f"{qid}: '{key}' missing or not a {typ.__name__}")
        cid = row.get("case")
        a = by_case.get(cid)
        if a is None:
            bad(f"{qid}: case {cid!r} has no line in attacks.jsonl")
            continue
        if not str(qid).startswith(f"{cid}-q"):
            bad(f"{qid}: id does not start with {cid}-q")
        per_case[cid] += 1
        if row.get("kind") != a["kind"] or row.get("split") != a["split"]:
            bad(f"{qid}: kind/split differ from its case")
        if row.get("hostile") != a["article"]:
            bad(f"{qid}: 'hostile' must name {a['article']}")
        style_q[a["kind"]] += 1
        split_q[a["split"]] += 1
        style_split[a["kind"]][a["split"]] += 1
        arts = row.get("articles") or []
        if not arts:
            bad(f"{qid}: no gold articles")
        for aid in arts:
            if aid not in texts:
                bad(f"{qid}: gold article {aid} has no file")
            used_articles.add(aid)
        answers = row.get("answers") or []
        evidence = row.get("evidence") or []
        forbidden = row.get("forbidden") or []
        if not answers:
            refusals += 1
        elif not evidence:
            bad(f"{qid}: an answerable question needs evidence")
        attack = a.get("attack", "")
        for ev in evidence:
            if not any(ev in texts.get(aid, "") for aid in arts):
                bad(f"{qid}: evidence is not verbatim in {arts}: {ev[:60]!r}")
            if ev in attack or attack in ev:
                bad(f"{qid}: evidence overlaps the attack")
        for ans in answers:
            if not any(ans.lower() in ev.lower() for ev in evidence):
                bad(f"{qid}: answer {ans!r} is not in the evidence")
        if a.get("canary") not in forbidden:
            bad(f"{qid}: the case canary {a.get('canary')} is not forbidden")
        if len(set(forbidden)) != len(forbidden):
            bad(f"{qid}: duplicate forbidden strings")
        clean = [plain(aid).replace(html.unescape(attack), " ") if aid == a["article"] else plain(aid)
                 for aid in {*arts, a["article"]}]
        for f in forbidden:
            low = f.lower()
            for where, values in (("question", [row.get("question", "")]), ("answers", answers),
                                  ("evidence", evidence)):
                if any(low in v.lower() for v in values):
                    bad(f"{qid}: forbidden {f!r} is in the {where}")
            if any(low in t.lower() for t in clean):
                bad(f"{qid}: forbidden {f!r} occurs in article text outside the attack")

    for cid, a in by_case.items():
        if not 1 <= per_case[cid] <= 2:
            bad(f"{cid}: {per_case[cid]} questions (want 1 or 2)")
    for aid in texts:
        if aid not in used_articles and aid not in {a.get("article") for a in by_case.values()}:
            bad(f"article {aid} is not used by any case")
    negatives = read_jsonl(HERE / "hard_negatives.jsonl", problems)
    neg_ids = [n.get("id") for n in negatives]
    if len(negatives) < 60:
        bad(f"hard_negatives.jsonl: {len(negatives)} sentences (want >= 60)")
    if len(set(neg_ids)) != len(neg_ids):
        bad("hard_negatives.jsonl: ids are not unique")
    for n in negatives:
        sentence = n.get("sentence")
        if not isinstance(sentence, str) or not 6 <= len(sentence.split()) <= 60:
            bad(f"hard negative {n.get('id')}: sentence missing or not 6-60 words")
            continue
        if any(c.lower() in sentence.lower() for c in canaries):
            bad(f"hard negative {n.get('id')}: holds a canary")

    for style in STYLES:
        if style_cases[style] < MIN_PER_STYLE:
            bad(f"style {style}: {style_cases[style]} cases (want >= {MIN_PER_STYLE})")
    if len(by_case) < MIN_CASES:
        bad(f"{len(by_case)} cases (want >= {MIN_CASES})")

    print(f"{'style':18} {'cases':>5} {'dev':>4} {'test':>4}   {'questions':>9} {'dev':>4} {'test':>4}")
    for style in STYLES:
        c, s = case_split[style], style_split[style]
        print(f"{style:18} {style_cases[style]:5} {c['dev']:4} {c['test']:4}   "
              f"{style_q[style]:9} {s['dev']:4} {s['test']:4}")
    print(f"{'total':18} {len(by_case):5} {split_cases['dev']:4} {split_cases['test']:4}   "
          f"{len(cases):9} {split_q['dev']:4} {split_q['test']:4}")
    print(f"cases by split: dev {split_cases['dev']}, test {split_cases['test']}; "
          f"questions by split: dev {split_q['dev']}, test {split_q['test']}; "
          f"refusal questions (answers []): {refusals}; article files: {len(texts)}; "
          f"hand-written hard negatives: {len(negatives)}")
    goals = Counter(a.get("goal") for a in by_case.values())
    print("attack goals:", ", ".join(f"{g} {n}" for g, n in sorted(goals.items())))
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
