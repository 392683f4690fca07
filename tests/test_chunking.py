"""Chunks are whole sentences, bounded in tokens, overlapping, and their offsets are exact."""

from __future__ import annotations

import itertools

from qa.corpus.chunking import Chunker, approx_token_counts
from qa.text.sentences import split_sentences
from qa.types import Article


def article(text: str) -> Article:
    return Article("a", "Title", "Src", "2024-01-01", "", text)


def test_offsets_point_at_the_chunk_text_and_chunks_cover_the_article():
    text = " ".join(f"Sentence number {i} tells about the harbour in town {i}." for i in range(60))
    chunks = Chunker(max_tokens=60, overlap=15).chunk(article(text))
    assert len(chunks) > 5
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert approx_token_counts([c.text])[0] <= 60 + 2
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "consecutive chunks overlap"
        assert b.start > a.start


def test_chunks_end_at_sentence_boundaries():
    text = "First one is here. Second one follows it. Third one closes. " * 10
    chunks = Chunker(max_tokens=20, overlap=5).chunk(article(text.strip()))
    sentences = set(split_sentences(text))
    for c in chunks:
        assert c.text.endswith(".")
        assert split_sentences(c.text)[0] in sentences


def test_over_long_sentence_is_cut_at_word_borders_within_the_bound():
    text = "word " * 500 + "end."
    chunks = Chunker(max_tokens=50, overlap=10).chunk(article(text.strip()))
    assert len(chunks) >= 10
    for c in chunks:
        assert approx_token_counts([c.text])[0] <= 50
        assert not c.text.startswith(" ") and text[c.start : c.end] == c.text


def test_chunks_carry_article_metadata_and_stable_ids():
    chunks = Chunker(max_tokens=30, overlap=5).chunk(article("One fact. " * 40))
    assert [c.id for c in chunks] == [f"a::{i}" for i in range(len(chunks))]
    assert all(c.title == "Title" and c.source == "Src" for c in chunks)
