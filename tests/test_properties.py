"""Property-based tests: the chunker, the sentence splitter, the citation parser and the
loaders never crash and keep their promises on any input."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.corpus.chunking import Chunker
from qa.corpus.loaders import load_file
from qa.grounding.cite import MARKER, parse, render
from qa.text.sentences import sentence_spans
from qa.types import Article, Passage, Sentence

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3000)
PROSE = st.lists(
    st.sampled_from(
        [
            "The mayor said.",
            "Costs rose 4.5%",
            "in Moscow,",
            "“Never,” he said.",
            "Gen. Zhang met Mr. Li.",
            "\n\n",
            "word",
            "[1]",
            "U.S. officials",
            "...",
            "Ümlaut café",
            "  ",
            "Why?",
            "It's 3 p.m. now.",
        ]
    ),
    max_size=200,
).map(" ".join)


@given(st.one_of(TEXT, PROSE), st.integers(10, 120), st.integers(0, 9))
@settings(max_examples=200, deadline=None)
def test_chunk_offsets_point_at_chunk_text_and_cover_the_article(text, size, overlap):
    chunks = Chunker(max_tokens=size, overlap=overlap).chunk(Article("a", "", "", "", "", text))
    covered = set()
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.text.strip() == c.text and c.text
        covered.update(range(c.start, c.end))
    for a, b in sentence_spans(text):
        content = {i for i in range(a, b) if not text[i].isspace()}
        assert content <= covered, "every character of every sentence lies in some chunk"
    assert [c.id for c in chunks] == [f"a::{i}" for i in range(len(chunks))]


@given(st.one_of(TEXT, PROSE))
@settings(max_examples=200, deadline=None)
def test_sentence_spans_are_ordered_trimmed_and_disjoint(text):
    last = 0
    for a, b in sentence_spans(text):
        assert last <= a < b <= len(text)
        assert not text[a].isspace() and not text[b - 1].isspace()
        last = b


def passages(n: int) -> list[Passage]:
    return [
        Passage(i, f"c{i}", f"a{i}", "", "", "", "", "text", 0, 4, 1.0, 0.5)
        for i in range(1, n + 1)
    ]


@given(
    st.one_of(TEXT, PROSE, st.text(alphabet="[]0123456789, .ab", max_size=300)), st.integers(0, 6)
)
@settings(max_examples=300, deadline=None)
def test_citation_parser_never_crashes_and_rendered_markers_exist(text, n):
    valid = {p.n for p in passages(n)}
    parsed = parse(text)
    sentences = [Sentence(p.text, tuple(m for m in p.markers if m in valid), True) for p in parsed]
    out = render(sentences, "drop")
    for match in MARKER.finditer(out):
        for number in match.group(1).replace(";", ",").split(","):
            assert int(number) in valid
    for p in parsed:
        assert not MARKER.search(p.text)


@given(st.binary(max_size=2000), st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl"]))
@settings(max_examples=150, deadline=None)
def test_loaders_take_any_bytes_without_crashing(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / f"x{suffix}"
        file.write_bytes(data)
        articles, skipped = load_file(file, Path(tmp))
        assert len(articles) + len(skipped) >= 1 or not data.strip()
        for a in articles:
            assert a.text.strip() and a.id


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["id", "title", "text", "published", "url"]),
            st.one_of(st.text(max_size=40), st.integers(), st.none()),
            max_size=5,
        ),
        max_size=8,
    )
)
@settings(max_examples=150, deadline=None)
def test_jsonl_records_load_or_are_skipped_one_by_one(records):
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "r.jsonl"
        file.write_text("\n".join(json.dumps(r) for r in records), "utf-8")
        articles, skipped = load_file(file, Path(tmp))
        assert len(articles) + len(skipped) == len(records)
