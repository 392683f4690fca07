"""Citation markers, written once: how `[n]`, `[1][2]` and `[2, 3]` are found, stripped and
written back. Every part that reads or writes markers (checker, prompts, page, evaluation,
llama-index renumbering) uses these."""

from __future__ import annotations

import re
from collections.abc import Sequence

# A citation the answer may carry: [1], [2, 3], [4; 5]; numbers (1-4 digits) in group 1.
MARKER = re.compile(r"\[(\d{1,4}(?:\s*[,;]\s*\d{1,4})*)\]")
# Anything shaped like one, any length of number: what is stripped from a claim or quoted.
MARKER_LIKE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# One number in brackets, as the page links it.
SINGLE = re.compile(r"\[(\d{1,4})\]")


def numbers(group: str) -> list[int]:
    """The numbers of one marker's group 1: "2, 3" -> [2, 3]."""
    return [int(n) for n in re.split(r"\s*[,;]\s*", group.strip()) if n]


def strip_markers(text: str) -> str:
    """The text without its markers, whitespace collapsed."""
    return " ".join(MARKER_LIKE.sub(" ", text).split())


def claim(text: str) -> str:
    """What a sentence claims, as a judge reads it: markers gone, "bloc ." -> "bloc."."""
    return re.sub(r"\s+([.,;:!?])", r"\1", strip_markers(text))


def with_markers(text: str, numbers: Sequence[int]) -> str:
    """ "... bloc [1][2]." : markers go before a final full stop, after a closing quote."""
    markers = "".join(f"[{n}]" for n in numbers)
    if not markers:
        return text
    if text[-1:] in ".!?":
        return f"{text[:-1]} {markers}{text[-1]}"
    return f"{text} {markers}"
