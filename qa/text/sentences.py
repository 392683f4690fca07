"""Split text into sentences, keeping each sentence's character span in the text."""

from __future__ import annotations

import re
from itertools import pairwise

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
# The same, for hard-wrapped text: only a blank line ends a sentence without punctuation.
_END_WRAPPED = re.compile(_END.pattern.replace(r"|\n\s*", r"|\n[ \t]*\n\s*"))
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
_LINE_END = re.compile(r"[.!?…:;\"”’)\]]\s*$")
_BULLET = re.compile(r"\s*(?:[-*•>]|\d+[.)])\s")


def hard_wrapped(text: str) -> bool:
    """Whether `text` is broken into lines inside its sentences (e-mail, wire copy, plain
    text kept at 70-80 columns): most lines that another line of the same paragraph follows
    end without punctuation. Then a single line break is a space, not a sentence end."""
    lines = text.split("\n")
    inner = [
        line
        for line, after in pairwise(lines)
        if line.strip() and after.strip() and not _BULLET.match(after)
    ]
    if len(inner) < 3 or sum(bool(_BULLET.match(line)) for line in lines) > len(lines) // 4:
        return False
    open_ended = sum(not _LINE_END.search(line) for line in inner)
    return open_ended >= 0.6 * len(inner)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of `text`, white space trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    ends = _END_WRAPPED if "\n" in text and hard_wrapped(text) else _END
    for match in ends.finditer(text):
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
