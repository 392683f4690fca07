"""Split text into sentences, keeping each sentence's character span in the text."""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "gen",
    "sen",
    "rep",
    "gov",
    "lt",
    "col",
    "sgt",
    "capt",
    "cmdr",
    "adm",
    "maj",
    "st",
    "jr",
    "sr",
    "prof",
    "inc",
    "corp",
    "ltd",
    "co",
    "vs",
    "etc",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.g",
    "i.e",
    "a.m",
    "p.m",
    "approx",
    "dept",
    "est",
    "fig",
    "mt",
}
# A candidate end: terminal punctuation, optional closing quotes/brackets, then white space.
_END = re.compile(r"[.!?…]+[\"”’)\]]*(?:[ \t]*\[\d+(?:\s*[,;]\s*\d+)*\])*(?=\s|$)|\n\s*")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of `text`, white space trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if match.group().strip() and _is_abbreviation(text, match.start(), end):
            continue
        if not match.group().strip() or _next_starts_sentence(text, end):
            _add(text, start, end, spans)
            start = end
    _add(text, start, len(text), spans)
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _is_abbreviation(text: str, punct_start: int, end: int) -> bool:
    if text[punct_start] != ".":
        return False
    match = _WORD_BEFORE.search(text[max(0, punct_start - 12) : punct_start + 1])
    if not match:
        return False
    word = match.group(1).lower()
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha() and text[punct_start - 1].isupper()


def _next_starts_sentence(text: str, pos: int) -> bool:
    rest = text[pos : pos + 3].lstrip()
    if not rest:
        return True
    first = rest[0]
    return first.isupper() or first.isdigit() or first in "\"“‘'([-–—…"
