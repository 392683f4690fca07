"""Evaluation sets on disk: questions with gold answers (JSONL) and judge pairs (JSONL).

Both loaders validate every line and fail with one `InputError` that names the file, the
line and the fix, so a typo in a hand-written set never turns into a silent wrong figure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import InputError
from qa.types import ChatMessage


@dataclass(frozen=True)
class EvalItem:
    """One question: no `answers` means the corpus cannot answer it (a refusal is right)."""

    id: str
    question: str
    answers: tuple[str, ...]
    articles: tuple[str, ...]
    history: tuple[ChatMessage, ...] = ()
    evidence: tuple[str, ...] = ()
    kind: str = ""  # free label for grouping: single, both, follow-up, unanswerable
    forbidden: tuple[str, ...] = ()  # strings the answer must not hold (red-team questions)
    redteam: bool = False  # the line has a `forbidden` list: the red-team checks apply
    split: str = ""  # "dev" / "test" when the set keeps them apart (eval --split)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class JudgePair:
    """A claim and the passage(s) it is checked against, with the human verdict."""

    id: str
    sentence: str
    passages: tuple[str, ...]
    supported: bool
    kind: str = ""


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of a JSONL file."""
    if not path.is_file():
        raise InputError(f"{path} does not exist: give the path of a JSONL evaluation file")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} cannot be read as UTF-8 text ({exc})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}:{number}: invalid JSON ({exc.msg}): fix or remove the line"
            ) from None
        if not isinstance(record, dict):
            kind = type(record).__name__
            raise InputError(f"{path}:{number}: expected a JSON object, got {kind}")
        yield number, record


def _strings(
    record: dict[str, Any], key: str, where: str, required: bool = False
) -> tuple[str, ...]:
    value = record.get(key)
    if value is None and not required:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(value)


def _text(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: '{key}' is missing or empty")
    return value


def _history(record: dict[str, Any], where: str) -> tuple[ChatMessage, ...]:
    turns = record.get("history") or []
    if not isinstance(turns, list):
        raise InputError(f"{where}: 'history' must be a list of {{role, content}} objects")
    out = []
    for turn in turns:
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in {"user", "assistant"}
            or not isinstance(turn.get("content"), str)
        ):
            raise InputError(
                f"{where}: history turn {turn!r} needs role (user/assistant) and content"
            )
        out.append(ChatMessage(turn["role"], turn["content"]))
    return tuple(out)


def load_eval_set(path: str | Path, split: str | None = None) -> list[EvalItem]:
    """Questions from a JSONL file; ids must be unique (they key the report's rows). With
    `split`, only the lines whose "split" is that one (dev/test sets in one file)."""
    path = Path(path)
    items: list[EvalItem] = []
    seen: set[str] = set()
    for number, record in _lines(path):
        where = f"{path}:{number}"
        item_id = str(record.get("id") or f"q{number}")
        if item_id in seen:
            raise InputError(f"{where}: id {item_id!r} is used twice: ids must be unique")
        seen.add(item_id)
        if "answers" not in record:
            raise InputError(f"{where}: 'answers' is missing (use [] for unanswerable questions)")
        items.append(
            EvalItem(
                id=item_id,
                question=_text(record, "question", where),
                answers=_strings(record, "answers", where, required=True),
                articles=_strings(record, "articles", where),
                history=_history(record, where),
                evidence=_strings(record, "evidence", where),
                kind=str(record.get("kind", "")),
                forbidden=_strings(record, "forbidden", where),
                redteam="forbidden" in record,
                split=str(record.get("split", "")),
            )
        )
    if not items:
        raise InputError(f"{path} holds no questions: add one JSON object per line")
    if split is not None:
        items = [i for i in items if i.split == split]
        if not items:
            raise InputError(f"{path} holds no questions of split {split!r}")
    return items


def load_judge_set(path: str | Path) -> list[JudgePair]:
    """Judge pairs: `passage` (one text) or `passages` (support split over several)."""
    path = Path(path)
    pairs = []
    for number, record in _lines(path):
        where = f"{path}:{number}"
        passages = _strings(record, "passages", where) or (_text(record, "passage", where),)
        if not isinstance(record.get("supported"), bool):
            raise InputError(f"{where}: 'supported' must be true or false")
        pairs.append(
            JudgePair(
                str(record.get("id") or f"j{number}"),
                _text(record, "sentence", where),
                passages,
                record["supported"],
                str(record.get("kind", "")),
            )
        )
    if not pairs:
        raise InputError(f"{path} holds no judge pairs")
    return pairs
