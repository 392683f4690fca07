"""The external figure: noisy-retrieval QA on RGB's `en_fact.json` (Chen et al., AAAI 2024).

Every record's positive and negative snippets are pooled into one corpus, written to a
temporary folder outside the repository (the data is CC BY-NC-SA benchmark input: it is
never copied into the project) and ingested into a temporary index; each query is asked
and counted correct when the answer contains the gold answer. Only whole-set figures are
reported, never single items.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import BackendError, InputError
from qa.progress import make_progress
from qa.settings import Settings

from . import metrics as m


@dataclass(frozen=True)
class RgbItem:
    query: str
    answer: Any  # a string, a list of required strings, or lists of alternatives
    snippets: tuple[str, ...]  # positive + negative


def load_rgb(path: str | Path) -> list[RgbItem]:
    """Records from RGB's file (JSON lines, or one JSON list)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--rgb {path} does not exist: give the path of RGB's en_fact.json")
    text = path.read_text("utf-8")
    try:
        records = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"--rgb {path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    items = []
    for record in records:
        if not isinstance(record, dict) or "query" not in record or "answer" not in record:
            raise InputError(f"--rgb {path}: every record needs 'query' and 'answer'")
        snippets = [
            s
            for s in [*record.get("positive", []), *record.get("negative", [])]
            if isinstance(s, str) and s.strip()
        ]
        items.append(RgbItem(str(record["query"]), record["answer"], tuple(snippets)))
    return items


def write_corpus(items: Sequence[RgbItem], folder: Path) -> int:
    """One JSONL file of the pooled, de-duplicated snippets; returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    unique = list(dict.fromkeys(s.strip() for item in items for s in item.snippets))
    with open(folder / "rgb-corpus.jsonl", "w", encoding="utf-8") as handle:
        for i, text in enumerate(unique):
            handle.write(json.dumps({"id": f"rgb-{i:05d}", "text": text}) + "\n")
    return len(unique)


def run_rgb(
    path: str | Path,
    settings: Settings,
    encoder: Any,
    llms: Sequence[str],
    limit: int | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Accuracy per backend on the pooled RGB corpus (temporary index, removed after)."""
    from qa.answer.assistant import Assistant
    from qa.index.ingest import Ingestor

    items = load_rgb(path)
    asked = items[:limit] if limit else items
    workdir = Path(tempfile.mkdtemp(prefix="qa-rgb-"))
    try:
        passages = write_corpus(items, workdir / "corpus")
        rgb_settings = settings.replace(index=workdir / "index", chroma_host="", collection="rgb")
        Ingestor(rgb_settings, encoder).ingest([workdir / "corpus"], quiet=quiet)
        results = {}
        for llm in llms:
            assistant = Assistant(rgb_settings, llm=llm, encoder=encoder)
            results[llm] = _ask_all(assistant, asked, f"rgb {llm}", quiet)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "path": str(path),
        "passages": passages,
        "questions": len(asked),
        "of": len(items),
        "backends": results,
    }


def _ask_all(assistant: Any, items: Sequence[RgbItem], label: str, quiet: bool) -> dict[str, Any]:
    progress = make_progress(len(items), label, quiet=quiet)
    correct = refused = errors = 0
    totals: list[float] = []
    try:
        for done, item in enumerate(items, 1):
            try:
                answer = assistant.answer(item.query)
            except BackendError:
                errors += 1
                continue
            finally:
                progress.update(done, correct=correct)
            correct += m.rgb_correct(answer.text, item.answer)
            refused += answer.refused
            totals.append(answer.timings.total)
    finally:
        progress.close()
    n = len(items)
    return {
        "accuracy": round(correct / n, 4) if n else None,
        "correct": correct,
        "refused": refused,
        "errors": errors,
        "total_p50": m.percentile(totals, 50),
        "total_p95": m.percentile(totals, 95),
    }
