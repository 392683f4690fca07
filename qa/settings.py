"""Settings: flags, then environment (`QA_` prefix), then these defaults.

One `Settings` is read once (from flags and `QA_*` variables, by their flat names: `top_k`,
`QA_TOP_K`) and split by the part that uses it, so each layer receives only its own:

- `store`: where the index lives (Chroma embedded or a server, the keyword index);
- `embedding`: the sentence encoder;
- `ingest`: how files become chunks and are written;
- `model`: the chat backend and how it is called;
- `answer`: retrieval depth, the refusal gate, the checker's mode, follow-ups.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from qa.errors import InputError

# What happens to a sentence the checker finds unsupported, and how follow-ups are rewritten.
Unsupported = Literal["drop", "flag"]
Condense = Literal["rules", "llm"]


@dataclass(frozen=True)
class StoreSettings:
    """Where the index lives: the Chroma store and the keyword index beside it."""

    index: Path = Path("index")
    collection: str = "news"
    chroma_host: str = ""  # empty: embedded store in `index`; else a Chroma server
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_token: str = ""  # read from QA_CHROMA_TOKEN; never printed
    chroma_token_header: str = "authorization"  # or x-chroma-token (Chroma Cloud)
    chroma_tenant: str = ""  # empty: the server's default tenant
    chroma_database: str = ""  # empty: the server's default database
    # empty: manifest and keyword index in SQLite beside the index; postgresql://...: in that
    # database, shared by every qa instance (with chroma_host, nothing stays on local disk)
    keywords_url: str = ""
    lock_timeout: float = 30.0  # seconds an ingest waits for another writer of the index

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", Path(self.index))
        if self.chroma_token_header not in ("authorization", "x-chroma-token"):
            raise InputError(
                f"chroma_token_header={self.chroma_token_header!r}: use authorization "
                "(Bearer, the default) or x-chroma-token (Chroma Cloud)"
            )
        if self.keywords_url and not self.keywords_url.startswith(("postgresql://", "postgres://")):
            raise InputError(
                "keywords_url must be a postgresql://user@host:port/database URL (or empty)"
            )


@dataclass(frozen=True)
class EmbeddingSettings:
    """The sentence encoder, for ingest and for questions alike."""

    embedding_model: str = "bundled"  # the packaged all-MiniLM-L6-v2, or a name/path
    batch_size: int = 64  # texts per encoder call


@dataclass(frozen=True)
class IngestSettings:
    """How article files become chunks and are written."""

    chunk_tokens: int = 200
    chunk_overlap: int = 40
    ingest_batch: int = 256  # chunks written per crash-safe step
    max_file_mb: float = 20.0  # larger article files are skipped with a warning

    def __post_init__(self) -> None:
        if self.chunk_overlap >= self.chunk_tokens:
            raise InputError(
                f"chunk_overlap={self.chunk_overlap} must be smaller than "
                f"chunk_tokens={self.chunk_tokens}"
            )
        if self.max_file_mb <= 0:
            raise InputError(f"max_file_mb={self.max_file_mb} must be more than 0")


@dataclass(frozen=True)
class ModelSettings:
    """The chat backend and how it is called."""

    llm: str = "extractive"
    llm_model: str = ""  # GGUF path for llamacpp, model name for openai/ollama
    openai_base_url: str = "https://api.openai.com/v1"
    llm_timeout: float = 120.0
    max_tokens: int = 320
    temperature: float = 0.0  # greedy: the same question gets the same answer
    n_ctx: int = 4096
    llm_in_process: bool = False  # llamacpp: load the model here, not in a supervised child
    fallback_extractive: bool = False  # `qa chat` turns it on unless told not to


@dataclass(frozen=True)
class AnswerSettings:
    """How a question is answered: passages, the refusal gate, the checker, follow-ups."""

    top_k: int = 5
    focus_sentences: int = 4  # sentences of the passages a model reads; 0: whole passages
    min_similarity: float = 0.15  # below: refuse without asking the model
    unsupported: Unsupported = "drop"
    condense: Condense = "rules"
    max_question_chars: int = 4000
    # A model answer with no supported sentence (the checker dropped every one) gives way
    # to the extractive answer, quotes of the same passages, instead of a refusal.
    quote_unsupported: bool = True
    # A model that says the articles do not answer is asked once more, shown only the
    # sentences that hold what the question asks for (the extractive backend's choice).
    retry_refusal: bool = True

    def __post_init__(self) -> None:
        for name, kind in (("unsupported", Unsupported), ("condense", Condense)):
            allowed = get_args(kind)
            if getattr(self, name) not in allowed:
                value = getattr(self, name)
                raise InputError(f"{name}={value!r} is not valid: use one of {', '.join(allowed)}")
        if self.top_k < 1:
            raise InputError(f"top_k={self.top_k} must be at least 1")


_PARTS: dict[str, type] = {
    "store": StoreSettings,
    "embedding": EmbeddingSettings,
    "ingest": IngestSettings,
    "model": ModelSettings,
    "answer": AnswerSettings,
}
# Every flat setting name -> the part that holds it.
_OWNER = {f.name: part for part, cls in _PARTS.items() for f in fields(cls)}


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured, by part. `Settings.load(**flags)` is the usual
    entry (environment included); `Settings.of(index=..., top_k=...)` takes flat names."""

    store: StoreSettings = field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)

    @classmethod
    def of(cls, **flat: Any) -> Settings:
        """Settings from flat names (`index=..., top_k=...`), the rest at their defaults."""
        unknown = set(flat) - set(_OWNER)
        if unknown:
            raise InputError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        grouped: dict[str, dict[str, Any]] = {part: {} for part in _PARTS}
        for name, value in flat.items():
            grouped[_OWNER[name]][name] = value
        return cls(**{part: _PARTS[part](**values) for part, values in grouped.items()})

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, overridden by `QA_*` environment variables, overridden by `overrides`.

        Overrides whose value is None are ignored, so CLI flags left unset fall through.
        """
        values: dict[str, Any] = {}
        for part in _PARTS.values():
            for f in fields(part):
                raw = os.environ.get(f"QA_{f.name.upper()}")
                if raw is not None and raw != "":
                    values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.of(**values)

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name."""
        return {
            f.name: getattr(getattr(self, part), f.name)
            for part, cls in _PARTS.items()
            for f in fields(cls)
        }

    def replace(self, **changes: Any) -> Settings:
        """A copy with these flat-named settings changed (None: unchanged)."""
        return Settings.of(**{**self.flat(), **{k: v for k, v in changes.items() if v is not None}})

    def public(self) -> dict[str, Any]:
        """The settings as a dict, secrets masked: safe to print or log."""
        out = self.flat()
        out["index"] = str(self.store.index)
        if out["chroma_token"]:
            out["chroma_token"] = "***"
        out["keywords_url"] = re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", out["keywords_url"])
        return out


def _convert(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    try:
        if kind == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise InputError(
            f"environment variable QA_{name.upper()}={raw!r} is not a valid {kind}"
        ) from None
    return raw


__all__ = [
    "AnswerSettings",
    "EmbeddingSettings",
    "IngestSettings",
    "ModelSettings",
    "Settings",
    "StoreSettings",
]
