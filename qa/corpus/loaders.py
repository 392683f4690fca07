"""Load news articles from files: txt, md (YAML front matter), html, json and jsonl, and
any format a plugin registers under the `qa.loaders` entry-point group.

A loader (`Loader`) turns one file's text into records: dicts with "text" and any of
"title", "source", "published", "url", "id". The built-in ones are registered the same way
(pyproject.toml). A file that cannot be read is reported as a `Skipped` with its reason; it
never stops the rest of the folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import yaml

from qa.errors import InputError
from qa.settings import IngestSettings
from qa.types import Article

SIDECAR = ".meta.yaml"
# The one size limit of an article file (QA_MAX_FILE_MB), uploads on the page included.
MAX_FILE_BYTES = int(IngestSettings.max_file_mb * 2**20)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?", re.DOTALL)


@dataclass(frozen=True)
class Skipped:
    """A file (or a record in it) that was not loaded, and why."""

    path: str
    reason: str


Record = dict[str, Any]


class Loader(Protocol):
    """`load(content, file)`: the records of one file (a `Skipped` in place of a bad one).
    Raise ValueError with a one-line reason when the whole file is unreadable. A loader
    whose `per_record` is true reads collections (JSON): a record's own fields win over the
    file's `.meta.yaml`; otherwise the `.meta.yaml` wins over what the loader found."""

    def __call__(self, content: str, file: Path) -> list[Record | Skipped]: ...


def load_text(content: str, file: Path) -> list[Record | Skipped]:
    return [{"text": content}]


def load_markdown(content: str, file: Path) -> list[Record | Skipped]:
    text, front = _split_front_matter(content)
    return [{**front, "text": text}]


def load_html(content: str, file: Path) -> list[Record | Skipped]:
    from qa.corpus.html import extract

    text, meta = extract(content)
    return [{**meta, "text": text}]


def load_json(content: str, file: Path) -> list[Record | Skipped]:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    items = data if isinstance(data, list) else [data]
    return [{"_where": str(i), "_record": item} for i, item in enumerate(items, 1)]


def load_jsonl(content: str, file: Path) -> list[Record | Skipped]:
    out: list[Record | Skipped] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append({"_where": str(number), "_line": True, "_record": json.loads(line)})
        except json.JSONDecodeError as exc:
            out.append(Skipped(f"{file}:{number}", f"invalid JSON ({exc.msg})"))
    return out


load_json.per_record = True  # type: ignore[attr-defined]
load_jsonl.per_record = True  # type: ignore[attr-defined]
# Used when qa runs from a source tree that was never installed (no entry points).
_BUILT_IN: dict[str, Loader] = {
    ".txt": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".json": load_json,
    ".jsonl": load_jsonl,
}


@cache
def loaders() -> dict[str, Loader]:
    """File suffix (".txt") -> loader: the built-in ones and every `qa.loaders` plugin (the
    entry point's name is the suffix without its dot)."""
    found: dict[str, Loader] = dict(_BUILT_IN)
    for point in entry_points(group="qa.loaders"):
        suffix = "." + point.name.lower().lstrip(".")
        try:
            found[suffix] = point.load()
        except Exception as exc:  # a broken plugin must not stop the built-in formats
            raise InputError(f"loader plugin {point.value!r} for {suffix} failed: {exc}") from None
    return found


def suffixes() -> tuple[str, ...]:
    return tuple(loaders())


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
    loader = loaders().get(suffix)
    if loader is None:
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
    try:
        records = loader(content, file)
    except ValueError as exc:
        return [], [Skipped(str(file), str(exc))]
    per_record = getattr(loader, "per_record", False)
    return _articles(records, file, default_id, _sidecar(file), per_record)


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


def _articles(
    records: list[Record | Skipped],
    file: Path,
    default_id: str,
    sidecar: dict[str, Any],
    per_record: bool,
) -> tuple[list[Article], list[Skipped]]:
    articles: list[Article] = []
    skipped = [r for r in records if isinstance(r, Skipped)]
    rows = [r for r in records if not isinstance(r, Skipped)]
    many = len(rows) > 1
    for i, row in enumerate(rows, 1):
        label = str(row.get("_where", i))
        where = f"{file}:{label}" if many or row.get("_line") else str(file)
        record = row.get("_record", row)
        if not isinstance(record, dict):
            skipped.append(Skipped(where, "record is not a JSON object"))
            continue
        meta = {**sidecar, **record} if per_record else {**record, **sidecar}
        fallback_id = f"{default_id}#{label}" if many else default_id
        article = _make_article(meta, record.get("text"), fallback_id, where)
        if article is None:
            reason = "record has no 'text'" if per_record else "no article text"
            skipped.append(Skipped(where, reason))
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


_YEAR = re.compile(r"(?<!\d)(1[89]|2[01])\d\d(?!\d)")


def normalise_date(value: Any) -> str:
    """An ISO date (YYYY-MM-DD) from a date, datetime or the string forms news metadata uses
    (ISO 8601, RFC 2822 from feeds, "3 December 2024", "Dec. 3rd, 2024", "3.12.2024"),
    read by dateutil; "" when there is no date with a year in it. A time with a zone keeps
    the date as written (the article's own calendar day)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not _YEAR.search(text):
        return ""  # "3 December" or "Monday": dateutil would fill in this year
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    from dateutil import parser

    # 3.12.2024 and 03/12/2024 are day-first outside the US; slashes stay ambiguous: refuse
    # those rather than guess, unless the year leads (2024/12/03).
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", text):
        return ""
    try:
        # read twice with two different defaults: a day, month or year the text does not
        # give shows up as a difference ("June 2024" has no day), and there is no date
        one, two = (
            parser.parse(text, dayfirst="." in text, default=datetime(y, m, d))
            for y, m, d in ((2000, 1, 1), (2001, 2, 2))
        )
    except (ValueError, OverflowError):
        return ""
    return one.date().isoformat() if one.date() == two.date() else ""
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
