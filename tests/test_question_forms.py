"""Questions as people type them: quoted terms, lower case, all capitals, no question mark,
a one-word follow-up, and questions in another language (a clear refusal, never an answer
built from the names it shares with the articles). Real seed index, extractive backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.text.languages import question_language

ROOT = Path(__file__).resolve().parent.parent

DISMISSED = [
    "Which Chinese defence minister did Beijing dismiss a few weeks ago?",
    'Which defence minister did Beijing dismiss "a few weeks ago"?',
    "which chinese defence minister did beijing dismiss a few weeks ago",
    "WHICH CHINESE DEFENCE MINISTER DID BEIJING DISMISS A FEW WEEKS AGO?",
    "Which Chinese defence minister did Beijing dismiss a few weeks ago",
]


@pytest.mark.parametrize("question", DISMISSED)
def test_every_form_of_a_question_gets_the_same_cited_answer(extractive, question):
    a = extractive.answer(question)
    assert not a.refused, (question, a.refusal_reason)
    assert "Li Shangfu" in a.text
    assert a.citations and all(s.supported for s in a.sentences)


def test_lower_case_names_without_question_mark(extractive):
    a = extractive.answer("where is xi jinping planning a possible meeting with joe biden")
    assert not a.refused
    assert "San Francisco" in a.text


def test_one_word_follow_up_keeps_the_conversation(extractive):
    history = [
        {"role": "user", "content": "Who is Zhang Youxia?"},
        {
            "role": "assistant",
            "content": "Zhang is deputy chairman of China's Central Military Commission [1].",
        },
    ]
    a = extractive.answer("why?", history=history)
    assert "Zhang Youxia" in a.standalone_query  # what was searched for is shown to the user
    assert a.refused or (a.citations and "Zhang" in a.text), a.text


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("¿Quién es Zhang Youxia?", "Spanish"),
        ("Wer ist Zhang Youxia und was sagte Putin?", "German"),
        ("Qui est Zhang Youxia et que fait-il à Moscou ?", "French"),
        ("Che cosa ha detto Putin sulla Cina?", "Italian"),
        ("张又侠是谁？", "CJK"),
    ],
)
def test_a_question_in_another_language_is_refused_saying_so(extractive, question, language):
    a = extractive.answer(question)
    assert a.refused
    assert language in a.text and "in English" in a.text, a.text
    assert a.citations == () and a.sentences == ()
    assert "not English" in a.refusal_reason


def test_cli_prints_the_language_refusal_in_one_line(run_qa, seed_settings):
    out = run_qa(
        "ask", "¿Quién es Zhang Youxia?", "--index", str(seed_settings.store.index), "--json"
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["refused"] is True
    assert "Spanish" in answer["text"]
    assert "Traceback" not in out.stderr


def test_no_english_question_of_any_set_is_taken_for_another_language():
    """Every question written for the evaluation sets (1,400+) is English: none is refused
    for its language, names such as "La Cocina de Elena" included."""
    questions = []
    for path in sorted((ROOT / "eval").rglob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            if isinstance(record, dict) and isinstance(record.get("question"), str):
                questions.append(record["question"])
    assert len(questions) > 1000
    taken = [(q, question_language(q)) for q in questions if question_language(q)]
    assert taken == []
