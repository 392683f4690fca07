"""Grounding metrics against hand-computed cases (ALCE corner cases included), the shipped
evaluation sets, the judges' own accuracy, thresholds and the report's escaping."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser

import pytest

from qa.errors import InputError
from qa.evaluation import metrics as m
from qa.evaluation.dataset import load_eval_set, load_judge_set
from qa.evaluation.judges import CachedJudge, LLMJudge, parse_verdict, score_judge
from qa.evaluation.report import html, markdown
from qa.evaluation.suite import unmet_thresholds

from .conftest import ROOT, SEEDS
from .fakes import FakeChatModel

EVAL = ROOT / "eval"
ARTICLES = {p.stem: p.read_text("utf-8") for p in SEEDS.glob("*.txt")}
OFFLINE_JUDGE_FLOOR = 0.65  # measured 0.70-0.71 on eval/judge.jsonl (75 pairs)


def facts(sentence: str, passages: list[str]) -> bool:
    """A transparent support rule for ALCE cases: every word of the sentence is a fact that
    must stand in the cited passages together."""
    return set(sentence.split()) <= set(" ".join(passages).split())


# --- answer correctness -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("Beijing dismissed Li Shangfu a few weeks ago [1].", ["Li Shangfu"], True),
        ("It has a relationship with “no limits.”", ['"no limits"'], True),
        ("Trade would hit a record high of $200 billion.", ["200 billion"], True),
        ("He is the second-highest commander.", ["the second-highest commander"], True),
        ("Moscow’s ability", ["Moscow's ability"], True),
        ("They launched it in airspace.", ["space"], False),  # whole words only
        ("Shoigu met Zhang.", ["Lavrov", "Xi"], False),
        ("anything", [], False),
    ],
)
def test_answer_correct_normalises_case_quotes_punctuation_and_articles(text, answers, expected):
    assert m.answer_correct(text, answers) is expected


def test_normalise_drops_articles_and_punctuation():
    assert m.normalise("The U.S. Treasury, a ‘Department’!") == "us treasury department"


# --- retrieval ----------------------------------------------------------------------------


def test_gold_rank_counts_wire_copies_in_also_in():
    passages = [["x"], ["y", "gold"], ["gold"]]
    assert m.gold_rank(passages, ["gold"]) == 2
    assert m.gold_rank(passages, ["none"]) is None
    assert m.hit_at(2, 1) == 0.0 and m.hit_at(2, 5) == 1.0 and m.hit_at(None, 5) == 0.0
    assert m.reciprocal_rank(2) == 0.5 and m.reciprocal_rank(None) == 0.0
    assert m.gold_coverage(passages, ["gold", "other"]) == 0.5


# --- ALCE citation recall and precision ---------------------------------------------------


def test_single_citation_supported_is_recalled_and_precise():
    check = m.check_sentence("A", [1], {1: "A"}, facts)
    assert check.recalled and check.precise == (True,)


def test_single_citation_unsupported_is_neither():
    check = m.check_sentence("A", [1], {1: "B"}, facts)
    assert not check.recalled and check.precise == (False,)


def test_split_support_makes_both_citations_precise():
    # neither passage alone supports "A B", and neither can be removed: both are needed
    check = m.check_sentence("A B", [1, 2], {1: "A", 2: "B"}, facts)
    assert check.recalled and check.precise == (True, True)


def test_redundant_irrelevant_citation_is_imprecise():
    # [2] fails alone AND [1] still supports without it
    check = m.check_sentence("A", [1, 2], {1: "A", 2: "B"}, facts)
    assert check.recalled and check.precise == (True, False)


def test_two_citations_that_each_support_alone_are_both_precise():
    check = m.check_sentence("A", [1, 2], {1: "A", 2: "A C"}, facts)
    assert check.precise == (True, True)


def test_citations_of_an_unsupported_sentence_are_all_imprecise():
    check = m.check_sentence("A D", [1, 2], {1: "A", 2: "B"}, facts)
    assert not check.recalled and check.precise == (False, False)


def test_sentence_without_citation_or_with_a_dangling_one_is_not_recalled():
    assert not m.check_sentence("A", [], {1: "A"}, facts).recalled
    assert not m.check_sentence("A", [7], {1: "A"}, facts).recalled


def test_answer_scores_by_hand():
    passages = {1: "A", 2: "B", 3: "C"}
    scores = m.citation_scores(
        [("A", [1, 2]), ("A B", [1, 2]), ("C", []), ("D", [3])], passages, facts
    )
    assert scores is not None
    assert scores.recall == pytest.approx(2 / 4)  # sentences 1 and 2
    # citations: s1 [1] yes [2] no; s2 yes yes; s4 [3] no -> 3 of 5
    assert scores.precision == pytest.approx(3 / 5)
    assert m.citation_scores([], passages, facts) is None
    none_cited = m.citation_scores([("A", [])], passages, facts)
    assert none_cited is not None and none_cited.recall == 0.0 and none_cited.precision == 0.0


# --- faithfulness, refusals, latency, judge accuracy, RGB ---------------------------------


def test_faithfulness_refusals_percentiles_and_balanced_accuracy():
    assert m.faithfulness([True, False, True, True]) == 0.75
    assert m.faithfulness([]) is None
    r = m.refusal_scores([True, True, False, False], [True, False, True, False])
    assert (r.precision, r.recall, r.refused, r.unanswerable) == (0.5, 0.5, 2, 2)
    assert m.refusal_scores([False], [False]).precision is None
    assert m.percentile([1.0, 2.0, 3.0], 50) == 2.0 and m.percentile([], 95) is None
    assert m.balanced_accuracy([True, True, True, False], [True] * 4) == 0.5
    assert m.balanced_accuracy([True, False], [True, False]) == 1.0
    assert m.mean([None, 1.0, 0.0]) == 0.5 and m.mean([None]) is None


@pytest.mark.parametrize(
    ("gold", "expected"),
    [
        ("Tampa, Florida", True),
        (["Tampa", "Raymond James"], False),  # every element of a list is required
        (["Tampa", "Florida"], True),
        ([["Tampa Bay", "Tampa, Florida"], "2021"], True),  # inner lists are alternatives
        ([["Glendale", "Phoenix"]], False),
    ],
)
def test_rgb_correct_follows_rgbs_rule(gold, expected):
    assert m.rgb_correct("The game was held in TAMPA, FLORIDA in 2021.", gold) is expected


def test_llm_verdicts_are_parsed_and_the_judge_asks_with_the_judge_prompt():
    assert parse_verdict(" Yes.").supported and not parse_verdict("No").supported
    assert not parse_verdict("Maybe").supported
    model = FakeChatModel("Yes")  # a real model cannot be made to answer yes on demand
    judge = CachedJudge(LLMJudge(model))
    assert judge.supports("Li Shangfu was dismissed [1].", ["Beijing dismissed Li Shangfu."])
    judge.supports("Li Shangfu was dismissed [1].", ["Beijing dismissed Li Shangfu."])
    assert len(model.requests) == 1  # cached
    request = model.requests[0]
    assert request.max_tokens == 4 and request.temperature == 0
    assert "Claim: Li Shangfu was dismissed." in request.messages[-1].content


# --- the shipped sets ---------------------------------------------------------------------


def test_seed_set_covers_every_kind_and_its_evidence_is_verbatim():
    items = load_eval_set(EVAL / "seeds.jsonl")
    kinds = [i.kind for i in items]
    assert len(items) >= 25
    assert kinds.count("single") >= 10 and kinds.count("both") >= 5
    assert kinds.count("follow-up") >= 4 and kinds.count("unanswerable") >= 6
    for item in items:
        assert set(item.articles) <= set(ARTICLES), item.id
        assert all(any(e in ARTICLES[a] for a in item.articles) for e in item.evidence), item.id
        gold_text = " ".join(ARTICLES[a] for a in item.articles)
        assert all(m.answer_correct(gold_text, [a]) for a in item.answers), item.id
        assert item.answerable == bool(item.articles)
        assert (item.kind == "follow-up") == bool(item.history)
        if item.kind == "both":
            assert len(item.articles) == 2


def test_judge_set_has_the_hard_kinds():
    pairs = load_judge_set(EVAL / "judge.jsonl")
    kinds = {p.kind for p in pairs}
    assert len(pairs) >= 60
    assert {"paraphrase", "wrong_number", "wrong_name", "negation", "split"} <= kinds
    assert all(len(p.passages) >= 2 for p in pairs if p.kind == "split")
    assert 0.35 <= sum(p.supported for p in pairs) / len(pairs) <= 0.65


@pytest.mark.slow
def test_offline_judge_balanced_accuracy_on_the_judge_set(encoder):
    from qa.grounding.judge import OfflineJudge

    score = score_judge(OfflineJudge(encoder), load_judge_set(EVAL / "judge.jsonl"))
    print(
        f"offline judge: balanced accuracy {score.balanced_accuracy:.3f} "
        f"(TPR {score.true_positive_rate:.3f}, TNR {score.true_negative_rate:.3f}) "
        f"by kind {score.by_kind}"
    )
    assert score.balanced_accuracy >= OFFLINE_JUDGE_FLOOR
    assert score.by_kind["wrong_number"] >= 0.7 and score.by_kind["wrong_name"] >= 0.7


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "question": "q?", "answers": []}\nnot json\n', ":2: invalid JSON"),
        ('{"id": "a", "question": "q?"}\n', "'answers' is missing"),
        ('{"id": "a", "question": "", "answers": []}\n', "'question' is missing or empty"),
        ('{"id": "a", "question": "q", "answers": [], "history": [{"role": "x"}]}\n', "history"),
        (
            '{"id": "a", "question": "q", "answers": []}\n'
            '{"id": "a", "question": "r", "answers": []}\n',
            "used twice",
        ),
        ("\n", "holds no questions"),
    ],
)
def test_bad_eval_sets_raise_one_line_input_errors(tmp_path, content, message):
    path = tmp_path / "set.jsonl"
    path.write_text(content, "utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_eval_set(path)
    assert "\n" not in str(info.value)


def test_missing_eval_set_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_eval_set(tmp_path / "nope.jsonl")


# --- thresholds and report ----------------------------------------------------------------


def _results(answer: str = "Li <b>Shangfu</b> & co [1].") -> dict:
    row = {
        "id": "q<1>",
        "kind": "single",
        "question": "Who <script>?",
        "history": [],
        "standalone_query": "Who?",
        "answers": ["Li"],
        "articles": ["a"],
        "answerable": True,
        "answer": answer,
        "refused": False,
        "model": "x",
        "fallback_reason": "",
        "correct": True,
        "rank": 1,
        "hit@1": 1.0,
        "hit@k": 1.0,
        "rr": 1.0,
        "coverage": 1.0,
        "citation_recall": 1.0,
        "citation_precision": 0.5,
        "faithfulness": 1.0,
        "first_token": 0.1,
        "total": 0.2,
        "error": "",
        "sentences": [
            {
                "text": "Li <b>",
                "citations": [1, 2],
                "checker_supported": True,
                "checker_reason": "overlap",
                "shown": True,
                "recalled": True,
                "precise": [True, False],
            }
        ],
        "citations": [{"n": 1, "article_id": "a", "source": "s", "quote": "<i>q</i>"}],
        "passages": [{"n": 1, "article_id": "a", "also_in": []}],
    }
    from qa.evaluation.runner import by_kind, totals

    return {
        "eval_set": "set.jsonl",
        "command": "qa eval set.jsonl",
        "judge": "offline",
        "questions": 1,
        "created": "now",
        "index": "i",
        "judges": [],
        "rgb": None,
        "backends": {
            "extractive": {
                "totals": totals([row], 5),
                "by_kind": by_kind([row]),
                "questions": [row],
            }
        },
    }


def test_thresholds_name_the_missed_figure():
    results = _results()
    assert unmet_thresholds(results, {"min_correctness": 0.9}) == []
    failures = unmet_thresholds(results, {"min_citation_precision": 0.8, "max_p95_latency": 0.1})
    assert failures == [
        "extractive citation_precision 0.500 < 0.8",
        "extractive total_p95 0.200 > 0.1",
    ]
    assert "not measured" in unmet_thresholds(results, {"min_refusal_recall": 0.5})[0]


def test_report_escapes_every_text_and_embeds_its_plots():
    page = html(_results())
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>Shangfu" not in page and "&lt;i&gt;q&lt;/i&gt;" in page
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page
    HTMLParser().feed(page)
    summary = markdown(_results("a | b"))
    assert "| citation precision | 0.500 |" in summary and "a \\| b" in summary
    json.dumps(_results())


class _YesJudge:
    """A judge that says "supported" to everything (what the floors must catch)."""

    name = "always-yes"

    def judge(self, sentence, evidence, context=(), question=""):
        from qa.grounding.judge import Verdict

        return Verdict(True, 1.0, "yes")


def test_eval_scores_the_raw_answer_and_the_checkers_removals(seed_settings, encoder):
    from qa.answer.assistant import Assistant
    from qa.evaluation.dataset import EvalItem
    from qa.evaluation.runner import score_answer, totals
    from qa.grounding.judge import OfflineJudge

    from .fakes import FakeChatModel

    text = (
        "Putin projected that Russian-Chinese trade would hit a record high of $200 billion "
        "this year [1]. Putin projected that trade would hit $900 billion [1]."
    )
    bot = Assistant(seed_settings, llm=FakeChatModel(text), encoder=encoder)
    answer = bot.answer("What did Putin project about trade?")
    item = EvalItem("t1", "What did Putin project about trade?", ("$900 billion",), ())
    row = score_answer(item, answer, CachedJudge(OfflineJudge(encoder)), 5)
    # the model's raw answer holds the (wrong) expected string; the checked one dropped it
    assert row["raw_correct"] is True and row["correct"] is False
    assert row["raw_faithfulness"] == 0.5 and row["faithfulness"] == 0.5
    assert row["checker_removed"] == 1 and row["checker_kept"] == 1
    assert row["checker_removed_supported"] == 0 and row["checker_kept_unsupported"] == 0
    # a judge that says yes to everything sees the removal as a mistake
    yes = score_answer(item, answer, CachedJudge(_YesJudge()), 5)
    assert yes["checker_removed_supported"] == 1 and yes["raw_faithfulness"] == 1.0
    summed = totals([row, yes], 5)
    assert summed["checker_removed"] == 2 and summed["raw_correctness"] == 1.0
    assert summed["correctness"] == 0.0
    page = markdown(
        {
            "eval_set": "t",
            "questions": 2,
            "command": "qa eval t",
            "created": "now",
            "judge": "offline",
            "backends": {"fake": {"totals": summed, "by_kind": {}, "questions": [row, yes]}},
        }
    )
    assert "Raw model answer vs shown (checked) answer" in page
    # 4 decisions, the yes-judge disagrees with one (the removal): agreement 3/4
    assert "| fake | 2 | 1 | 2 | 0 | 0.750 |" in page


def test_figures_rewrite_the_readme_block_from_results(tmp_path):
    from qa.bench.figures import main

    totals = {"correctness": 0.5, "raw_correctness": 0.75, "hit@k": 1.0, "mrr": 0.9}
    results = {
        "command": "qa eval eval/seeds.jsonl --llm extractive",
        "questions": 4,
        "judge": "offline",
        "created": "2026-12-03T10:00:00",
        "backends": {"extractive": {"totals": totals}},
        "judges": [{"name": "offline", "balanced_accuracy": 0.773}],
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results), "utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- figures:seeds -->\nold 0.958\n<!-- /figures:seeds -->\nend\n")
    assert main([str(path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old 0.958" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert "| answer correctness (shown) | 0.500 |" in text
    assert "| answer correctness (raw model answer) | 0.750 |" in text
    assert "| retrieval hit@k / MRR | 1.000 / 0.900 |" in text
    assert "`qa eval eval/seeds.jsonl --llm extractive`" in text and "offline 0.773" in text
    assert main([str(path), "--readme", str(tmp_path / "missing.md")]) == 2


def test_figures_add_the_rgb_row_and_write_the_detector_block(tmp_path):
    from qa.bench.figures import main

    results = {
        "command": "qa eval eval/seeds.jsonl --rgb en_fact.json",
        "questions": 4,
        "judge": "offline",
        "created": "2026-12-03T10:00:00",
        "backends": {"extractive": {"totals": {"correctness": 0.5}}},
        "rgb": {"questions": 100, "of": 100, "passages": 969,
                "backends": {"extractive": {"accuracy": 0.55}}},
    }  # fmt: skip
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results), "utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("<!-- figures:seeds -->\n<!-- /figures:seeds -->\n")
    assert main([str(path), "--readme", str(readme)]) == 0
    row = "| RGB noisy retrieval accuracy (100 questions, external) | 0.550 |"
    assert row in readme.read_text()

    split = {
        "attacks": {"detected": 29, "of": 44, "by_kind": {"encoded": "2/4", "order": "2/4"}},
        "hard_negatives": {"flagged": 0, "of": 30},
        "ordinary": {"flagged": 2, "of": 1571, "rate": 0.0013},
    }
    detector = {"command": "python eval/hostile/detector.py --split both", "commit": "abc1234",
                "created": "2026-12-07T06:00:00+00:00", "splits": {"test": split}}  # fmt: skip
    path.write_text(json.dumps(detector), "utf-8")
    doc = tmp_path / "baseline.md"
    doc.write_text("a\n<!-- figures:detector -->\ntyped 0.66\n<!-- /figures:detector -->\n")
    assert main([str(path), "--into", str(doc), "--block", "detector", "--style", "detector"]) == 0
    text = doc.read_text()
    assert "typed 0.66" not in text and "Commit abc1234, `python eval/hostile/detector.py" in text
    assert "| test | 29/44 (0.66) | 0/30 | 2/1,571 (0.13%) |" in text
    assert "Test detection by style: encoded 2/4, order 2/4." in text


def test_figures_write_a_bench_block_into_benchmarks_md(tmp_path):
    from qa.bench.figures import main

    fair = {
        "method": "cold on both sides",
        "ours": {"questions": 3, "answered": 2, "refused": 1, "correct": 3,
                 "answerable_correct": 2, "answerable": 2, "unanswerable_refused": 1,
                 "unanswerable": 1, "answered_first_token_p50": 2.0, "answered_total_p50": 4.0},
        "citation_engine": {"questions": 3, "answered": 3, "refused": 0, "correct": 1,
                            "answerable_correct": 1, "answerable": 2, "unanswerable_refused": 0,
                            "unanswerable": 1, "answered_first_token_p50": 6.0,
                            "answered_total_p50": 9.0},
        "answered_first_token_ratio": 3.0,
    }  # fmt: skip
    results = {
        "command": "qa bench --section answer",
        "commit": "abc1234",
        "started": "2026-12-04 10:00:00",
        "machine": {"cpus": 2},
        "answer": {"questions": 3, "fair_vs_citation_engine": fair},
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results), "utf-8")
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# B\n<!-- figures:answers -->\ntyped 9.9 s\n<!-- /figures:answers -->\n")
    assert main([str(path), "--into", str(doc), "--block", "answers", "--style", "bench"]) == 0
    text = doc.read_text()
    assert "typed 9.9 s" not in text
    assert text.count("Commit abc1234, `qa bench --section answer`") == 1
    assert "| answered first token p50, CitationQueryEngine vs ours (fair, cold) | 3.0x" in text
    assert "| qa (llamacpp, in process) | 2/2 | 1/1 | 2.0 / 4.0 s | - / - s |" in text
    assert "Method: cold on both sides." in text
    assert "\n# " not in text.split("<!-- figures:answers -->")[1]  # headings demoted


def _ci_floors() -> dict[str, float]:
    """The floors `make eval-ci` gates the seeds set with, read from the Makefile."""
    from tests.conftest import ROOT

    text = (ROOT / "Makefile").read_text("utf-8")
    block = text.split("eval-ci: setup", 1)[1].split("rm -rf reports/hostile-index", 1)[0]
    found = re.findall(r"--(min-[a-z-]+) ([0-9.]+)", block)
    assert len(found) >= 8, block
    return {flag.replace("-", "_"): float(value) for flag, value in found}


class _TopPassage:
    """An answerer that copies the top passage's opening sentences, whatever is asked."""

    name = "copy-top-passage"
    can_stream = True
    is_generative = True

    def warm_up(self):
        pass

    def stream(self, request):
        from qa.text.sentences import split_sentences

        top = request.passages[0]
        yield " ".join(f"{s} [{top.n}]" for s in split_sentences(top.text)[:2])


@pytest.mark.slow
def test_ci_floors_fail_a_passage_copier_and_an_always_yes_judge(seed_settings, encoder):
    from qa.answer.assistant import Assistant
    from qa.evaluation.runner import run_backend, totals
    from qa.grounding.judge import OfflineJudge
    from tests.conftest import ROOT

    floors = _ci_floors()
    items = load_eval_set(ROOT / "eval" / "seeds.jsonl")
    copier = Assistant(seed_settings, llm=_TopPassage(), encoder=encoder)
    rows = run_backend(copier, items, CachedJudge(OfflineJudge(encoder)), "copier", quiet=True)
    results = {"backends": {"copier": {"totals": totals(rows, 5)}}, "judges": []}
    answer_floors = {k: v for k, v in floors.items() if k != "min_judge_accuracy"}
    missed = unmet_thresholds(results, answer_floors)
    assert any("correctness" in f for f in missed), missed
    yes = score_judge(_YesJudge(), load_judge_set(ROOT / "eval" / "judge.jsonl"))
    assert yes.balanced_accuracy == 0.5
    judged = {"backends": {}, "judges": [dataclasses.asdict(yes)]}
    assert unmet_thresholds(judged, {"min_judge_accuracy": floors["min_judge_accuracy"]})
