"""Per-browser-session chat state, and the assistants the sessions share.

A Session lives in a `gr.State`, so two people never see each other's history. Assistants
are shared (one per chat backend, all on one encoder), so a model loads once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from qa.answer.assistant import Assistant
from qa.backends.registry import BACKENDS
from qa.types import Answer
from qa.ui.render import answer_html, draft_html, error_html, user_html


@dataclass
class Turn:
    """One question and what came of it: a draft while streaming, then an answer or error."""

    question: str
    draft: str = ""
    answer: Answer | None = None
    error: str = ""

    @property
    def done(self) -> bool:
        return self.answer is not None or bool(self.error)


@dataclass
class Session:
    """One browser tab's conversation and its chosen chat backend."""

    backend: str
    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[dict[str, str]]:
        """Earlier answered turns as {"role", "content"} messages for follow-ups."""
        out: list[dict[str, str]] = []
        for turn in self.turns:
            if turn.answer is not None:
                out.append({"role": "user", "content": turn.question})
                out.append({"role": "assistant", "content": turn.answer.text})
        return out

    def last_answer(self) -> Answer | None:
        return self.turns[-1].answer if self.turns else None

    def messages(self, flag_unsupported: bool) -> list[dict[str, str]]:
        """The chat as Chatbot messages (HTML); only the latest answer links to the cards."""
        out = []
        for i, turn in enumerate(self.turns):
            out.append({"role": "user", "content": user_html(turn.question)})
            out.append(
                {
                    "role": "assistant",
                    "content": _turn_html(turn, flag_unsupported, i == len(self.turns) - 1),
                }
            )
        return out


def _turn_html(turn: Turn, flag_unsupported: bool, latest: bool) -> str:
    if turn.error:
        return error_html(turn.error)
    if turn.answer is not None:
        return answer_html(turn.answer, flag_unsupported=flag_unsupported, linked=latest)
    return draft_html(turn.draft)


class AssistantPool:
    """One Assistant per backend name, created on first use, sharing the first one's encoder."""

    def __init__(self, first: Assistant) -> None:
        self.default = backend_name(first)
        self._assistants = {self.default: first}
        self._lock = threading.Lock()
        self.encoder = first.encoder
        self.settings = first.settings

    def names(self) -> list[str]:
        return list(dict.fromkeys([*BACKENDS, self.default]))

    def get(self, name: str) -> Assistant:
        """The assistant for `name`; creating one may raise a QAError (unknown, broken)."""
        with self._lock:
            if name not in self._assistants:
                # the launch's --llm-model names a model of the launch's backend only
                settings = (
                    self.settings
                    if name == self.settings.model.llm
                    else self.settings.replace(llm=name, llm_model="")
                )
                self._assistants[name] = Assistant(settings, llm=name, encoder=self.encoder)
            return self._assistants[name]

    def reopen_all(self) -> None:
        """After an ingest: every assistant searches the index as it is now."""
        with self._lock:
            for assistant in self._assistants.values():
                assistant.reopen()


def backend_name(assistant: Assistant) -> str:
    """The registry name of an assistant's backend ("llamacpp:x.gguf" -> "llamacpp")."""
    name = assistant.model.name.split(":")[0]
    return name if name in BACKENDS else assistant.model.name
