"""Cut an article into sentence-aware, token-bounded, overlapping chunks with offsets."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.text.sentences import sentence_spans
from qa.types import Article, Chunk

TokenCounter = Callable[[Sequence[str]], list[int]]
_WORD = re.compile(r"\S+")


def approx_token_counts(texts: Sequence[str]) -> list[int]:
    """A tokenizer-free estimate (about 1.3 word pieces a word), for tests and tools."""
    return [int(len(_WORD.findall(t)) * 1.3) + 1 for t in texts]


@dataclass(frozen=True)
class Chunker:
    """Groups whole sentences up to `max_tokens`; the next chunk repeats up to `overlap`
    tokens of trailing sentences, so a fact on a boundary is whole in at least one chunk."""

    max_tokens: int = 200
    overlap: int = 40
    count_tokens: TokenCounter = approx_token_counts

    def chunk(self, article: Article) -> list[Chunk]:
        units = self._units(article.text)
        groups = self._group(units)
        return [
            Chunk(
                id=f"{article.id}::{i}",
                article_id=article.id,
                index=i,
                text=article.text[start:end],
                start=start,
                end=end,
                title=article.title,
                source=article.source,
                published=article.published,
                url=article.url,
            )
            for i, (start, end) in enumerate(groups)
        ]

    def _units(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, tokens) of each sentence; over-long sentences cut at word borders."""
        spans = sentence_spans(text)
        counts = self.count_tokens([text[a:b] for a, b in spans])
        units: list[tuple[int, int, int]] = []
        for (a, b), n in zip(spans, counts, strict=True):
            if n <= self.max_tokens:
                units.append((a, b, n))
            else:
                units.extend(self._split_long(text, a, b, n))
        return units

    def _split_long(self, text: str, a: int, b: int, n: int) -> list[tuple[int, int, int]]:
        words = [(m.start() + a, m.end() + a) for m in _WORD.finditer(text[a:b])]
        per_piece = max(1, int(len(words) * self.max_tokens / n * 0.9))
        pieces = []
        for i in range(0, len(words), per_piece):
            group = words[i : i + per_piece]
            start, end = group[0][0], group[-1][1]
            pieces.append((start, end, self.count_tokens([text[start:end]])[0]))
        return pieces

    def _group(self, units: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        groups: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            j, total = i, 0
            while j < len(units) and (j == i or total + units[j][2] <= self.max_tokens):
                total += units[j][2]
                j += 1
            groups.append((units[i][0], units[j - 1][1]))
            if j >= len(units):
                break
            # step back over trailing sentences that fit in the overlap budget
            k, back = j, 0
            while k - 1 > i and back + units[k - 1][2] <= self.overlap:
                back += units[k - 1][2]
                k -= 1
            i = k
        return groups
