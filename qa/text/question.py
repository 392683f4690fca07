"""What a question asks for, read from its parse, and whether a sentence holds it.

"Who ..." asks for a person, "when" / "what year" for a date, "how many people" for a
count of people, "where" for a place, "why" for a reason, "what is the population of ..."
for a population. A passage sentence holds the answer when it carries something of that
kind that the question does not already say (a person other than the one asked about, a
number other than the ones in the question) and, when the question names the thing it
asks for ("population", "budget", "people"), that thing too. The refusal gate and the
extractive answer both read this; it uses the grammar of English questions (question
words, time units), never the vocabulary of a corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qa.text import language
from qa.text.language import Name

# The grammar of asking: question words, and the nouns that make "what ..." a date.
_TIME_NOUNS = frozenset(
    {"year", "date", "day", "month", "century", "decade", "time", "era", "period", "age"}
)
_CAUSAL = frozenset({"because", "since", "as", "so", "therefore", "thus", "hence"})
_CAUSAL_NOUNS = frozenset({"reason", "cause", "result", "due", "owing", "order", "purpose"})
# Labels of the entities that answer each kind of question.
_ANSWERS = {
    "person": frozenset({"PERSON", "ORG"}),  # an ORG of one word is too often a tag error
    "date": frozenset({"DATE", "TIME", "EVENT"}),
    "number": language.NUMBER_LABELS | {"DATE", "TIME"},
    "amount": frozenset({"MONEY", "QUANTITY", "PERCENT"}),
    "place": frozenset({"GPE", "LOC", "FAC", "ORG"}),
}
_NOT_BARE = (
    frozenset({"QUANTITY", "MONEY", "PERCENT"}) | language.TIME_LABELS | language.NAME_LABELS
)
_NOT_NAMES = language.NUMBER_LABELS | language.TIME_LABELS
_FOLLOW_UP = re.compile(r"\s*\(following up on:.*\)\s*$", re.DOTALL)


@dataclass(frozen=True)
class Asked:
    """The reading of one question."""

    kind: str  # person, date, number, amount, place, reason, name, thing
    head: str = ""  # lemma of the attribute asked about ("population" of a city), or ""
    names: tuple[Name, ...] = ()
    numbers: frozenset[str] = field(default_factory=frozenset)
    terms: frozenset[str] = field(default_factory=frozenset)  # content lemmas of the question
    counted: str = ""  # lemma of what "how many ..." counts ("province"), or ""
    measure: str = ""  # the adjective of "how long / tall / old ...", or ""
    verb: str = ""  # lemma of the question's main verb ("lead" in "Who led ..."), or ""
    category: str = ""  # what the asked-for name names ("ship" in "the name of the ship")


def own_question(query: str) -> str:
    """The question itself, without the context a condensed follow-up carries along."""
    return _FOLLOW_UP.sub("", query).strip() or query.strip()


def analyse(question: str) -> Asked:
    doc = language.parse(own_question(question))
    kind, head, measure = _kind(doc)
    # "Which Frenchman ..." asks for one: the noun "which" picks is a category of the
    # answer, not a name the passages must give.
    wh = next((t for t in doc if t.tag_ == "WDT" and t.dep_ == "det"), None)
    asked_as = language.normal(wh.head.text) if wh is not None else ""
    terms = frozenset(language.lemmas(doc) - {head} - _TIME_NOUNS)
    return Asked(
        kind=kind,
        head=head,
        names=tuple(n for n in language.names(doc, skip_first=True) if n.text != asked_as),
        numbers=frozenset(language.numbers(doc.text)),
        terms=terms,
        counted=_counted(doc) if kind == "number" else "",
        measure=measure,
        verb=_verb(doc),
        category=_category(doc) if kind == "name" else "",
    )


def _category(doc: Any) -> str:
    """The noun whose name is asked for: "ship" in "What is the name of the survey ship?"
    (the last noun of the first run of nouns after "name of"; read from the tags, since
    the parse often hangs that run on a following verb)."""
    for token in doc[:-2]:
        if token.lemma_.lower() == "name" and doc[token.i + 1].lower_ == "of":
            run: list[Any] = []
            for word in doc[token.i + 2 :]:
                if word.pos_ in {"NOUN", "PROPN"}:
                    run.append(word)
                elif run or word.pos_ not in {"DET", "ADJ", "NUM"}:
                    break
            return str(run[-1].lemma_.lower()) if run else ""
    return ""


def _verb(doc: Any) -> str:
    """The lemma of the verb the question is built on, unless it is only an auxiliary
    ("be", "do", "have")."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ != "VERB" or root.lemma_.lower() in {"be", "do", "have"}:
        return ""
    return str(root.lemma_.lower())


