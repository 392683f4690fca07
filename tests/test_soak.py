"""The bounded soak: concurrent chat sessions (`python -m qa.bench.soak`) against a real `qa chat`
on 127.0.0.1 over an index of seeds/: no errors, no crossed histories, flat memory, p95
latency reported; then a few questions through the local llama.cpp model (the tiny GGUF)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from qa.bench.figures import soak_block
from qa.bench.soak import CONVERSATIONS, Step, check_reply

from .conftest import SEEDS
from .ui_helpers import chat_server

SESSIONS = 8
QUESTIONS = 240  # about 100 s on 2 cores; the time limit stops it earlier on a slower machine
MAX_SECONDS = 170
RSS_MARGIN = 1.25  # end of the run vs. after warm-up: flat memory, with room for the allocator


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, encoder) -> Path:
    from qa.index.ingest import Ingestor
    from qa.settings import Settings

    root = tmp_path_factory.mktemp("soak")
    Ingestor(Settings.load(index=root / "index"), encoder).ingest([SEEDS], quiet=True)
    return root / "index"


def soak(url: str, *args: str, timeout: float = 600) -> tuple[int, dict, str]:
    """`python -m qa.bench.soak --json` as a user runs it; returns exit code, report, stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "qa.bench.soak", "--url", url, "--json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, report, proc.stderr


@pytest.mark.slow
@pytest.mark.server
def test_soak_with_the_extractive_backend_is_clean_and_memory_stays_flat(seed_index):
    with chat_server(seed_index, seed_index.parent / "server.log") as url:
        code, report, err = soak(
            url,
            *("--sessions", str(SESSIONS), "--questions", str(QUESTIONS)),
            *("--max-seconds", str(MAX_SECONDS), "--corpus", str(SEEDS)),
        )
    assert code == 0, err[-2000:] or report
    assert report["errors"] == 0 and report["crossed"] == 0, report["problems"]
    assert report["bad"] == 0, report["problems"]  # every fact checked, every refusal expected
    assert report["sessions"] == SESSIONS and report["questions"] > 0
    assert report["refusals"] > 0  # the scripted off-corpus questions were asked and refused
    assert report["listening"] == [f"127.0.0.1:{urlsplit(url).port}"]  # loopback only
    assert report["latency_p95"] > 0 and report["latency_p50"] > 0
    assert report["rss_warm_mb"] is not None, "too few questions to see memory after warm-up"
    assert report["rss_end_mb"] <= RSS_MARGIN * report["rss_warm_mb"], report
    # the published soak figures are written from this JSON, not typed (make figures-soak)
    block = "\n".join(soak_block(report))
    assert f"{report['questions']} of {QUESTIONS} questions" in block, block
    assert "**0 errors, 0 crossed histories, 0 wrong answers**" in block, block
    assert f"p95 {report['latency_p95']:.2f} s" in block and "--sessions" in block, block


@pytest.mark.slow
@pytest.mark.server
def test_a_few_questions_through_the_local_model_give_no_errors(seed_index, tmp_path):
    extra = ("--llm", "llamacpp", "--llm-model", "tiny")  # the last --llm wins
    with chat_server(seed_index, tmp_path / "server.log", *extra) as url:
        code, report, err = soak(
            url,
            *("--sessions", "2", "--questions", "4", "--timeout", "300"),
            "--no-facts",  # a 135M model answers loosely; only the plumbing is checked here
        )
    assert code == 0, err[-2000:] or report
    assert report["errors"] == 0 and report["crossed"] == 0, report["problems"]
    assert report["questions"] == 4 and report["latency_p95"] > 0


def test_soak_on_a_closed_port_is_a_one_line_error(tmp_path):
    from .conftest import free_port

    code, report, err = soak(f"http://127.0.0.1:{free_port()}/", "--questions", "1")
    assert code == 2 and report == {}
    assert err.startswith("qa.bench.soak: error: cannot reach `qa chat` at http://127.0.0.1:")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --- the reply check, on pages built by hand -------------------------------------------------


def page_reply(question: str, answer_html: str) -> list[dict]:
    return [
        {"role": "user", "content": f'<div class="qa-question">{question}</div>'},
        {"role": "assistant", "content": answer_html},
    ]


ZHANG = CONVERSATIONS[0]
CARD = '<article class="qa-card" id="cite-1"><mark>Zhang Youxia is a general</mark></article>'


def test_a_reply_from_another_sessions_history_is_a_crossed_history():
    mine, theirs = ZHANG[0].question, "What did Shoigu say about military blocs?"
    chat = page_reply(theirs, '<div class="qa-answer">Blocs [1].</div>')
    (problem,) = check_reply(ZHANG[0], [mine], chat, CARD, (), facts=False)
    assert problem.kind == "crossed"


def test_a_follow_up_rewritten_with_another_topic_is_a_crossed_history():
    step = ZHANG[1]  # "What position does he hold?" must be searched as Zhang's
    html = (
        '<div class="qa-answer">He is a general <a href="#cite-1">[1]</a>.</div>'
        '<div class="qa-standalone">Searched for: What position does Shoigu hold?</div>'
    )
    chat = page_reply(ZHANG[0].question, "x") + page_reply(step.question, html)
    problems = check_reply(step, [ZHANG[0].question, step.question], chat, CARD, (), False)
    assert [p.kind for p in problems] == ["crossed"]


def test_a_clean_cited_reply_passes_and_an_error_reply_is_an_error():
    step = Step("Who is Zhang Youxia?", expect=("Zhang",))
    html = '<div class="qa-answer">Zhang Youxia is a general <a href="#cite-1">[1]</a>.</div>'
    corpus = ("Zhang Youxia is a general of the army.",)
    asked = [step.question]
    assert check_reply(step, asked, page_reply(step.question, html), CARD, corpus, True) == []
    error = '<div class="qa-error" role="alert">Could not answer: backend down</div>'
    (problem,) = check_reply(step, asked, page_reply(step.question, error), "", (), True)
    assert problem.kind == "error"
