"""What the page's events do: answer (streamed), start a new chat, switch the chat model,
add articles. Every QAError becomes a readable message in the page, never a traceback."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from qa.errors import InputError, QAError
from qa.index.ingest import IngestSummary
from qa.ui.corpus import Corpus, stats_html, summary_text
from qa.ui.render import esc, pending_sources_html, sources_html
from qa.ui.session import AssistantPool, Session, Turn

log = logging.getLogger(__name__)
ChatUpdate = tuple[list[dict[str, str]], str, str, Session]
IngestView = tuple[str, Any, Any, Any]


def check_date(value: str | None, label: str) -> str:
    """ "" or an ISO date (YYYY-MM-DD); anything else is an InputError naming the field."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"{label} date {value!r} is not a date: write it as YYYY-MM-DD") from None


def _message(exc: Exception) -> str:
    if isinstance(exc, QAError):
        return str(exc)
    log.error("unexpected error in the chat page", exc_info=exc)
    return f"unexpected error ({type(exc).__name__}: {exc}); the server log has the details"


class Handlers:
    """The page's event functions, bound to the shared assistants and corpus."""

    def __init__(self, pool: AssistantPool, corpus: Corpus, allow_folders: bool) -> None:
        self.pool = pool
        self.corpus = corpus
        self.allow_folders = allow_folders

    def new_session(self) -> Session:
        return Session(self.pool.default)

    # -- chat ---------------------------------------------------------------------------

    def respond(
        self,
        question: str,
        session: Session,
        top_k: float,
        sources: Sequence[str],
        date_from: str,
        date_to: str,
        flag: bool,
    ) -> Iterator[ChatUpdate]:
        """Stream one answer: the draft as it is written, then the checked answer + cards."""
        if not (question or "").strip():
            yield session.messages(flag), sources_html(session.last_answer()), "", session
            return
        turn = Turn(question.strip())
        session.turns.append(turn)
        yield session.messages(flag), pending_sources_html(), "", session
        try:
            stream = self.pool.get(session.backend).stream(
                turn.question,
                history=session.history(),
                sources=tuple(sources or ()),
                date_from=check_date(date_from, "From"),
                date_to=check_date(date_to, "To"),
                top_k=int(top_k),
            )
            last = 0.0
            for piece in stream:
                turn.draft += piece
                if time.monotonic() - last > 0.05:  # at most ~20 screen updates a second
                    last = time.monotonic()
                    yield session.messages(flag), pending_sources_html(), "", session
            turn.answer = stream.result()
        except Exception as exc:  # QAError: its message; anything else: logged, still shown
            turn.error = _message(exc)
        yield session.messages(flag), sources_html(turn.answer), "", session

    def new_chat(self, session: Session) -> tuple[list[dict[str, str]], str, str, Session]:
        fresh = Session(session.backend if session else self.pool.default)
        return [], sources_html(None), "", fresh

    def rerender(self, session: Session, flag: bool) -> list[dict[str, str]]:
        return session.messages(flag)

    def switch_model(self, name: str, session: Session) -> tuple[Any, str, Session]:
        """Load the chosen backend (shared by every session that picks it)."""
        import gradio as gr

        try:
            assistant = self.pool.get(name)
            assistant.model.warm_up()
        except Exception as exc:
            message = _message(exc)
            return (
                gr.update(value=session.backend),
                _status(f"Kept {session.backend}: {message}", error=True),
                session,
            )
        session.backend = name
        return gr.update(), _status(f"Answering with {assistant.model.name}."), session

    # -- corpus -------------------------------------------------------------------------

    def corpus_view(self) -> tuple[str, Any]:
        """The index stats and the outlet filter's choices, as they are now."""
        import gradio as gr

        try:
            stats = self.corpus.stats()
            return stats_html(stats), gr.update(choices=stats.outlet_names())
        except QAError as exc:
            return _status(str(exc), error=True), gr.update()

    def _report(self, lines: list[str], *, error: bool = False, done: bool = False) -> IngestView:
        """(log, stats, outlets, files): while running only the log changes; at the end the
        stats and filter choices refresh, and a successful upload clears the file picker."""
        import gradio as gr

        if not done:
            return _log(lines), gr.skip(), gr.skip(), gr.skip()
        return _log(lines, error=error), *self.corpus_view(), gr.skip() if error else None

    def add_uploads(self, files: Sequence[Any] | None) -> Iterator[IngestView]:
        """Save the uploaded files under the uploads folder, then index that folder."""
        try:
            saved = self.corpus.save_uploads([_upload_path(f) for f in files or []])
        except Exception as exc:
            yield self._report([f"Upload refused: {_message(exc)}"], error=True, done=True)
            return
        names = ", ".join(p.name for p in saved)
        yield from self._ingest(self.corpus.uploads, [f"Saved {len(saved)} file(s): {names}"])

    def add_folder(self, folder: str) -> Iterator[IngestView]:
        """Index a folder on the server (when the page is not exposed, or allowed)."""
        path = Path((folder or "").strip()).expanduser()
        if not self.allow_folders:
            problem = "indexing server folders is off here (`qa chat --allow-folders`)"
        elif not str(folder or "").strip() or not path.is_dir():
            problem = f"{(folder or '').strip()!r} is not a folder on the server"
        else:
            yield from self._ingest(path, [f"Indexing the folder {path}"])
            return
        yield self._report([f"Not indexed: {problem}."], error=True, done=True)

    def _ingest(self, folder: Path, lines: list[str]) -> Iterator[IngestView]:
        """Run the ingest in a thread and report its progress every half second."""
        job = _IngestJob(lambda warn: self.corpus.ingest(folder, self.pool.encoder, warn))
        try:
            lines.append(f"{self.corpus.count_files(folder)} article file(s) to check")
        except QAError as exc:
            lines.append(str(exc))
        job.start()
        while not job.wait(0.5):
            yield self._report([*lines, *job.warnings, f"indexing… {job.elapsed():.0f} s"])
        if job.error is not None or job.summary is None:
            failure = f"Failed: {_message(job.error or RuntimeError('no summary'))}"
            yield self._report([*lines, *job.warnings, failure], error=True, done=True)
            return
        self.pool.reopen_all()
        done = ["Done: " + summary_text(job.summary), "New articles are searchable now."]
        yield self._report([*lines, *job.warnings, *done], done=True)


class _IngestJob:
    """An ingest on a worker thread, so the page can show progress while it runs."""

    def __init__(self, work: Callable[[Callable[[str], None]], IngestSummary]) -> None:
        self.warnings: list[str] = []
        self.summary: IngestSummary | None = None
        self.error: Exception | None = None
        self._work = work
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="qa-ingest", daemon=True)

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def wait(self, seconds: float) -> bool:
        self._thread.join(seconds)
        return not self._thread.is_alive()

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _run(self) -> None:
        try:
            self.summary = self._work(lambda message: self.warnings.append(f"warning: {message}"))
        except Exception as exc:
            self.error = exc


def _upload_path(item: Any) -> str:
    """gr.File gives paths (type="filepath"); older forms give objects with `.name`."""
    return str(getattr(item, "path", None) or getattr(item, "name", None) or item)


def _status(text: str, *, error: bool = False) -> str:
    css = "qa-error" if error else "qa-note"
    return f'<div class="{css}">{esc(text)}</div>'


def _log(lines: list[str], *, error: bool = False) -> str:
    css = "qa-log qa-error" if error else "qa-log"
    return f'<div class="{css}">{esc(chr(10).join(lines))}</div>'