def _counted(doc: Any) -> str:
    """The noun "how many" qualifies ("provinces" in "How many provinces ..."), or ""."""
    for token in doc:
        if token.lower_ == "many" and token.dep_ == "amod" and token.head.pos_ == "NOUN":
            return str(token.head.lemma_.lower())
    return ""


def fit(asked: Asked, sentence: Any, title: str = "") -> tuple[int, int, int]:
    """How closely a sentence that holds the slot matches the question, in this order:
    - how much of the asked-for relation it states: what "how many" counts, the
      attribute asked about ("cost"), the adjective "how long" asks about, the question's
      own verb ("Who led ..." against "X, who led ..."), a named person for "who";
    - how many of the question's own numbers (a year, an edition) it states;
    - how many of the names the question asks about it (or its article's title) carries.
    Among sentences that all hold the slot, the one about the asked-for relation wins."""
    lemmas = {t.lemma_.lower() for t in sentence}
    about = language.normal(sentence.text) + " " + language.normal(title)
    named = sum(n.text in about for n in asked.names)
    matched = sum(
        bool(word) and word in lemmas
        for word in (asked.counted, asked.head, asked.measure, asked.category)
    )
    if asked.kind == "person":
        # "who" + verb: the sentence names who did it ("X, who led ...", "written by X").
        verbs = [t for t in sentence if t.lemma_.lower() == asked.verb and t.pos_ == "VERB"]
        matched += any(_doer_named(v) for v in verbs)
        matched += any(e.label_ == "PERSON" for e in sentence.ents)
    elif asked.verb:
        matched += asked.verb in lemmas
    shared = len(asked.numbers & language.numbers(sentence.text))
    return (matched, shared, named)


def about(asked: Asked, passage: str, title: str = "") -> bool:
    """Is the passage a sentence stands in (or its article) about what the question names?
    When the question names anything but a group ("Calgary", "Apollo 8"), a word of one of
    those names must stand in the passage or the article's title: a date of another
    city's founding does not answer "In what year was Calgary founded?"."""
    words = {
        w
        for n in asked.names
        if n.label != "NORP"
        for w in re.findall(r"[^\W_]+", n.text)
        if len(w) >= 3 and not w.isdigit()
    }
    if not words:
        return True
    text = f"{passage} {title}".lower().replace("’", "'")
    return any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)


def _doer_named(verb: Any) -> bool:
    """Is the one who does `verb` a name: its subject, its "by" agent, or the name a
    relative clause hangs on ("Peter Oyelaran, who led the study")?"""
    doers = [c for c in verb.children if c.dep_ in {"nsubj", "csubj"}]
    doers += [g for c in verb.children if c.dep_ == "agent" for g in c.children]
    if verb.dep_ in {"relcl", "acl"}:
        doers.append(verb.head)
    return any(d.ent_type_ in {"PERSON", "ORG", "NORP"} for d in doers)


def _kind(doc: Any) -> tuple[str, str, str]:
    """(kind, head noun, measure): what the question asks for, the attribute it names
    ("population" in "What is the population of ..."), and the adjective "how" asks the
    degree of ("long" in "How long is ...")."""
    wh = next((t for t in doc if t.tag_ in {"WP", "WP$", "WRB", "WDT"}), None)
    if wh is None:
        return "thing", _subject_noun(doc), ""
    word = wh.lower_
    if word in {"who", "whom", "whose"}:
        return "person", "", ""
    if word == "when":
        return "date", "", ""
    if word == "where":
        return "place", "", ""
    if word == "why":
        return "reason", "", ""
    if word == "how":
        after = doc[wh.i + 1] if wh.i + 1 < len(doc) else None
        if after is not None and after.lower_ == "much":
            return "amount", "", ""
        if after is not None and after.lower_ == "many":
            return "number", "", ""
        if after is not None and after.pos_ in {"ADJ", "ADV"}:
            return "number", "", str(after.lemma_.lower())
        return "thing", "", ""
    # what / which + noun names a category ("which film", "what year"): the answer is an
    # instance of it and need not repeat it. "What is the population of ..." asks for an
    # attribute, which the answering sentence names.
    noun = wh.head if wh.dep_ == "det" and wh.head.pos_ == "NOUN" else None
    if noun is None:
        after = doc[wh.i + 1] if wh.i + 1 < len(doc) else None
        if after is not None and after.pos_ == "NOUN":
            noun = after
    if noun is not None:
        return ("date" if noun.lemma_.lower() in _TIME_NOUNS else "thing"), "", ""
    if word == "which":
        return "thing", "", ""
    attribute = _subject_noun(doc, skip=wh)
    if attribute in _TIME_NOUNS:
        return "date", "", ""
    if attribute == "name":  # "What is the name of the ship?" asks for a name, not "name"
        return "name", "", ""
    return "thing", attribute, ""


