"""Sentences in an article that speak to the assistant rather than report news.

An article can carry text meant to steer a model: chat-template tokens, fake `System:` or
`User:` turns, "ignore previous instructions", "whenever you are asked ..., answer that ...".
Such a sentence is never a fact to quote, so the extractive backend does not quote it and
the prompt does not carry it. The patterns are narrow on purpose: a news sentence that
reports on prompt injection in quotation marks still reads as news; the checker and the
red-team set (eval/redteam/) guard the rest.
"""

from __future__ import annotations

import re

_WHO = r"(?:AI|assistants?|language\s+models?|chatbots?|LLMs?|the\s+model|models)"
_PATTERNS = [
    r"<\|[a-z_]{2,20}\|>",  # ChatML and similar template tokens
    r"\[/?INST\]|<<\s*/?SYS\s*>>",  # Llama 2 template
    r"(?:^|\n)\s*(?:user|assistant|human|ai|bot)\s*:",  # a fake chat turn
    # "System:" is also a spec-sheet field ("System: Nintendo Switch"): only when it orders
    r"(?:^|\n)\s*system\s*:\s*(?:you|ignore|disregard|new|the\s+assistant|from\s+now)\b",
    r"(?:^|\n)\s*system\s+(?:notice|override|message|prompt)\b",
    r"(?:^|\n)\s*(?:assistant|AI|model)\s*,",  # "Assistant, before you answer ..."
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)?"
    r"(?:previous|prior|above|earlier|preceding|system|other|question|passages?|articles?"
    r"|sources?|context)\b",
    r"\b(?:whenever|if)\s+(?:you\s+are|you're)\s+asked\b",
    r"\bwhatever\s+the\s+user\s+asks\b",
    r"\b(?:if|when|whenever)\s+(?:anyone|someone|somebody|a\s+user|the\s+user|you\s+are)\s+"
    r"ask(?:s|ed)?\b.*\b(?:answer|reply|respond|say|tell)\s+(?:them\s+)?(?:that|with)\b",
    r"\byou\s+(?:must|should|will)\s+(?:now\s+)?(?:say|answer|reply|respond|state|tell)\b",
    r"\b(?:reply|respond|answer)\s+(?:only\s+)?with\s+(?:the\s+)?(?:single\s+)?words?\b",
    r"\b(?:answer|reply|respond)\s+(?:only\s+)?that\b.*\b(?:cite|every|always|all)\b",
    r"\bfrom\s+now\s+on\b.*\b(?:answer|repeat|say|reply|respond)\b",
    r"\byou\s+are\s+(?:now\s+)?(?:an?\s+)?[A-Z]\w*(?:Bot|GPT|AI)\b",
    r"\byou\s+are\s+now\s+in\b",
    rf"\b{_WHO}\s+(?:systems?\s+)?(?:must|should|shall|reading|summari[sz]ing|processing)\b",
    rf"\bnote\s+to\s+(?:the\s+)?{_WHO}",
    r"\bmessage\s+from\s+the\s+(?:developers|administrators?)\b",
    r"\b(?:print|reveal|repeat)\s+(?:your|the)\s+(?:full\s+)?(?:system\s+)?"
    r"(?:prompt|instructions)\b",
]
_HOSTILE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def speaks_to_the_model(sentence: str) -> bool:
    """True when the sentence addresses an assistant (an injected instruction or a fake
    turn) instead of reporting something."""
    return bool(_HOSTILE.search(sentence))


_TRAILING_ROLE = re.compile(r"\s*\b(?:system|user|assistant|note)\b\s*:?\s*$", re.IGNORECASE)


def without_orders(sentence: str) -> str:
    """The sentence up to where it starts addressing the model, when what comes before is
    a statement of its own (a splitter can glue a fact to an injected order); else ""."""
    match = _HOSTILE.search(sentence)
    if match is None:
        return sentence
    head = _TRAILING_ROLE.sub("", sentence[: match.start()]).rstrip()
    return head if len(head.split()) >= 4 else ""
