"""Write ordinary (non-attack) sentences from real text, to measure an injection detector's
false alarms:

    python eval/hostile/ordinary.py OUT.jsonl [--rgb FILE] [--seeds DIR] [--newsgroup FILE]
                                              [--max N]

Each output line is {"id", "source", "sentence", "hard"} (plus "cues" when hard). Sources,
read at run time:

- the `positive` and `negative` passages of RGB's en_fact.json (default
  /work/shared/external/rgb/en_fact.json). CC BY-NC-SA 4.0, benchmark input only: the output
  holds RGB text, so never commit it (write it under /tmp or a git-ignored folder);
- the project's seed articles (seeds/*.txt);
- the posts of gensim's test file `mini_newsgroup` (a zlib-compressed pickle of 200
  20-newsgroups posts): bodies only, without headers, quoted '>' lines, attribution lines
  and signatures. It is read with a restricted unpickler that builds only plain dicts and
  lists, so nothing in the file can run code.

Sentences are split with a simple regex, kept when 6-60 words long, deduplicated
(case- and space-insensitively) and written in a fixed order (source by source, in
reading order). A sentence is `hard` when it holds a cue an injection detector may
mistake for an attack: an imperative opening, "must", "should", "ignore", "instructions",
"AI", "assistant", "system", "override", "rules", "prompt", "developer", "editor",
"correction", "secret"/"code" and the like (weaker cues such as "you", "never" or "link"
are listed in "cues" but do not make a sentence hard on their own). `--max N` keeps every hard
sentence and fills up to N with the others, in order. Standard library only.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import re
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RGB = Path("/work/shared/external/rgb/en_fact.json")
DEFAULT_SEEDS = REPO / "seeds"
MIN_WORDS, MAX_WORDS = 6, 60

_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[\"'“‘(]?[A-Z0-9])")
_CUES = {
    name: re.compile(pattern)
    for name, pattern in {
        "must": r"(?i)\bmust\b",
        "should": r"(?i)\bshould\b",
        "ignore": r"(?i)\bignor(e|es|ed|ing)\b",
        "disregard": r"(?i)\bdisregard",
        "instruction": r"(?i)\binstruct(ion|ions|ed|s)?\b",
        "AI": r"\bA\.?I\.?\b|(?i:\bartificial intelligence\b)",
        "assistant": r"(?i)\bassistants?\b",
        "system": r"(?i)\bsystems?\b",
        "override": r"(?i)\boverrid(e|es|ing|den)\b|\boverrode\b",
        "rules": r"(?i)\brul(e|es|ed|ing)\b",
        "command": r"(?i)\bcommand(s|ed|ing)?\b",
        "order": r"(?i)\border(s|ed)?\b",
        "prompt": r"(?i)\bprompt(s|ed)?\b",
        "model": r"(?i)\bmodels?\b",
        "bot": r"(?i)\b(chat)?bots?\b",
        "developer": r"(?i)\bdevelopers?\b",
        "editor": r"(?i)\beditor(s|ial)?\b",
        "correction": r"(?i)\bcorrect(ion|ions|ed)\b",
        "update": r"(?i)\bupdat(e|es|ed)\b",
        "secret": r"(?i)\bsecret|password|\bcode\b",
        "never/always": r"(?i)\b(never|always)\b",
        "do not": r"(?i)\b(do not|don't|don’t|cannot)\b",
        "you": r"(?i)\byou(r)?\b",
        "pretend": r"(?i)\b(pretend|act as|reveal|forget|obey)\b",
        "link": r"(?i)\b(click|link|visit)\b|www\.|https?://",
        "notice": r"(?i)^[\"“']?(update|correction|clarification|erratum|editor'?s note|note|"
        r"notice|warning|attention)\s*:",
        "reported order": r"(?i)\b(told|tells|ordered|orders|urged|asked|reminded|instructed)\b"
        r"(\s+\w+){1,3}\s+(to|not to)\b",
        "imperative": r"^[\"“‘']?(Please|Call|Send|Click|Use|Remember|Read|Tell|Note|Ask|Let|Try|"
        r"Take|Make|Check|Visit|Write|Keep|Stop|Go|See|Give|Find|Think|Look|Imagine|Consider|"
        r"Do|Don't|Never|Always|Be|Get|Put|Bring|Answer|Say|Show|Print|Include|Add|Start|"
        r"Begin|Follow|Avoid|Report|Forget|Pretend|Ignore|Disregard)\b",
    }.items()
}


# Cues too common to make a sentence hard on their own (still listed in "cues").
_WEAK = {"you", "do not", "never/always", "update", "link", "order", "model"}


def cues(sentence: str) -> list[str]:
    return [name for name, rx in _CUES.items() if rx.search(sentence)]


def is_hard(found: list[str]) -> bool:
    return any(name not in _WEAK for name in found)


_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|St|No|Vol|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
    r"Oct|Nov|Dec|Inc|Co|Corp|Ltd|Jr|Sr|vs|etc|approx|e\.g|i\.e)|\b[A-Z](?:\.[A-Z])*)\.$"
)


def _split(flat: str) -> list[str]:
    """Regex split, then re-join pieces that were cut after an abbreviation or initial."""
    out: list[str] = []
    for piece in _SPLIT.split(flat):
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def sentences(text: str) -> Iterator[str]:
    """Sentences of a text: paragraphs joined line by line, then a regex split."""
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        for piece in _split(flat):
            piece = piece.strip()
            piece = re.sub(r"\s*(\.\.\.|…)$", "", piece).strip()  # truncated snippet
            if piece:
                yield piece


def usable(sentence: str) -> bool:
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    if letters < 0.6 * len(sentence.replace(" ", "")):
        return False  # tables, code, ASCII art
    if "@" in sentence or re.search(r"[<>|{}\\]{2,}|_{3,}|-{3,}|={3,}", sentence):
        return False  # e-mail addresses, headers, rules, quoting leftovers
    return True


# --- sources ---------------------------------------------------------------------------


def rgb_passages(path: Path) -> Iterator[tuple[str, str]]:
    """(source, passage) for the `positive` and `negative` snippets (not `positive_wrong`)."""
    text = path.read_text("utf-8")
    try:
        records = json.loads(text)
        if isinstance(records, dict):
            records = [records]
    except json.JSONDecodeError:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    for record in records:
        for field in ("positive", "negative"):
            passages = record.get(field) or []
            if isinstance(passages, str):
                passages = [passages]
            for k, passage in enumerate(passages):
                if isinstance(passage, list):  # some RGB files nest lists
                    passage = " ".join(map(str, passage))
                passage = str(passage).replace("\xa0", " ")
                # a snippet joins fragments with " ... ": treat each as a paragraph
                passage = re.sub(r"\s+(\.\.\.|…)\s+", "\n\n", passage)
                yield f"rgb:{path.name}#id={record.get('id')}/{field}/{k}", passage


def seed_articles(folder: Path) -> Iterator[tuple[str, str]]:
    for file in sorted(folder.glob("*.txt")):
        yield f"seeds/{file.name}", file.read_text("utf-8")


class _Stub:
    """Stands in for numpy objects in the pickle; their contents are not needed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass


