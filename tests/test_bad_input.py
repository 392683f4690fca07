"""Bad input through the real `qa` command: unusable questions, hostile control characters,
a corpus full of files that cannot be articles. One line, exit 2, or a skip with a reason."""

from __future__ import annotations

import json
import os

import pytest

from qa.errors import InputError
from qa.index.ingest import Ingestor
from qa.settings import Settings

from .conftest import SEEDS


def one_line_error(done) -> str:
    """The single stderr line of a failed command; fails on a traceback or a half answer."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert done.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("\x01\x02\x1b\x7f\x08 \x0b", "the question is empty"),
        ("why?" * 25_000, "100,000 characters long; the limit is 4,000"),
        # bytes a UTF-8 terminal cannot produce: Python hands them over surrogate-escaped
        (os.fsdecode(b"Who is \xff\xfe Zhang?"), "not valid UTF-8"),
    ],
    ids=["control-characters-only", "100k-characters", "invalid-utf8"],
)
def test_unusable_questions_are_one_line_errors(run_qa, seed_settings, question, expected):
    done = run_qa("ask", question, "--index", str(seed_settings.store.index))
    assert expected in one_line_error(done)


HOSTILE = (
    "The Kessel harbour board approved a new ferry terminal on Monday.\x1b]0;owned\x07 "
    "The terminal will cost 40 million euros, the board said.\x1b[2J\x1b[31m\r"
)


@pytest.mark.slow
def test_control_characters_never_reach_the_terminal(run_qa, tmp_path, encoder):
    """A question with control characters is answered; escape sequences in an article are
    printed as visible escapes, so an article cannot drive the user's terminal."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text(HOSTILE, "utf-8")
    settings = Settings.load(index=tmp_path / "idx")
    Ingestor(settings, encoder).ingest([corpus], quiet=True)
    done = run_qa(
        "ask",
        "How much will\x1b[8m the\x07 ferry terminal\r cost?",
        "--index",
        str(settings.store.index),
    )
    assert done.returncode == 0, done.stderr
    assert "40 million euros" in done.stdout and "[1]" in done.stdout
    assert "\\x1b" in done.stdout  # the escape is shown, not sent
    for raw in ("\x1b", "\x07", "\r"):
        assert raw not in done.stdout + done.stderr


@pytest.mark.slow
def test_a_corpus_of_bad_files_skips_each_with_a_reason(run_qa, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in SEEDS.iterdir():
        (corpus / seed.name).write_bytes(seed.read_bytes())
    with open(corpus / "huge.txt", "wb") as handle:  # 50 MB of real text
        block = b"The council met again to discuss the harbour budget. " * 20_000
        while handle.tell() < 50 * 2**20:
            handle.write(block)
    (corpus / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "menu.html").write_text(
        "<html><body><nav><a href='/'>Home</a></nav><script>x()</script></body></html>", "utf-8"
    )
    (corpus / "feed.jsonl").write_text(
        json.dumps({"id": "f1", "text": "The mayor opened the new bridge on Friday."})
        + "\n{broken\n"
        + json.dumps({"id": "f1", "text": "Another story under the same id."})
        + "\n",
        "utf-8",
    )
    (corpus / os.fsdecode(b"caf\xe9.txt")).write_text("A story in a Latin-1 file name.", "utf-8")

    done = run_qa("ingest", str(corpus), "--index", str(tmp_path / "idx"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["articles_added"] == 3  # the two seeds and f1
    reasons = {os.path.basename(s["path"]): s["reason"] for s in summary["skipped"]}
    assert "limit" in reasons["huge.txt"] and "QA_MAX_FILE_MB" in reasons["huge.txt"]
    assert "binary" in reasons["photo.html"]
    assert "no article text" in reasons["empty.txt"]
    assert "no article text" in reasons["menu.html"]
    assert "invalid JSON" in reasons["feed.jsonl:2"]
    assert "duplicate id 'f1'" in reasons["feed.jsonl:3"]
    assert "not valid UTF-8" in reasons[os.fsdecode(b"caf\xe9.txt")]
    assert summary["files_skipped"] == len(reasons) == 7
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 7 and all(w.startswith("warning: skipped ") for w in warnings)


def test_the_file_size_limit_is_a_setting(tmp_path, encoder, monkeypatch):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "long.txt").write_text("The harbour reopened on Sunday. " * 40_000, "utf-8")
    monkeypatch.setenv("QA_MAX_FILE_MB", "0.5")
    summary = Ingestor(Settings.load(index=tmp_path / "idx"), encoder).ingest([corpus], quiet=True)
    assert summary.articles_added == 0
    [skipped] = summary.skipped
    assert "larger than the 0.5 MB limit (1.22 MB)" in skipped.reason
    monkeypatch.setenv("QA_MAX_FILE_MB", "0")
    with pytest.raises(InputError, match="max_file_mb"):
        Settings.load()


def test_a_reader_that_goes_away_is_no_traceback(tmp_path, seed_settings):
    """`qa ask ... | head -1`: when the reader stops reading, qa stops quietly."""
    import subprocess

    from .conftest import BIN

    err = tmp_path / "stderr.txt"
    index = seed_settings.store.index
    script = f'"{BIN / "qa"}" ask "Who is Zhang Youxia?" --index "{index}" 2>"{err}" | true'
    subprocess.run(["bash", "-c", script], timeout=600, check=False)
    assert "Traceback" not in err.read_text("utf-8"), err.read_text("utf-8")
