"""Main text and metadata of a news article page; navigation and boilerplate dropped."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag

_DROP = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "template",
)
_BLOCKS = ("h1", "h2", "h3", "h4", "p", "li", "blockquote", "pre")
_BOILERPLATE_CLASSES = (
    "share",
    "social",
    "related",
    "newsletter",
    "cookie",
    "advert",
    "promo",
    "comment",
    "breadcrumb",
    "subscribe",
)


def extract(html: str) -> tuple[str, dict[str, Any]]:
    """(text, metadata) of a page; text is "" when the page holds no article text."""
    soup = BeautifulSoup(html, "html.parser")
    meta = _metadata(soup)
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(True):
        if (
            isinstance(tag, Tag)
            and tag.attrs is not None
            and (_looks_boilerplate(tag) or _hidden(tag))
        ):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    blocks = [" ".join(el.get_text(" ", strip=True).split()) for el in root.find_all(_BLOCKS)]
    if not blocks:
        blocks = [line.strip() for line in root.get_text("\n").splitlines()]
    seen: set[str] = set()
    kept = []
    for block in blocks:
        if block and block not in seen and block != meta.get("title"):
            seen.add(block)
            kept.append(block)
    return "\n\n".join(kept), meta


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _hidden(tag: Tag) -> bool:
    """Text a reader of the page never sees (a classic place to hide instructions)."""
    return (
        tag.has_attr("hidden")
        or str(tag.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))
    )


def _looks_boilerplate(tag: Tag) -> bool:
    names = " ".join(tag.get("class") or []) + " " + str(tag.get("id") or "")
    names = names.lower()
    return any(word in names for word in _BOILERPLATE_CLASSES)


def _metadata(soup: BeautifulSoup) -> dict[str, Any]:
    def meta(*keys: str) -> str:
        for key in keys:
            tag = soup.find("meta", attrs={"property": key}) or soup.find(
                "meta", attrs={"name": key}
            )
            if isinstance(tag, Tag) and tag.get("content"):
                return str(tag["content"]).strip()
        return ""

    title = meta("og:title", "twitter:title")
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else ""
    if not title and soup.title and soup.title.string:
        title = soup.title.string.strip()
    published = meta("article:published_time", "date", "pubdate", "dc.date")
    if not published:
        time_tag = soup.find("time")
        if isinstance(time_tag, Tag):
            published = str(time_tag.get("datetime") or "")
    url = meta("og:url")
    canonical = soup.find("link", attrs={"rel": "canonical"})
    if not url and isinstance(canonical, Tag):
        url = str(canonical.get("href") or "")
    return {
        "title": title,
        "source": meta("og:site_name", "publisher", "author"),
        "published": published[:10] if published else "",
        "url": url,
    }
