"""Which language a text is written in: English, or another one we can name.

Answers and checks work on English text only (spaCy's `en_core_web_sm`, the English
encoder), so text in another language is recognised, not guessed at. The evidence is
general, not a corpus's words: the Unicode script of the letters, and how many words are
function words in spaCy's stop-word lists of English and of 24 other languages written in
Latin letters. Names carry no weight either way (they are not function words).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# spaCy's language codes with a stop-word list, written in Latin letters, and their names.
LANGUAGE_NAMES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "nb": "Norwegian",
    "pl": "Polish",
    "ro": "Romanian",
    "tr": "Turkish",
    "cs": "Czech",
    "hu": "Hungarian",
    "fi": "Finnish",
    "id": "Indonesian",
    "ca": "Catalan",
    "hr": "Croatian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "et": "Estonian",
    "tl": "Tagalog",
}
_WORD = re.compile(r"\b[^\W\d_]{2,}\b")


def script(char: str) -> str:
    """The Unicode script of a character as its name's first word ("LATIN", "CJK", ...)."""
    try:
        return unicodedata.name(char).split(" ")[0]
    except ValueError:
        return ""


@lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@lru_cache(maxsize=1)
def other_stop_words() -> dict[str, frozenset[str]]:
    """spaCy's stop-word lists of other languages written in Latin letters, by code."""
    from importlib import import_module

    out = {}
    for code in LANGUAGE_NAMES:
        try:
            out[code] = frozenset(import_module(f"spacy.lang.{code}.stop_words").STOP_WORDS)
        except (ImportError, AttributeError):
            continue
    return out


def english_share(text: str) -> float:
    """The share of words that are English function words (0 for under 3 words)."""
    words = re.findall(r"[a-z']+", text.lower())
    if len(words) < 3:
        return 0.0
    stop = english_stop_words()
    return sum(w in stop for w in words) / len(words)


def _other_script(text: str) -> str:
    """The dominant non-Latin script of a text whose letters are mostly not Latin, or ""."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return ""
    scripts = [script(c) for c in letters if script(c) not in ("LATIN", "")]
    if len(scripts) / len(letters) <= 0.5:
        return ""
    top = max(set(scripts), key=scripts.count)
    return top if len(top) <= 3 else top.capitalize()  # CJK, Arabic, Cyrillic


def is_foreign(text: str) -> bool:
    """A sentence not in English: mostly letters of another script, or lower-case Latin
    words of which almost none is an English function word."""
    if len([c for c in text if c.isalpha()]) >= 12 and _other_script(text):
        return True
    words = [w for w in _WORD.findall(text.replace("'s", "")) if w.islower()]
    if len(words) < 5:
        return False
    english = sum(w in english_stop_words() for w in words) / len(words)
    # Agglutinative languages (Turkish, Finnish, Hungarian) have few function words, but
    # their ordinary words carry letters English writes only in a few loan words ("café")
    marked = sum(not w.isascii() for w in words)
    if marked >= 3 and marked / len(words) >= 0.25 and english < 0.2:
        return True
    other = max(sum(w in stop for w in words) / len(words) for stop in other_stop_words().values())
    return other >= 0.3 and other > english + 0.15


def question_language(question: str) -> str:
    """The language of a (short) question when it is clearly not English, else "".

    A question is short, so every word counts, whatever its case, except names (capitalised
    words after the first, and the particles between them: "La Cocina de Elena" says nothing
    of the question's language). It is in another language when at least two of its words
    are that language's function words, at most one is an English one, and it has more of
    the former (so "Who was in Moscow?", whose "was" and "in" are German too, stays
    English). Mostly non-Latin letters name the script instead.
    """
    other = _other_script(question)
    if other:
        return f"a language written in {other} script"
    words = [w.lower() for w in _not_names(_WORD.findall(question), question.isupper())]
    english = sum(w in english_stop_words() for w in words)
    if english > 1:
        return ""
    hits = {code: sum(w in stop for w in words) for code, stop in other_stop_words().items()}
    code = max(hits, key=lambda c: hits[c], default="")
    if code and hits[code] >= 2 and hits[code] > english:
        return LANGUAGE_NAMES[code]
    return ""


def _not_names(words: list[str], all_capitals: bool) -> list[str]:
    """The words without capitalised ones after the first and the particles between them."""
    if all_capitals:
        return words
    name = [i > 0 and w[0].isupper() for i, w in enumerate(words)]
    for i in range(1, len(words) - 1):
        name[i] = name[i] or (name[i - 1] and name[i + 1])
    return [w for w, is_name in zip(words, name, strict=True) if not is_name]
