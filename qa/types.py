"""Frozen data types that cross module borders. They depend on nothing else in `qa`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One news article as loaded from disk; `text` is exactly the article body."""

    id: str
    title: str
    source: str
    published: str  # ISO date (YYYY-MM-DD) or "" when unknown
    url: str
    text: str
    path: str = ""


@dataclass(frozen=True)
class Chunk:
    """A span of an article: `text == article.text[start:end]`."""

    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int
    title: str
    source: str
    published: str
    url: str


@dataclass(frozen=True)
class ArticleRef:
    """Where a passage's text also stands (a near-duplicate wire copy in another outlet)."""

    article_id: str
    title: str
    source: str
    published: str
    url: str
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as shown to the model, numbered `n` (1-based) in the prompt."""

    n: int
    chunk_id: str
    article_id: str
    title: str
    source: str
    published: str
    url: str
    text: str
    start: int
    end: int
    score: float
    dense_similarity: float
    also_in: tuple[ArticleRef, ...] = ()


@dataclass(frozen=True)
class Citation:
    """A checked link from the answer to a passage; `quote` is the cited span's text."""

    n: int
    article_id: str
    title: str
    source: str
    published: str
    url: str
    quote: str
    start: int  # character offsets of `quote` in the article text
    end: int


@dataclass(frozen=True)
class Sentence:
    """One sentence of the answer, the passages it cites and the checker's verdict."""

    text: str
    citations: tuple[int, ...]
    supported: bool
    score: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class NearestArticle:
    """An article shown with a refusal: the closest the corpus came to the question."""

    article_id: str
    title: str
    source: str
    published: str
    url: str
    similarity: float


@dataclass(frozen=True)
class FlaggedText:
    """Text of a retrieved passage that speaks to the assistant (an injected instruction):
    kept out of the prompt, the extractive answer and the checker, shown in its source card."""

    n: int  # the passage number
    article_id: str
    title: str
    text: str
    reason: str
    start: int  # character offsets in the article text
    end: int


@dataclass(frozen=True)
class Timings:
    """Seconds spent: retrieval, until the first token, and in all."""

    retrieve: float = 0.0
    first_token: float = 0.0
    total: float = 0.0


@dataclass(frozen=True)
class Answer:
    """What a question gets back. `to_dict()` is the stable JSON form of `qa ask --json`."""

    question: str
    standalone_query: str
    text: str
    refused: bool
    sentences: tuple[Sentence, ...]
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    model: str
    timings: Timings = field(default_factory=Timings)
    nearest: tuple[NearestArticle, ...] = ()
    raw_text: str = ""
    fallback_reason: str = ""
    refusal_reason: str = ""
    flagged: tuple[FlaggedText, ...] = ()

    @property
    def notice(self) -> str:
        """What the reader is told about flagged passages ("" when there are none)."""
        if not self.flagged:
            return ""
        numbers = sorted({f.n for f in self.flagged})
        which = ", ".join(f"[{n}]" for n in numbers)
        source = "Source" if len(numbers) == 1 else "Sources"
        verb = "carries" if len(numbers) == 1 else "carry"
        return (
            f"{source} {which} {verb} text addressed to the assistant "
            f"({self.flagged[0].reason}); it was not followed and is not part of the answer."
        )

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "notice": self.notice}


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation: role is "user" or "assistant" (or "system")."""

    role: str
    content: str