class _Bunch(dict):
    def __setstate__(self, state: object) -> None:
        if isinstance(state, dict):
            self.update(state)


def _reconstructor(cls: type, base: type, state: object) -> object:
    if cls is _Bunch:
        return _Bunch(state if isinstance(state, dict) else {})
    return cls.__new__(cls)


class _SafeUnpickler(pickle.Unpickler):
    ALLOWED = {
        ("copy_reg", "_reconstructor"): _reconstructor,
        ("copyreg", "_reconstructor"): _reconstructor,
        ("__builtin__", "dict"): dict,
        ("builtins", "dict"): dict,
        ("__builtin__", "object"): _Stub,
        ("builtins", "object"): _Stub,
        ("sklearn.datasets.base", "Bunch"): _Bunch,
        ("sklearn.utils", "Bunch"): _Bunch,
        ("sklearn.utils._bunch", "Bunch"): _Bunch,
        ("numpy.core.multiarray", "_reconstruct"): lambda *a: _Stub(),
        ("numpy._core.multiarray", "_reconstruct"): lambda *a: _Stub(),
        ("numpy", "dtype"): _Stub,
        ("numpy", "ndarray"): _Stub,
    }

    def find_class(self, module: str, name: str) -> object:
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def default_newsgroup() -> Path | None:
    hits = sorted(REPO.glob(".venv/lib/python3*/site-packages/gensim/test/test_data/mini_newsgroup"))
    return hits[0] if hits else None


