"""Prompt templates from `qa/prompts/` (package data, in the wheel) and how passages go in."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from qa.grounding.markers import MARKER_LIKE
from qa.types import ChatMessage, Passage

_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)
_TAGS = re.compile(r"</?\s*(passage|system|user|assistant)[^>]*>", re.IGNORECASE)


@cache
def template(name: str) -> str:
    try:
        return resources.files("qa").joinpath("prompts", f"{name}.txt").read_text("utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"prompt template qa/prompts/{name}.txt is missing") from None


def render(name: str, **values: str) -> tuple[ChatMessage, ...]:
    """The template's `## system` and `## user` sections as messages, values filled in."""
    text = template(name)
    parts = _SECTION.split(text)
    messages = []
    for role, body in zip(parts[1::2], parts[2::2], strict=True):
        content = body.strip()
        for key, value in values.items():
            content = content.replace("{" + key + "}", value)
        messages.append(ChatMessage(role=role, content=content))
    return tuple(messages)


def refusal_text(language: str = "") -> str:
    """The refusal; for a question in another language, one that says which and asks again."""
    if language:
        return template("refuse-language").strip().replace("{language}", language)
    return template("refuse").strip()


def quote_passage(text: str) -> str:
    """Passage text made inert: no markers that look like our citations, no fake tags."""
    text = MARKER_LIKE.sub(r"(\1)", text)
    return _TAGS.sub("", text)


_BLANKED = re.compile(r"[ \t]{3,}")


def format_passages(
    passages: tuple[Passage, ...], excerpts: dict[int, str] | None = None, titled: bool = False
) -> str:
    """Numbered passages for the prompt; with `excerpts`, only those (by passage number);
    `titled`: each under its article's title, which names what "it" or "he" refers to."""
    blocks = []
    for p in passages:
        if excerpts is not None and p.n not in excerpts:
            continue
        text = p.text if excerpts is None else excerpts[p.n]
        text = _BLANKED.sub(" ", text)  # flagged text is blanked with spaces (qa.text.hostile.mask)
        about = quote_passage(", ".join(x for x in (p.source, p.published) if x))
        if titled and p.title.strip():
            about = quote_passage(" — ".join(x for x in (" ".join(p.title.split()), about) if x))
        header = f"[{p.n}] {about}".rstrip()
        blocks.append(f"{header}\n<passage>\n{quote_passage(text)}\n</passage>")
    return "\n\n".join(blocks)
