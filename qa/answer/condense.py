"""Turn a follow-up question into a standalone query, using the conversation before it.

The default is rule-based (instant, predictable): pronouns that stand for a person are
replaced by the last person the conversation named (spaCy entities, no name lists), and an
elliptical follow-up ("and the sanctions?") carries the previous question along. With
`condense="llm"` the chat model rewrites it, and the rules remain the fallback when its
output is unusable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from qa.answer.prompting import render
from qa.backends.base import ChatModel, ChatRequest
from qa.errors import BackendError
from qa.grounding.markers import strip_markers
from qa.text import language
from qa.types import ChatMessage

_PERSON_PRONOUNS = {
    "he": "{}",
    "him": "{}",
    "his": "{}'s",
    "she": "{}",
    "her": "{}",
    "hers": "{}'s",
}
_THING_PRONOUNS = {"it", "its", "they", "them", "their", "this", "that", "there", "those"}
_ELLIPTICAL = re.compile(r"^\s*(and|what about|how about|also|same for)\b", re.IGNORECASE)


def last_name(messages: Sequence[ChatMessage]) -> str:
    """The person the user last asked about; failing that, the first person the last
    answer named; failing both, the last name of any kind the user gave.

    Names come from spaCy's entities, so any person counts, not only known ones. The
    user's own words come first: an answer may open with other names while the user
    asked about one person.
    """
    users = [m for m in reversed(messages) if m.role == "user"]
    for message in users:
        people = _names(message.content, {"PERSON"})
        if people:
            return people[-1]
    for message in reversed(messages):
        if message.role != "user":
            people = _names(message.content, {"PERSON"})
            if people:
                return people[0]
    for message in users:
        others = _names(message.content, language.NAME_LABELS - {"NORP"})
        if others:
            return others[-1]
    return ""


def _names(text: str, labels: frozenset[str] | set[str]) -> list[str]:
    """Entities with these labels; one that only modifies a common noun ("the Varnholm
    bridge") names the thing, not a person or place talked about."""
    doc = language.parse(strip_markers(text))
    return [
        " ".join(e.text.split())
        for e in doc.ents
        if e.label_ in labels and not (e.root.dep_ == "compound" and e.root.head.pos_ == "NOUN")
    ]


class Condenser(Protocol):
    """The question and the conversation before it -> a query that stands on its own."""

    def __call__(self, question: str, history: Sequence[ChatMessage]) -> str: ...


def condense_rules(question: str, history: Sequence[ChatMessage]) -> str:
    if not history:
        return question
    words = re.findall(r"[A-Za-z’']+", question)
    lowered = [w.lower() for w in words]
    person = next((w for w in lowered if w in _PERSON_PRONOUNS), None)
    name = last_name(history) if person else ""
    rewritten = question
    if person and name:

        def swap(match: re.Match[str]) -> str:
            return _PERSON_PRONOUNS[match.group().lower()].format(name)

        pattern = r"\b(" + "|".join(_PERSON_PRONOUNS) + r")\b"
        rewritten = re.sub(pattern, swap, question, flags=re.IGNORECASE)
    needs_context = (
        _ELLIPTICAL.match(question) is not None
        or (person is not None and not name)
        or any(w in _THING_PRONOUNS for w in lowered)
        or len(words) <= 3
    )
    if needs_context:
        previous = next((m.content for m in reversed(history) if m.role == "user"), "")
        if previous:
            rewritten = f"{rewritten} (following up on: {previous.strip()})"
    return rewritten


def condense_llm(question: str, history: Sequence[ChatMessage], model: ChatModel) -> str:
    """The chat model's rewrite, or the rules' when the model fails or rambles."""
    fallback = condense_rules(question, history)
    if not history or not model.is_generative:
        return fallback
    transcript = "\n".join(f"{m.role}: {m.content.strip()}" for m in history[-6:])
    request = ChatRequest(
        render("condense", history=transcript, question=question),
        question=question,
        max_tokens=64,
        temperature=0.0,
    )
    try:
        text = "".join(model.stream(request)).strip().splitlines()
    except BackendError:
        return fallback
    candidate = text[0].strip().strip('"') if text else ""
    if not candidate or len(candidate) > 3 * len(question) + 200:
        return fallback
    return candidate
