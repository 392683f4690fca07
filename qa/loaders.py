"""Load news articles from files: txt, md (YAML front matter), html, json and jsonl.

Each loader turns one file into Articles. A file that cannot be read is reported as a
`Skipped` with its reason; it never stops the rest of the folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from qa.errors import InputError
from qa.types import Article

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
SIDECAR = ".meta.yaml"
MAX_FILE_BYTES = 20 * 1024 * 1024
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?", re.DOTALL)


@dataclass(frozen=True)
class Skipped:
    """A file (or a record in it) that was not loaded, and why."""

    path: str
    reason: str


def iter_files(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) for every article file under `paths`, in a stable order."""
    for given in paths:
        if not given.exists():
            raise InputError(
                f"path {str(given)!r} does not exist: give a file or folder of articles"
            )
        if given.is_file():
            yield given, given.parent
            continue
        for file in sorted(p for p in given.rglob("*") if p.is_file()):
            rel = file.relative_to(given)
            if any(part.startswith(".") for part in rel.parts) or file.name.endswith(SIDECAR):
                continue
            yield file, given


def load_file(
    file: Path, root: Path, max_bytes: int = MAX_FILE_BYTES
) -> tuple[list[Article], list[Skipped]]:
    """All articles in one file, and what in it was skipped. Files over `max_bytes` are
    skipped unread, so one huge file never fills the memory."""
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        return [], [Skipped(str(file), f"unsupported file type {suffix or '(none)'!r}")]
    try:
        str(file).encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name (surrogate-escaped)
        return [], [Skipped(str(file), "file name is not valid UTF-8: rename the file")]
    try:
        size = file.stat().st_size
        if size > max_bytes:
            return [], [
                Skipped(
                    str(file),
                    f"larger than the {_megabytes(max_bytes)} limit ({_megabytes(size)}): "
                    "split it, or raise QA_MAX_FILE_MB",
                )
            ]
        raw = file.read_bytes()
    except OSError as exc:
        return [], [Skipped(str(file), f"cannot be read ({exc.strerror or exc})")]
    if b"\x00" in raw[:8192]:
        return [], [Skipped(str(file), "binary file")]
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Skipped(str(file), "not valid UTF-8 text")]
    default_id = file.relative_to(root).with_suffix("").as_posix()
    meta = _sidecar(file)
    if suffix in {".json", ".jsonl"}:
        return _load_records(content, file, default_id, meta, suffix == ".jsonl")
    if suffix in {".html", ".htm"}:
        from qa.html import extract

        text, html_meta = extract(content)
        meta = {**html_meta, **meta}
    elif suffix in {".md", ".markdown"}:
        text, front = _split_front_matter(content)
        meta = {**front, **meta}
    else:
        text = content
    article = _make_article(meta, text, default_id, str(file))
    if article is None:
        return [], [Skipped(str(file), "no article text")]
    return [article], []


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.3g} MB"


def _sidecar(file: Path) -> dict[str, Any]:
    side = file.with_name(file.stem + SIDECAR)
    if not side.exists():
        return {}
    try:
        data = yaml.safe_load(side.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _split_front_matter(content: str) -> tuple[str, dict[str, Any]]:
    match = _FRONT_MATTER.match(content)
    if not match:
        return content, {}
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return content, {}
    if not isinstance(data, dict):
        return content, {}
    return content[match.end() :], data


def _load_records(
    content: str, file: Path, default_id: str, meta: dict[str, Any], lines: bool
) -> tuple[list[Article], list[Skipped]]:
    articles: list[Article] = []
    skipped: list[Skipped] = []
    if lines:
        records: list[tuple[str, Any]] = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                skipped.append(Skipped(f"{file}:{number}", f"invalid JSON ({exc.msg})"))
    else:
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            return [], [Skipped(str(file), f"invalid JSON ({exc.msg} at line {exc.lineno})")]
        items = data if isinstance(data, list) else [data]
        records = [(f"record {i + 1}", item) for i, item in enumerate(items)]
    many = len(records) > 1
    for label, record in records:
        where = f"{file}:{label.split()[-1]}" if many or lines else str(file)
        if not isinstance(record, dict):
            skipped.append(Skipped(where, "record is not a JSON object"))
            continue
        fallback_id = f"{default_id}#{label.split()[-1]}" if many else default_id
        article = _make_article({**meta, **record}, record.get("text"), fallback_id, where)
        if article is None:
            skipped.append(Skipped(where, "record has no 'text'"))
        else:
            articles.append(article)
    return articles, skipped


def _make_article(meta: dict[str, Any], text: Any, default_id: str, path: str) -> Article | None:
    if not isinstance(text, str) or not text.strip():
        return None
    title = _str(meta.get("title")) or _title_from_text(text)
    return Article(
        id=_str(meta.get("id")) or default_id,
        title=title,
        source=_str(meta.get("source") or meta.get("outlet") or meta.get("site_name")),
        published=normalise_date(meta.get("published") or meta.get("date")),
        url=_str(meta.get("url")),
        text=text,
        path=path,
    )


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _title_from_text(text: str) -> str:
    first = text.strip().splitlines()[0].strip()
    if len(first) <= 120 and not first.endswith("."):
        return first
    words = first.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")


def normalise_date(value: Any) -> str:
    """An ISO date (YYYY-MM-DD) from a date, datetime or common string form; "" if none."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%d %B %Y", "%B %d, %Y", "%b %d, %Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text[: len(text)], fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return ""
