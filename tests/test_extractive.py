"""The model-free backend's choice of sentences, with the real embedding model: the
sentence that states the asked-for relation leads even when a headline or a topical lead
sentence is closer in meaning; with no sentence holding what is asked, it refuses."""

from __future__ import annotations

from qa.backends.extractive import ExtractiveChatModel
from qa.types import Passage

TITLE = "Rare Moth Recorded on Harrow Moor for First Time"
ARTICLE = (
    f"{TITLE}\n\n"
    "A rare moth has been recorded on Harrow Moor for the first time, volunteers with the "
    "county wildlife trust said. "
    "Ecologist Maren Tollefsen, who led the survey, said the moth was found in light traps "
    "set near the old quarry. "
    "The moth, which has pale wings with two dark bars, is 14 millimetres long. "
    "The trust plans to repeat the survey with more traps."
)
OTHER = (
    "Bakery Chain Opens New Shop\n\n"
    "A bakery chain opened a new shop on the high street on Saturday, selling bread and cakes."
)


def passage(n: int, title: str, text: str) -> Passage:
    return Passage(n, f"a{n}::0", f"a{n}", title, "", "", "", text, 0, len(text), 1.0, 0.5)


def lead(model: ExtractiveChatModel, question: str) -> str:
    picked = model.select(question, [passage(1, TITLE, ARTICLE), passage(2, "Bakery Chain", OTHER)])
    return picked[0][0] if picked else ""


def test_the_sentence_holding_the_asked_relation_leads(encoder):
    model = ExtractiveChatModel(encoder)
    assert "Maren Tollefsen" in lead(model, "Who led the survey of the rare moth on Harrow Moor?")
    assert "14 millimetres" in lead(model, "How long is the moth recorded on Harrow Moor?")


def test_a_slot_no_sentence_holds_is_refused(encoder):
    """No sentence gives a date: a topical quote would not answer; a "what" question is still
    answered."""
    model = ExtractiveChatModel(encoder)
    assert lead(model, "In what year was the Harrow Moor wildlife trust founded?") == ""
    assert lead(model, "What does the Harrow Moor wildlife trust plan to do?")
