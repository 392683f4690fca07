"""HTML for the chat page: answers with linked [n] markers, source cards, refusals, errors.

Everything that comes from an article (text, title, outlet, URL) is untrusted: it is escaped
here, once, and only `http(s)` links are made clickable. No gradio import, so this is cheap
to test on its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from qa.grounding.markers import SINGLE, with_markers
from qa.types import Answer, Citation, NearestArticle, Passage, Sentence


def esc(text: object) -> str:
    """HTML-escape any value (quotes too, so it is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def safe_url(url: str) -> str:
    """The URL if it is a plain web link, else "" (no javascript:, data:, file: links)."""
    url = (url or "").strip()
    return url if re.match(r"https?://[^\s<>\"']+$", url, re.IGNORECASE) else ""


def link_markers(escaped: str, cited: Iterable[int]) -> str:
    """Turn the [n] markers of already-escaped text into links to the cards `#cite-n`."""
    targets = set(cited)

    def repl(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in targets:
            return match.group(0)
        return f'<a class="qa-marker" href="#cite-{n}" title="Show source {n}">[{n}]</a>'

    return SINGLE.sub(repl, escaped)


def user_html(question: str) -> str:
    return f'<div class="qa-question">{esc(question)}</div>'


def draft_html(raw: str) -> str:
    """The model's text as it streams, before it is checked."""
    body = esc(raw) if raw.strip() else "Searching the articles…"
    note = "writing… the answer is checked against its sources when done"
    return (
        f'<div class="qa-draft">{body}<span class="qa-cursor">▍</span></div>'
        f'<div class="qa-note">{note}</div>'
    )


def error_html(message: str) -> str:
    return (
        f'<div class="qa-error" role="alert"><strong>Could not answer:</strong> '
        f"{esc(message)}</div>"
    )


def answer_html(answer: Answer, *, flag_unsupported: bool, linked: bool = True) -> str:
    """The checked answer; markers link to the source cards when `linked` (latest answer)."""
    if answer.refused:
        body = refusal_html(answer) + (_unverified_html(answer) if flag_unsupported else "")
    else:
        cited = {c.n for c in answer.citations} if linked else set()
        parts = [
            _sentence_html(s, cited) for s in answer.sentences if s.supported or flag_unsupported
        ]
        body = f'<div class="qa-answer">{" ".join(parts)}</div>'
    return body + _footer_html(answer)


def _sentence_html(sentence: Sentence, cited: set[int]) -> str:
    text = link_markers(esc(with_markers(sentence.text, sentence.citations)), cited)
    if sentence.supported:
        return f'<span class="qa-sentence">{text}</span>'
    why = esc(sentence.reason or "the cited passages do not support it")
    return (
        f'<span class="qa-unsupported" title="Not supported: {why}">{text} '
        '<em class="qa-flag">(unsupported)</em></span>'
    )


def _unverified_html(answer: Answer) -> str:
    """What the model wrote before the checker found none of it supported (flag mode only)."""
    raw = answer.raw_text.strip()
    if not raw or raw == answer.text.strip() or not answer.sentences:
        return ""
    return (
        '<details class="qa-unverified"><summary>The model\'s draft, not supported by the '
        f'articles</summary><div class="qa-unsupported">{esc(raw)}</div></details>'
    )


def refusal_html(answer: Answer) -> str:
    items = "".join(_nearest_item(n) for n in answer.nearest)
    nearest = (
        (
            f'<div class="qa-nearest-title">Nearest articles:</div>'
            f'<ul class="qa-nearest">{items}</ul>'
        )
        if items
        else ""
    )
    return f'<div class="qa-refusal"><strong>{esc(answer.text)}</strong>{nearest}</div>'


def _nearest_item(article: NearestArticle) -> str:
    title = _title_link(article.title or article.article_id, article.url)
    meta = _meta(article.source, article.published)
    return (
        f'<li>{title} <span class="qa-meta">{meta} · similarity '
        f"{article.similarity:.2f}</span></li>"
    )


def _footer_html(answer: Answer) -> str:
    notes = []
    if answer.notice:
        notes.append(f'<div class="qa-flag-note" role="note">⚠ {esc(answer.notice)}</div>')
    if answer.standalone_query and answer.standalone_query != answer.question:
        query = esc(answer.standalone_query)
        notes.append(f'<div class="qa-standalone">Searched for: {query}</div>')
    if answer.fallback_reason:
        notes.append(
            f'<div class="qa-note">The model failed ({esc(answer.fallback_reason)}); '
            "answered by quoting the articles instead.</div>"
        )
    timing = f" · {answer.timings.total:.1f} s" if answer.timings.total else ""
    notes.append(f'<div class="qa-note">{esc(answer.model)}{timing}</div>')
    return "".join(notes)


def sources_html(answer: Answer | None) -> str:
    """The source cards of an answer, one per citation, the cited span marked."""
    if answer is None:
        return _placeholder("Sources of the answer appear here, each cited span highlighted.")
    by_n = {p.n: p for p in answer.passages}
    flagged = _flagged_cards(answer, by_n)
    if answer.refused:
        note = _placeholder(
            "No sources: the indexed articles do not answer this question. "
            "The nearest articles are listed with the answer."
        )
        return note if not flagged else f'<div class="qa-sources">{note}{flagged}</div>'
    cards = [card_html(c, by_n.get(c.n), _quoted(answer.sentences, c.n)) for c in answer.citations]
    if not cards and not flagged:
        return _placeholder("This answer cites no passage.")
    searched = f'<div class="qa-note">{len(answer.passages)} passages searched</div>'
    return f'<div class="qa-sources">{"".join(cards)}{flagged}{searched}</div>'


def _flagged_cards(answer: Answer, by_n: dict[int, Passage]) -> str:
    """One card per passage that carried text addressed to the assistant: the passage as
    stored, the flagged text struck through and marked with its reason. Never dropped
    silently: the reader sees what was not followed."""
    cards = []
    for n in sorted({f.n for f in answer.flagged}):
        found = [f for f in answer.flagged if f.n == n]
        passage = by_n.get(n)
        text = passage.text if passage else " ".join(f.text for f in found)
        offset = passage.start if passage else 0
        pieces, pos = [], 0
        for f in sorted(found, key=lambda f: f.start):
            a, b = max(pos, f.start - offset), max(pos, f.end - offset)
            pieces.append(esc(text[pos:a]))
            pieces.append(
                f'<del class="qa-flagged-text" title="{esc(f.reason)}">{esc(text[a:b])}</del>'
            )
            pos = b
        pieces.append(esc(text[pos:]))
        reasons = "; ".join(dict.fromkeys(f.reason for f in found))
        title = esc(found[0].title or found[0].article_id)
        cards.append(
            f'<article class="qa-card qa-flagged" id="flagged-{n}">'
            f'<div class="qa-card-head"><span class="qa-n">[{n}]</span> {title}</div>'
            f'<div class="qa-flag-reason">Flagged: this passage {esc(reasons)}. '
            "Not followed, not used in the answer.</div>"
            f'<blockquote class="qa-passage">{"".join(pieces)}</blockquote></article>'
        )
    return "".join(cards)


def _quoted(sentences: Sequence[Sentence], n: int) -> list[str]:
    """Texts of the supported sentences that cite passage n (quoted verbatim, they are marked
    too: a Citation carries one span per passage, an answer may quote it twice)."""
    return [s.text for s in sentences if s.supported and n in s.citations]


def pending_sources_html() -> str:
    return _placeholder("Finding sources…")


def card_html(citation: Citation, passage: Passage | None, also_quoted: Sequence[str] = ()) -> str:
    """One source card, `id="cite-n"`, with the passage and the cited span in <mark>."""
    title = _title_link(citation.title or citation.article_id, citation.url)
    body = _passage_with_marks(citation, passage, also_quoted)
    also = _also_in(passage) if passage else ""
    return (
        f'<article class="qa-card" id="cite-{citation.n}">'
        f'<div class="qa-card-head"><span class="qa-n">[{citation.n}]</span> {title}</div>'
        f'<div class="qa-meta">{_meta(citation.source, citation.published)}</div>'
        f'<blockquote class="qa-passage">{body}</blockquote>{also}</article>'
    )


def cited_span(citation: Citation, passage: Passage) -> tuple[int, int] | None:
    """Where the quote stands in the passage: from the article offsets, else by search."""
    start, end = citation.start - passage.start, citation.end - passage.start
    if 0 <= start < end <= len(passage.text) and passage.text[start:end] == citation.quote:
        return start, end
    found = passage.text.find(citation.quote) if citation.quote else -1
    return (found, found + len(citation.quote)) if found >= 0 else None


def _passage_with_marks(
    citation: Citation, passage: Passage | None, also_quoted: Sequence[str]
) -> str:
    if passage is None:
        return f"<mark>{esc(citation.quote)}</mark>"
    text = passage.text
    span = cited_span(citation, passage)
    spans = [span] if span else []
    for quote in also_quoted:
        found = text.find(quote) if len(quote) > 20 else -1
        if found >= 0:
            spans.append((found, found + len(quote)))
    lo, hi = len(text) - len(text.lstrip()), len(text.rstrip())
    out, at = [], lo
    for a, b in sorted(_merge(spans)):
        a, b = max(a, at), min(b, hi)
        if a < b:
            out.append(f"{esc(text[at:a])}<mark>{esc(text[a:b])}</mark>")
            at = b
    out.append(esc(text[at:hi]))
    if span is None:  # the quote is not in this passage's text: still show what was cited
        out.append(f"<br><mark>{esc(citation.quote)}</mark>")
    return "".join(out)


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _also_in(passage: Passage) -> str:
    if not passage.also_in:
        return ""
    items = ", ".join(
        f"{_title_link(r.source or r.title, r.url)} ({esc(r.published or 'undated')})"
        for r in passage.also_in
    )
    return f'<div class="qa-meta">Also in: {items}</div>'


def _title_link(title: str, url: str) -> str:
    link = safe_url(url)
    if not link:
        return f'<span class="qa-title">{esc(title)}</span>'
    return (
        f'<a class="qa-title" href="{esc(link)}" target="_blank" '
        f'rel="noopener noreferrer nofollow">{esc(title)}</a>'
    )


def _meta(source: str, published: str) -> str:
    return f"{esc(source or 'unknown outlet')} · {esc(published or 'undated')}"


def _placeholder(text: str) -> str:
    return f'<div class="qa-placeholder">{esc(text)}</div>'


def table_html(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="qa-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