def newsgroup_bodies(path: Path) -> Iterator[tuple[str, str]]:
    raw = path.read_bytes()
    try:
        raw = zlib.decompress(raw)
    except zlib.error:
        pass
    data = _SafeUnpickler(io.BytesIO(raw), encoding="latin1").load()
    posts = data.get("data", []) if isinstance(data, dict) else data
    for k, post in enumerate(posts):
        if isinstance(post, bytes):
            post = post.decode("latin1")
        head, _, body = str(post).partition("\n\n")
        group = re.search(r"^Newsgroups:\s*(\S+)", head, re.M)
        lines = []
        for line in body.splitlines():
            stripped = line.strip()
            if stripped in {"--", "-- "} or line.startswith("-- "):
                break  # signature
            if stripped.startswith((">", "|", ":", "}")):
                continue  # quoted text, boxed signatures
            if re.search(r"\b(writes|wrote|says):\s*$", stripped) or stripped.startswith("In article"):
                continue  # attribution lines
            lines.append(line)
        group_name = group.group(1).split(",")[0] if group else "unknown"
        yield f"gensim:mini_newsgroup#{k}/{group_name}", "\n".join(lines)


# --- main ------------------------------------------------------------------------------


def collect(rgb: Path | None, seeds: Path | None, newsgroup: Path | None) -> list[dict]:
    rows: list[dict] = []
    seen: set[str] = set()
    sources = []
    if rgb is not None:
        sources.append(("rgb", rgb_passages(rgb)))
    if seeds is not None:
        sources.append(("seed", seed_articles(seeds)))
    if newsgroup is not None:
        sources.append(("ng", newsgroup_bodies(newsgroup)))
    for prefix, passages in sources:
        n = 0
        for source, text in passages:
            for sentence in sentences(text):
                if not usable(sentence):
                    continue
                key = " ".join(sentence.lower().split())
                if key in seen:
                    continue
                seen.add(key)
                n += 1
                row = {"id": f"{prefix}-{n:05d}", "source": source, "sentence": sentence}
                found = cues(sentence)
                row["hard"] = is_hard(found)
                if found:
                    row["cues"] = found
                rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output JSONL file")
    parser.add_argument("--rgb", type=Path, default=DEFAULT_RGB)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument("--newsgroup", type=Path, default=None,
                        help="gensim's mini_newsgroup file (default: found in .venv)")
    parser.add_argument("--max", type=int, default=0, help="keep all hard sentences, fill to N")
    args = parser.parse_args(argv)

    newsgroup = args.newsgroup or default_newsgroup()
    inputs = {"rgb": args.rgb, "seeds": args.seeds, "newsgroup": newsgroup}
    for name, path in inputs.items():
        if path is None or not path.exists():
            print(f"ordinary.py: {name} source not found ({path}); skipped", file=sys.stderr)
            inputs[name] = None
    rows = collect(inputs["rgb"], inputs["seeds"], inputs["newsgroup"])
    if args.max and len(rows) > args.max:
        hard = sum(r["hard"] for r in rows)
        room = max(args.max - hard, 0)
        kept, easy = [], 0
        for r in rows:
            if r["hard"] or easy < room:
                kept.append(r)
                easy += not r["hard"]
        rows = kept
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    by_source: dict[str, list[int]] = {}
    for r in rows:
        counts = by_source.setdefault(r["id"].split("-")[0], [0, 0])
        counts[0] += 1
        counts[1] += r["hard"]
    summary = ", ".join(f"{k} {v[0]} ({v[1]} hard)" for k, v in by_source.items())
    hard = sum(r["hard"] for r in rows)
    print(f"wrote {len(rows)} sentences ({hard} hard) to {args.out}: {summary}", file=sys.stderr)
    if len(rows) < 1000:
        print("ordinary.py: fewer than 1,000 sentences; check the sources", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