def _subject_noun(doc: Any, skip: Any = None) -> str:
    """The first common noun that the root verb is about ("the population" in "What is the
    population of Aruba?"), or ""."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None:
        return ""
    for child in root.children:
        if child is skip:
            continue
        if child.dep_ in {"nsubj", "attr", "nsubjpass", "dobj"} and child.pos_ == "NOUN":
            return str(child.lemma_.lower())
    return ""


def holds(asked: Asked, sentence: Any) -> bool:
    """Does the parsed sentence carry an answer of the asked kind that the question does
    not already give, and name the thing asked about when the question names one?"""
    lemmas = {t.lemma_.lower() for t in sentence}
    if asked.head and asked.head not in lemmas:
        return False
    if asked.kind == "reason":
        return _gives_reason(sentence)
    if asked.kind == "thing":
        return True
    given = {n.text for n in asked.names}
    if asked.kind == "name":  # a name the question does not already give
        found = language.names(sentence)
        return any(n.text not in given and n.label not in _NOT_NAMES for n in found)
    labels = _ANSWERS[asked.kind]
    for ent in sentence.ents:
        if ent.label_ not in labels and not _measured(asked, ent, sentence):
            continue
        counted = asked.counted
        if counted and ent.label_ in language.TIME_LABELS and ent.root.lemma_.lower() != counted:
            continue  # "how many pupils": a year is no count of them ("36 seconds" is, of seconds)
        if ent.label_ in language.NUMBER_LABELS | language.TIME_LABELS:
            stated = language.numbers(ent.text)
            if stated and stated <= asked.numbers:
                continue
            if not stated and asked.kind in {"number", "amount"}:
                continue
        elif language.normal(ent.text) in given or (
            asked.kind == "person" and ent.label_ == "ORG" and len(ent) < 2
        ):
            continue
        return True
    if asked.kind in {"date", "number"}:  # a bare number the tagger did not label
        stated = _unlabelled_numbers(sentence) - asked.numbers
        if asked.kind == "date":
            stated = {n for n in stated if re.fullmatch(r"\d{3,4}", n)}
        return bool(stated)
    return False


def _unlabelled_numbers(sentence: Any) -> set[str]:
    """Bare numbers of the sentence: outside its measures, dates, times and names ("290
    km" is a QUANTITY, not a year; "2001" a DATE, not a count; "K-12" a name), and not
    counting a noun ("400 soldiers" is no year)."""
    inside = {t.i for e in sentence.ents if e.label_ in _NOT_BARE for t in e}
    counting = {t.i for t in sentence if t.dep_ == "nummod" and t.head.pos_ == "NOUN"}
    outside = " ".join(t.text for t in sentence if t.i not in inside | counting)
    return language.numbers(outside)


def _measured(asked: Asked, ent: Any, sentence: Any) -> bool:
    """For "how much": a count followed by what it counts ("40 million euros"), which the
    small tagger often labels a bare CARDINAL, in a sentence about what was asked."""
    if asked.kind != "amount" or ent.label_ != "CARDINAL" or ent.end >= len(sentence):
        return False
    lemmas = {t.lemma_.lower() for t in sentence}
    return bool(sentence[ent.end].pos_ == "NOUN") and bool(asked.terms & lemmas)


def _gives_reason(sentence: Any) -> bool:
    for token in sentence:
        lower = token.lower_
        if lower in _CAUSAL and token.dep_ in {"mark", "advmod", "cc", "prep"}:
            return True
        if token.lemma_.lower() in _CAUSAL_NOUNS:
            return True
        if token.dep_ == "advcl" or (token.dep_ == "xcomp" and token.head.pos_ == "VERB"):
            return True
        if token.dep_ == "prep" and lower in {"for", "after", "from"}:
            return True
    return False
