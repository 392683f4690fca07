"""What is indexed, and adding articles from the page: uploads saved under one folder with
sanitised names only, then ingested with the page's encoder."""

from __future__ import annotations

import re
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.corpus.loaders import MAX_FILE_BYTES, SIDECAR, iter_files, suffixes
from qa.errors import InputError
from qa.index import Index
from qa.index.ingest import Ingestor, IngestSummary
from qa.settings import Settings
from qa.ui.render import esc, table_html

MAX_UPLOAD_BYTES = MAX_FILE_BYTES  # the page takes what `qa ingest` takes
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CorpusStats:
    """Counts of what is searchable now."""

    articles: int
    chunks: int
    outlets: dict[str, int]
    first: str
    last: str
    newest: list[tuple[str, str, str, int]]  # (title, outlet, published, passages)

    def outlet_names(self) -> list[str]:
        """Outlets to filter on (articles without one cannot be filtered by outlet)."""
        return sorted(o for o in self.outlets if o != "unknown outlet")


def safe_name(name: str) -> str:
    """A basename with only [A-Za-z0-9._-], no leading dots; InputError if nothing is left
    or the file type is not one `qa ingest` reads."""
    base = re.split(r"[\\/]", name or "")[-1]
    clean = _UNSAFE.sub("_", base).lstrip("._")[-120:]
    if not clean or clean in {".", ".."}:
        raise InputError(f"file name {name!r} cannot be used: rename it and upload again")
    lower = clean.lower()
    if not (lower.endswith(SIDECAR) or any(lower.endswith(s) for s in suffixes())):
        raise InputError(
            f"{base!r} is not an article file: upload {', '.join(suffixes())} (or {SIDECAR})"
        )
    return clean


class Corpus:
    """The index as the page sees it: stats, uploads folder, one ingest at a time."""

    def __init__(self, settings: Settings, uploads: Path) -> None:
        self.settings = settings
        self.uploads = Path(uploads)
        self._ingestor: Ingestor | None = None
        self._lock = threading.Lock()

    def stats(self) -> CorpusStats:
        state = Index(self.settings.store).keywords
        try:
            records = [r for r in state.articles().values() if r.status == "done"]
            chunks = state.chunk_count()
        finally:
            state.close()
        dates = sorted(r.published for r in records if r.published)
        records.sort(key=lambda r: (r.published or "", r.title or r.id), reverse=True)
        newest = [(r.title or r.id, r.source, r.published, r.chunks) for r in records[:500]]
        outlets = Counter(r.source or "unknown outlet" for r in records)
        return CorpusStats(
            len(records),
            chunks,
            dict(outlets.most_common()),
            dates[0] if dates else "",
            dates[-1] if dates else "",
            newest,
        )

    def save_uploads(self, files: Iterable[str | Path]) -> list[Path]:
        """Copy uploaded temp files into the uploads folder; every check before any copy."""
        plan = []
        for file in files:
            path = Path(file)
            size = path.stat().st_size
            if size > MAX_UPLOAD_BYTES:
                raise InputError(
                    f"{path.name!r} is {size / 2**20:.1f} MB; the limit is "
                    f"{MAX_UPLOAD_BYTES // 2**20} MB per file"
                )
            plan.append((path, self._destination(safe_name(path.name))))
        if not plan:
            raise InputError("no files were uploaded: choose article files first")
        for source, dest in plan:
            partial = dest.with_name(f".{dest.name}.part")
            shutil.copyfile(source, partial)
            partial.replace(dest)
        return [dest for _, dest in plan]

    def _destination(self, name: str) -> Path:
        self.uploads.mkdir(parents=True, exist_ok=True)
        root = self.uploads.resolve()
        dest = (root / name).resolve()
        if dest.parent != root:  # cannot happen after safe_name; kept as the last guard
            raise InputError(f"file name {name!r} cannot be used")
        return dest

    def count_files(self, folder: Path) -> int:
        return sum(1 for _ in iter_files([folder]))

    def ingest(
        self, folder: Path, encoder: object, on_warning: Callable[[str], None]
    ) -> IngestSummary:
        """Index `folder` (only new or changed articles are embedded)."""
        with self._lock:
            if self._ingestor is None:
                self._ingestor = Ingestor(self.settings, encoder=encoder)  # type: ignore[arg-type]
            return self._ingestor.ingest([folder], quiet=True, on_warning=on_warning)


def stats_html(stats: CorpusStats) -> str:
    if not stats.articles:
        return (
            '<div class="qa-placeholder">Nothing is indexed yet: add articles below, '
            "or run <code>qa ingest seeds/</code>.</div>"
        )
    span = f"{stats.first} to {stats.last}" if stats.first else "no dates"
    summary = (
        f'<div class="qa-stats"><span><b>{stats.articles}</b> articles</span>'
        f"<span><b>{stats.chunks}</b> passages</span>"
        f"<span><b>{len(stats.outlets)}</b> outlets</span>"
        f"<span>published {esc(span)}</span></div>"
    )
    outlets = table_html(("outlet", "articles"), stats.outlets.items())
    shown = f"newest {len(stats.newest)}" if len(stats.newest) < stats.articles else "all"
    articles = table_html(("title", "outlet", "published", "passages"), stats.newest)
    listing = f"<details><summary>Articles ({shown})</summary>{articles}</details>"
    return summary + outlets + listing


def summary_text(summary: IngestSummary) -> str:
    return (
        f"{summary.articles_added} added, {summary.articles_updated} updated, "
        f"{summary.articles_unchanged} unchanged, {summary.files_skipped} skipped; "
        f"{summary.chunks_added} passages added, {summary.chunks_total} in the index "
        f"({summary.seconds:.1f} s)"
    )
