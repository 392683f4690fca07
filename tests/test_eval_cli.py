"""`qa eval` end to end: the real console script on the seed set with the extractive
backend, a fresh temp index built from seeds/, report files, JSON totals and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .conftest import BIN, ROOT, SEEDS

SEED_SET = ROOT / "eval" / "seeds.jsonl"


class Tables(HTMLParser):
    """Collects the text of every table cell, so the test reads what a reader sees."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "br" and self._in_cell:
            self.cells[-1] += " "
        if tag == "td":
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


def qa(*args: str, cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "qa"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=timeout,
    )


def small_seed_set(folder: Path) -> tuple[Path, list[str]]:
    """The first and last seed questions as a set of their own, and all the seed lines."""
    small = folder / "small.jsonl"
    lines = SEED_SET.read_text("utf-8").splitlines()
    small.write_text("\n".join([lines[0], lines[-1]]) + "\n", "utf-8")
    return small, lines


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """One full run on a fresh index: the index is empty, so seeds/ is ingested first."""
    work = tmp_path_factory.mktemp("eval-cli")
    proc = qa(
        "eval",
        str(SEED_SET),
        "--index",
        str(work / "index"),
        "--report",
        str(work / "out"),
        "--json",
        "--min-correctness",
        "0.85",
        "--min-citation-recall",
        "0.9",
        cwd=work,
    )
    return proc, work / "out"


@pytest.mark.slow
def test_eval_on_the_seeds_writes_the_report_and_json_totals(seed_run):
    proc, out = seed_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout)
    totals = results["backends"]["extractive"]["totals"]
    assert totals["questions"] == len(SEED_SET.read_text("utf-8").splitlines())
    for key in (
        "correctness",
        "hit@k",
        "mrr",
        "citation_recall",
        "citation_precision",
        "faithfulness",
        "refusal_precision",
        "refusal_recall",
        "total_p95",
    ):
        assert totals[key] is not None, key
    assert totals["correctness"] >= 0.85 and totals["hit@k"] >= 0.9
    # by default the citation scores come from the bundled model as a yes/no judge, not from
    # the checker's own rules; both judges are scored on the labelled pairs
    assert results["judge"].startswith("llm:llamacpp")
    assert [j["name"] for j in results["judges"]] == ["offline", results["judge"]]
    assert all(j["n"] >= 60 for j in results["judges"])
    assert {p.name for p in out.iterdir()} == {"summary.md", "report.html", "results.json"}
    assert "eval extractive" in proc.stderr  # the progress lines


@pytest.mark.slow
def test_eval_report_page_holds_the_per_question_table(seed_run):
    _, out = seed_run
    page = (out / "report.html").read_text("utf-8")
    parser = Tables()
    parser.feed(page)
    ids = {cell.split()[0] for cell in parser.cells if cell.split()}
    assert {"single-01", "both-01", "follow-01", "none-01"} <= ids
    assert any("Li Shangfu" in cell for cell in parser.cells)
    assert page.count("data:image/png;base64,") == 2
    summary = (out / "summary.md").read_text("utf-8")
    assert "| citation recall |" in summary and "| single-01 |" in summary


@pytest.mark.slow
def test_a_missed_threshold_exits_1_with_one_line_naming_it(tmp_path):
    small, _ = small_seed_set(tmp_path)
    proc = qa(
        "eval",
        str(small),
        "--index",
        str(tmp_path / "index"),
        "--corpus",
        str(SEEDS),
        "--quiet",
        "--min-correctness",
        "1.01",
        "--min-refusal-recall",
        "0",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    message = [line for line in proc.stderr.splitlines() if "threshold" in line]
    assert message == [message[0]] and "extractive correctness 1.000 < 1.01" in message[0]
    assert "refusal_recall" not in message[0]


def test_a_missing_eval_set_exits_2_with_one_line(tmp_path):
    proc = qa("eval", "nope.jsonl", "--index", str(tmp_path / "index"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "nope.jsonl does not exist" in proc.stderr
    assert not (tmp_path / "index").exists()


def test_a_bad_jsonl_line_exits_2_naming_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q?", "answers": []}\n{"id": \n', "utf-8")
    proc = qa("eval", str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "bad.jsonl:2: invalid JSON" in proc.stderr and "Traceback" not in proc.stderr


def test_an_empty_index_without_a_corpus_says_how_to_fix_it(tmp_path):
    other = tmp_path / "mine.jsonl"
    other.write_text('{"id": "a", "question": "Who?", "answers": ["x"], "articles": ["zz"]}\n')
    proc = qa("eval", str(other), "--index", str(tmp_path / "index"), "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    assert "is empty" in proc.stderr and "--corpus" in proc.stderr


@pytest.mark.slow
def test_the_peer_citation_engine_runs_in_the_same_eval(tmp_path):
    """`--llm citation-engine` (a plain llama-index CitationQueryEngine, here on the tiny
    GGUF) is scored beside ours on the same index: its passages are seed articles."""
    small, lines = small_seed_set(tmp_path)
    proc = qa(
        "eval",
        str(small),
        "--llm",
        "extractive",
        "--llm",
        "citation-engine",
        "--llm-model",
        "tiny",
        "--corpus",
        str(SEEDS),
        "--index",
        str(tmp_path / "index"),
        "--json",
        "--quiet",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    backends = json.loads(proc.stdout)["backends"]
    assert set(backends) == {"extractive", "citation-engine"}
    peer = backends["citation-engine"]["questions"]
    assert len(peer) == 2 and all(q["error"] == "" for q in peer)
    seed_ids = {json.loads(line)["articles"][0] for line in lines if json.loads(line)["articles"]}
    cited = {p["article_id"] for q in peer for p in q["passages"]}
    assert cited and cited <= seed_ids
    assert all(q["model"] == "citation-engine" for q in peer)
