"""Ingest into a real Chroma store with the real embedding model: incremental, idempotent,
crash-safe, and the same through a real `chroma run` server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import chromadb
import pytest

from qa.bench.corpora import write_abc_corpus
from qa.errors import EmbeddingMismatchError
from qa.index.ingest import Ingestor
from qa.settings import Settings

from .conftest import BIN, SEEDS


def snapshot(index: Path) -> tuple[list, list, int, list]:
    """Everything an index holds: chunk rows in Chroma, keyword rows, FTS row count."""
    client = chromadb.PersistentClient(path=str(index / "chroma"))
    got = client.get_collection("news").get(include=["documents", "metadatas"])
    rows = sorted(
        zip(
            got["ids"],
            got["documents"],
            [json.dumps(m, sort_keys=True) for m in got["metadatas"]],
            strict=True,
        )
    )
    db = sqlite3.connect(index / "state.sqlite3")
    keyword = sorted(db.execute("SELECT chunk_id, article_id FROM chunks").fetchall())
    fts = db.execute("SELECT count(*) FROM chunk_fts").fetchone()[0]
    pending = db.execute("SELECT count(*) FROM articles WHERE status != 'done'").fetchone()[0]
    assert pending == 0
    # the BM25 side: per-word chunk counts and per-chunk stems, no duplicates or gaps
    df = sorted(db.execute("SELECT term, df FROM term_df").fetchall())
    assert df == sorted(db.execute("SELECT term, doc FROM chunk_vocab WHERE doc > 0").fetchall())
    assert db.execute("SELECT count(*) FROM doc_terms").fetchone()[0] == fts
    return rows, keyword, fts, df


def test_seed_ingest_then_unchanged_reingest_embeds_nothing(tmp_path, encoder):
    settings = Settings.load(index=tmp_path / "idx")
    first = Ingestor(settings, encoder).ingest([SEEDS], quiet=True)
    assert first.articles_added == 2 and first.files_skipped == 0
    assert first.chunks_added == first.chunks_total > 2
    again = Ingestor(settings, encoder).ingest([SEEDS], quiet=True)
    assert (again.articles_added, again.articles_updated, again.chunks_added) == (0, 0, 0)
    assert again.articles_unchanged == 2 and again.chunks_total == first.chunks_total
    rows, keyword, fts, _ = snapshot(settings.store.index)
    assert len(rows) == len(keyword) == fts == first.chunks_total
    for _, text, meta in rows:
        meta = json.loads(meta)
        source = (SEEDS / f"{meta['article_id']}.txt").read_text("utf-8")
        assert source[meta["start"] : meta["end"]] == text


def test_changed_article_replaces_its_chunks_and_prune_removes_absent(tmp_path, encoder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in SEEDS.iterdir():
        (corpus / f.name).write_bytes(f.read_bytes())
    (corpus / "extra.txt").write_text("Floods closed the harbour road on Friday. " * 30, "utf-8")
    settings = Settings.load(index=tmp_path / "idx")
    Ingestor(settings, encoder).ingest([corpus], quiet=True)
    (corpus / "extra.txt").write_text("The harbour road reopened on Sunday after repairs.", "utf-8")
    changed = Ingestor(settings, encoder).ingest([corpus], quiet=True)
    assert (changed.articles_updated, changed.articles_unchanged, changed.chunks_added) == (1, 2, 1)
    rows, _, _, _ = snapshot(settings.store.index)
    extra = [doc for cid, doc, _ in rows if cid.startswith("extra::")]
    assert extra == ["The harbour road reopened on Sunday after repairs."]

    (corpus / "extra.txt").unlink()
    kept = Ingestor(settings, encoder).ingest([corpus], quiet=True)
    assert kept.articles_removed == 0 and any(
        r[0].startswith("extra::") for r in snapshot(settings.store.index)[0]
    )
    pruned = Ingestor(settings, encoder).ingest([corpus], prune=True, quiet=True)
    assert pruned.articles_removed == 1
    rows, keyword, fts, _ = snapshot(settings.store.index)
    assert not any(cid.startswith("extra::") for cid, _, _ in rows)
    assert len(rows) == len(keyword) == fts == pruned.chunks_total


def test_duplicate_id_with_different_text_is_skipped(tmp_path, encoder):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text(
        json.dumps({"id": "x", "text": "The mayor opened the bridge."})
        + "\n"
        + json.dumps({"id": "x", "text": "A different story entirely."})
        + "\n",
        "utf-8",
    )
    summary = Ingestor(Settings.load(index=tmp_path / "i"), encoder).ingest([corpus], quiet=True)
    assert summary.articles_added == 1 and summary.files_skipped == 1
    assert "duplicate id" in summary.skipped[0].reason


def test_another_embedding_model_on_the_same_index_is_an_error(tmp_path, encoder):
    settings = Settings.load(index=tmp_path / "idx")
    Ingestor(settings, encoder).ingest([SEEDS], quiet=True)
    other = tmp_path / "other-model"
    other.mkdir()
    with pytest.raises(EmbeddingMismatchError, match="was built with embedding model"):
        Ingestor(settings.replace(embedding_model=str(other)))


@pytest.mark.slow
def test_cli_json_summary_and_bad_path(run_qa, tmp_path):
    done = run_qa("ingest", str(SEEDS), "--index", str(tmp_path / "idx"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    for key in (
        "articles_added",
        "articles_updated",
        "articles_unchanged",
        "articles_removed",
        "files_skipped",
        "chunks_added",
        "chunks_total",
    ):
        assert isinstance(summary[key], int)
    assert summary["articles_added"] == 2
    bad = run_qa("ingest", str(tmp_path / "missing"), "--index", str(tmp_path / "idx"))
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "does not exist" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow
def test_kill_9_mid_ingest_then_resume_equals_a_clean_ingest(tmp_path):
    corpus = write_abc_corpus(tmp_path / "abc", limit=200)
    env = {**os.environ, "QA_INGEST_BATCH": "16"}
    command = [str(BIN / "qa"), "ingest", str(corpus), "--quiet", "--index"]
    victim = subprocess.Popen(
        [*command, str(tmp_path / "killed")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    state = tmp_path / "killed" / "state.sqlite3"
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and victim.poll() is None:
        if state.exists():
            try:
                done = (
                    sqlite3.connect(state)
                    .execute("SELECT count(*) FROM articles WHERE status='done'")
                    .fetchone()[0]
                )
            except sqlite3.Error:
                done = 0
            if done >= 20:
                break
        time.sleep(0.05)
    assert victim.poll() is None, f"ingest ended before it could be killed: {victim.stderr.read()}"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert 20 <= done < 200
    resumed = subprocess.run(
        [*command, str(tmp_path / "killed"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["articles_unchanged"] >= 20
    clean = subprocess.run(
        [*command, str(tmp_path / "clean")], env=env, capture_output=True, text=True, timeout=600
    )
    assert clean.returncode == 0, clean.stderr
    assert snapshot(tmp_path / "killed") == snapshot(tmp_path / "clean")


@pytest.mark.server
def test_chroma_server_mode_same_code_path(chroma_server, tmp_path, encoder, run_qa):
    host, port = chroma_server
    settings = Settings.load(
        index=tmp_path / "state", chroma_host=host, chroma_port=port, collection="seeds_server"
    )
    first = Ingestor(settings, encoder).ingest([SEEDS], quiet=True)
    client = chromadb.HttpClient(host=host, port=port)
    assert client.get_collection("seeds_server").count() == first.chunks_total > 0
    again = run_qa(
        "ingest",
        str(SEEDS),
        "--index",
        str(tmp_path / "state"),
        "--chroma-host",
        host,
        "--chroma-port",
        str(port),
        "--collection",
        "seeds_server",
        "--json",
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["articles_unchanged"] == 2


def test_unreachable_chroma_server_is_a_one_line_error(run_qa, tmp_path):
    from .conftest import free_port

    done = run_qa(
        "ingest",
        str(SEEDS),
        "--index",
        str(tmp_path),
        "--chroma-host",
        "127.0.0.1",
        "--chroma-port",
        str(free_port()),
    )
    assert done.returncode == 2, done.stderr
    assert "cannot reach" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_tenant_and_database_on_a_shared_server_are_only_settings(
    chroma_server, tmp_path, run_qa
):
    """What a distributed or shared Chroma needs: the same code, a tenant and a database."""
    host, port = chroma_server
    admin = chromadb.AdminClient(
        chromadb.config.Settings(
            chroma_server_host=host,
            chroma_server_http_port=port,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
        )
    )
    admin.create_tenant("newsroom")
    admin.create_database("archive", tenant="newsroom")
    flags = ["--index", str(tmp_path), "--chroma-host", host, "--chroma-port", str(port)]
    flags += ["--collection", "scoped_news"]
    scope = ["--chroma-tenant", "newsroom", "--chroma-database", "archive"]
    done = run_qa("ingest", str(SEEDS), *flags, *scope, "--json")
    assert done.returncode == 0, done.stderr
    chunks = json.loads(done.stdout)["chunks_total"]
    scoped = chromadb.HttpClient(host=host, port=port, tenant="newsroom", database="archive")
    assert scoped.get_collection("scoped_news").count() == chunks > 0
    default = chromadb.HttpClient(host=host, port=port)
    assert "scoped_news" not in [c.name for c in default.list_collections()]
    answer = run_qa("ask", "Who is Zhang Youxia?", *flags, *scope, "--json")
    assert answer.returncode == 0 and json.loads(answer.stdout)["citations"], answer.stderr
    # the same questions without the scope find no index there, and say so in one line
    missing = run_qa("ask", "Who is Zhang Youxia?", *flags)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr, missing.stderr
