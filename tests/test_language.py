"""The general language layer (spaCy + text2num) and the decisions built on it: what a
question asks for, whether a sentence holds it, the refusal gate, the condenser and the
judge's hard checks. The text here is written for the tests, from no evaluation set, and
the names in it are in no list of the code: that is the point."""

from __future__ import annotations

import pytest

from qa.answer.condense import condense_rules
from qa.answer.gate import refusal_reason
from qa.grounding.judge import OfflineJudge
from qa.retrieval.hybrid import Retrieval
from qa.text import language
from qa.text.question import about, analyse, fit, holds
from qa.types import ChatMessage, Passage

PASSAGE = (
    "The Varnholm bridge was opened in 1987 by the engineer Ilse Marquardt. "
    "It is thought to be the longest timber bridge in northern Europe. "
    "Some of its beams were replaced in 2015 because salt water had rotted them. "
    "Ten thousand vehicles cross it every day."
)


def _passage(text: str = PASSAGE, n: int = 1) -> Passage:
    return Passage(n, f"c{n}", f"a{n}", "Varnholm bridge", "", "", "", text, 0, len(text), 1, 0.8)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who opened the Varnholm bridge?", "person"),
        ("When was the bridge opened?", "date"),
        ("In what year were the beams replaced?", "date"),
        ("How many vehicles cross the bridge each day?", "number"),
        ("How much did the bridge cost?", "amount"),
        ("Where is the Varnholm bridge?", "place"),
        ("Why were the beams replaced?", "reason"),
        ("Which engineer opened it?", "thing"),
    ],
)
def test_a_question_is_read_for_what_it_asks(question: str, kind: str) -> None:
    assert analyse(question).kind == kind


def test_an_attribute_question_needs_the_attribute_in_the_answer() -> None:
    asked = analyse("What is the population of Varnholm?")
    assert asked.kind == "thing" and asked.head == "population"
    assert not holds(asked, language.parse(PASSAGE.split(". ")[0]))
    assert holds(asked, language.parse("The population of Varnholm was 4,200 in 2020."))


def test_a_sentence_holds_a_person_only_if_it_names_one_not_asked_about() -> None:
    asked = analyse("Who opened the Varnholm bridge?")
    assert holds(asked, language.parse("The bridge was opened in 1987 by Ilse Marquardt."))
    assert not holds(asked, language.parse("The Varnholm bridge was opened in 1987."))


def test_a_date_already_in_the_question_is_not_an_answer() -> None:
    asked = analyse("What happened to the bridge after 2015?")
    assert asked.numbers == {"2015"}
    assert not holds(
        analyse("When, after 2015, was it repaired?"),
        language.parse("Some of its beams were replaced in 2015."),
    )


def test_numbers_in_words_and_scales_read_as_digits() -> None:
    assert language.numbers("Ten thousand vehicles, 2.5 million euros") >= {"10000", "2500000"}


def test_a_nationality_word_is_found_in_the_country_name() -> None:
    name = language.Name("peruvian", "NORP")
    assert language.name_in(name, "the president of peru said")
    assert not language.name_in(language.Name("ilse", "PERSON"), "the engineer said")


def test_gate_refuses_when_the_asked_for_slot_is_nowhere(encoder) -> None:
    found = Retrieval((_passage(),), (), 0.8)
    assert refusal_reason("Who opened the Varnholm bridge?", found, 0.2, encoder) == ""
    reason = refusal_reason("How much did the Varnholm bridge cost?", found, 0.2, encoder)
    assert "amount" in reason
    assert "1990" in refusal_reason("What happened to the bridge in 1990?", found, 0.2, encoder)
    assert "kessler" in refusal_reason("Did Anna Kessler open the bridge?", found, 0.2, encoder)


def test_gate_keeps_a_lower_case_question_answerable(encoder) -> None:
    found = Retrieval((_passage(),), (), 0.8)
    assert refusal_reason("who opened the varnholm bridge", found, 0.2, encoder) == ""


def test_condenser_keeps_a_person_no_list_knows() -> None:
    history = [
        ChatMessage("user", "Who opened the Varnholm bridge?"),
        ChatMessage("assistant", "It was opened by the engineer Ilse Marquardt [1]."),
    ]
    assert "Ilse Marquardt" in condense_rules("When was she born?", history)
    assert "Varnholm" in condense_rules("why?", history)


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("The Varnholm bridge was opened in 1987 by Ilse Marquardt.", True),
        ("10,000 vehicles cross it every day.", True),
        ("The Varnholm bridge was opened in 1978 by Ilse Marquardt.", False),
        ("The Varnholm bridge was opened in 1987 by Anna Kessler.", False),
        ("The Varnholm bridge was not opened in 1987.", False),
        ("It is the longest timber bridge in northern Europe.", False),
        ("All of its beams were replaced in 2015.", False),
    ],
)
def test_judge_reads_numbers_names_negation_and_hedges(
    encoder, claim: str, supported: bool
) -> None:
    verdict = OfflineJudge(encoder).judge(claim, [PASSAGE])
    assert verdict.supported is supported, verdict.reason


def test_a_claim_restating_the_question_is_judged_on_what_it_adds(encoder) -> None:
    judge = OfflineJudge(encoder)
    claim = "Since the bridge opened in 1987, salt water rotted some beams."
    other = _passage("The city council met in 1987 to discuss the Varnholm bridge.", 2)
    question = "Since 1987, what has happened to the beams?"
    with_premise = judge.judge(claim, [PASSAGE], [other.text], question)
    assert with_premise.supported, with_premise.reason


