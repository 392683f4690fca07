"""The cross-encoder judge: trained small by scripts/train_judge.py, loaded, asked.

The texts below are written for this test; none comes from an evaluation set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import ModelIntegrityError
from qa.grounding.judge import Verdict
from qa.grounding.judge_ce import MANIFEST, WEIGHTS, CrossEncoderJudge
from qa.models import sha256_file

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "train_judge.py"
# A few articles, two kinds, a high learning rate: about two minutes on two cores, and
# enough to learn that a number must stand in the evidence.
TRAIN_ARGS = [
    *("--pairs", "480", "--articles", "16", "--kinds", "verbatim,number"),
    *("--epochs", "3", "--lr", "3e-4"),
]

EVIDENCE = (
    "The Harwick footbridge was opened in 1932 by the town council. It is 240 metres long "
    "and crosses the river near the old mill. A flood damaged it in 1987."
)
CASES = [
    (
        "The Harwick footbridge was opened in 1932 by the town council.",
        "The Harwick footbridge was opened in 1938 by the town council.",
    ),
    (
        "It is 240 metres long and crosses the river near the old mill.",
        "It is 410 metres long and crosses the river near the old mill.",
    ),
    ("A flood damaged it in 1987.", "A flood damaged it in 1958."),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small judge trained into a temporary folder."""
    out = tmp_path_factory.mktemp("judge-ce") / "model"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), *TRAIN_ARGS],
        env={**os.environ, "QA_CACHE_DIR": str(out.parent / "cache")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "validation" in run.stdout
    return out


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))  # verified.json goes here


def test_manifest_records_the_run(trained: Path) -> None:
    manifest = json.loads((trained / MANIFEST).read_text())
    assert manifest["weights_sha256"] == sha256_file(trained / WEIGHTS)
    assert manifest["command"].endswith(" ".join(TRAIN_ARGS))
    assert manifest["sources"]["wiki_pages_excluded"] == 38
    assert manifest["sources"]["news_posts_excluded"] == 21
    assert manifest["validation"]["n"] > 0
    assert set(manifest["validation"]["kinds"]) <= {"verbatim", "number"}


def test_judge_returns_verdicts(trained: Path) -> None:
    judge = CrossEncoderJudge(trained)
    assert judge.name == "cross-encoder"
    verdict = judge.judge(f"{CASES[0][0]} [1]", [EVIDENCE])
    assert isinstance(verdict, Verdict)
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.supported == (verdict.score >= judge.threshold)
    assert verdict.best_span and verdict.best_span in EVIDENCE
    assert judge.judge("", [EVIDENCE]) == Verdict(False, 0.0, "nothing cited")
    assert judge.judge("Anything.", ["  "]).supported is False


def test_verbatim_scores_above_a_changed_number(trained: Path) -> None:
    judge = CrossEncoderJudge(trained)
    for verbatim, changed in CASES:
        right = judge.judge(verbatim, [EVIDENCE]).score
        wrong = judge.judge(changed, [EVIDENCE]).score
        assert right > wrong, (verbatim, right, changed, wrong)


def test_missing_weights_name_the_training_script(tmp_path: Path) -> None:
    judge = CrossEncoderJudge(tmp_path / "nowhere")
    with pytest.raises(ModelIntegrityError, match=r"scripts/train_judge\.py"):
        judge.judge("The bridge opened in 1932.", [EVIDENCE])


def test_altered_weights_are_refused(trained: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["weights_sha256"] = "0" * 64
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        CrossEncoderJudge(copy).judge("The bridge opened in 1932.", [EVIDENCE])