def test_the_count_asked_for_leads_over_other_numbers():
    """ "How many provinces" is answered by the sentence with the provinces, not the one
    with the area; a question naming a year prefers the sentence with that year."""
    asked = analyse("How many provinces is Veldoria divided into?")
    assert asked.kind == "number" and asked.counted == "province"
    area = language.parse("With an area of 2,381,741 km2, Veldoria is the largest in the region.")
    provinces = language.parse("The country is a republic of 48 provinces and 1,541 communes.")
    assert holds(asked, area) and holds(asked, provinces)
    assert fit(asked, provinces) > fit(asked, area)

    census = analyse("How many people lived in Veldoria according to its 2010 head count?")
    kingdom = language.parse("Veldoria is one of the four countries that form the union.")
    counted = language.parse("It has 102,484 inhabitants at the 2010 census.")
    assert fit(census, counted) > fit(census, kingdom)


def test_the_sentence_stating_the_asked_relation_leads():
    """ "Who led ..." is answered by the sentence that says who led it, not by one that
    only names people; "how long" by the one that gives the length; "how many stores" by
    the sentence about the asked-for company's stores, not another article's."""
    led = analyse("Who led the survey of the new lichen?")
    assert led.kind == "person" and led.verb == "lead"
    leader = language.parse("Botanist Ines Walcott, who led the survey, said the samples were dry.")
    crowd = language.parse("Researchers at Norbury College said the lichen was rare.")
    passive = language.parse("The survey was led in 2019, during the Hale administration.")
    assert fit(led, leader) > fit(led, crowd)
    assert fit(led, leader) > fit(led, passive)

    long = analyse("How long is the lichen found on Carrow Hill?")
    assert long.measure == "long"
    length = language.parse("The lichen is 4.1 centimetres long and pale green.")
    distance = language.parse("It grows about 300 metres from the summit.")
    assert fit(long, length) > fit(long, distance)

    stores = analyse("How many stores does Pellam Foods now have?")
    own = language.parse("The company opened two stores, bringing its total to 61.")
    other = language.parse("Grocery stores donated about 40 percent of the food.")
    assert fit(stores, own, "Pellam Foods Sales Rise") > fit(stores, other, "Food Bank Record")


def test_the_name_of_something_asks_for_a_name_not_the_word_name():
    """ "What is the name of the research boat ...?" is answered by "The boat, Sea Lark,
    ..." although that sentence never says "name"; a sentence without any new name
    does not hold it."""
    asked = analyse("What is the name of the research boat sampling the reef off Port Ardle?")
    assert asked.kind == "name" and asked.category == "boat"
    named = language.parse("The boat, Sea Lark, will spend six weeks on the reef.")
    unnamed = language.parse("The boat will spend six weeks on the reef off Port Ardle.")
    assert holds(asked, named) and not holds(asked, unnamed)
    assert fit(asked, named)[0] == 1  # it names the boat: it may lead from further down


def test_the_noun_which_picks_is_asked_for_not_given():
    """ "Which Dutchman ..." asks for a person: "Dutchman" need not stand in a passage,
    while a name the question gives ("Leiden") still must."""
    asked = analyse("Which Dutchman, trained in Leiden, first described the cell?")
    texts = {n.text for n in asked.names}
    assert "dutchman" not in texts and "leiden" in texts


def test_a_count_is_not_answered_by_a_year_and_a_year_not_by_a_distance():
    """ "How many pupils ..." is not answered by the year a school opened, nor "In what
    year ..." by a distance; a count of the asked-for unit ("by how many minutes") and a
    bare year still are."""
    pupils = analyse("How many pupils attend the Marlow Ridge School?")
    opened = language.parse("In 1998, the trust opened the Marlow Ridge School, a K-8 school.")
    counted = language.parse("The Marlow Ridge School has 640 pupils.")
    assert not holds(pupils, opened) and holds(pupils, counted)

    founded = analyse("In what year was Dunmere founded?")
    far = language.parse("About 310 km north of the coast lies Dunmere, a market town.")
    year = language.parse("Settlers founded Dunmere in 1842 beside the river.")
    assert not holds(founded, far) and holds(founded, year)

    late = analyse("By how many minutes was the ferry late on Sunday?")
    assert holds(late, language.parse("The ferry docked 25 minutes late."))


def test_an_answer_must_come_from_a_passage_about_what_the_question_names(encoder):
    """A founding date of another town does not answer "When was Dunmere founded?": the
    passage must name Dunmere (or its article be titled so); a question naming nothing
    is not held to it."""
    asked = analyse("In what year was Dunmere founded?")
    assert not about(asked, "Settlers founded Kilbraith in 1842 beside the river.", "Kilbraith")
    assert about(asked, "It was founded in 1842 beside the river.", "Dunmere")
    assert about(asked, "Dunmere lies on the river. Settlers founded it in 1842.", "Towns")
    assert about(analyse("When was the bridge opened?"), "It opened in 1990.", "")

    def article(n: int, title: str, text: str) -> Passage:
        return Passage(n, f"c{n}", f"a{n}", title, "", "", "", text, 0, len(text), 1, 0.8)

    question = "In what year was Dunmere founded?"
    dunmere = article(1, "Dunmere", "Dunmere is a market town on the coast, with a harbour.")
    kilbraith = article(2, "Kilbraith", "Settlers founded Kilbraith in 1842 beside the river.")
    found = Retrieval((dunmere, kilbraith), (), 0.8)
    assert "date" in refusal_reason(question, found, 0.2, encoder)
    told = article(1, "Dunmere", "Dunmere is a market town. Settlers founded it in 1851.")
    assert refusal_reason(question, Retrieval((told, kilbraith), (), 0.8), 0.2, encoder) == ""
