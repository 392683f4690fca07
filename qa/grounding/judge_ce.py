"""A cross-encoder grounding judge: P(supported) of a sentence given each evidence unit.

An alternative to the rule-based `OfflineJudge`. The model is all-MiniLM-L6-v2 with a
one-logit head, fine-tuned here on synthetic pairs by `scripts/train_judge.py`; nothing is
downloaded. The claim is scored against every sentence of the evidence, every adjacent
pair of sentences, and the whole evidence when it fits; the best unit decides.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.errors import ModelIntegrityError
from qa.grounding.judge import Verdict, _evidence_units
from qa.grounding.markers import strip_markers
from qa.models import _verified, cache_dir

MANIFEST = "judge-ce.json"
WEIGHTS = "model.safetensors"
MAX_LENGTH = 256  # tokens of claim + evidence unit; longer units lose their tail
MAX_THREADS = 2
_TRAIN = "python scripts/train_judge.py --out {}"


def default_path() -> Path:
    """Where `scripts/train_judge.py` writes the model unless told otherwise."""
    return cache_dir() / "judge-ce"


def _offline() -> None:
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(key, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a trained judge; ModelIntegrityError if it or the weights are missing."""
    manifest, weights = path / MANIFEST, path / WEIGHTS
    if not manifest.is_file() or not weights.is_file():
        raise ModelIntegrityError(
            f"cross-encoder judge not found in {path} (no {MANIFEST} or {WEIGHTS}): "
            f"train it with `{_TRAIN.format(path)}`"
        )
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelIntegrityError(
            f"{manifest} cannot be read ({exc}): train the judge again with `{_TRAIN.format(path)}`"
        ) from None


class CrossEncoderJudge:
    """MiniLM cross-encoder: supported when the best evidence unit scores >= threshold."""

    name = "cross-encoder"

    def __init__(
        self, path: str | Path | None = None, threshold: float = 0.5, batch_size: int = 32
    ) -> None:
        self.path = Path(path).expanduser() if path else default_path()
        self.threshold = threshold
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self.manifest: dict[str, Any] = {}

    def warm_up(self) -> None:
        """Load the model once (checked against the SHA-256 in its manifest)."""
        with self._lock:
            if self._model is not None:
                return
            _offline()
            manifest = read_manifest(self.path)
            expected = str(manifest.get("weights_sha256", ""))
            if len(expected) != 64:
                raise ModelIntegrityError(
                    f"{self.path / MANIFEST} has no weights_sha256: train the judge again "
                    f"with `{_TRAIN.format(self.path)}`"
                )
            _verified(
                self.path / WEIGHTS,
                expected,
                "cross-encoder judge weights",
                f"train the judge again with `{_TRAIN.format(self.path)}`",
            )
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            if torch.get_num_threads() > MAX_THREADS:
                torch.set_num_threads(MAX_THREADS)
            try:
                tokenizer = AutoTokenizer.from_pretrained(str(self.path))
                model = AutoModelForSequenceClassification.from_pretrained(str(self.path))
            except (OSError, ValueError) as exc:
                raise ModelIntegrityError(
                    f"cross-encoder judge in {self.path} cannot be loaded ({exc}): train it "
                    f"again with `{_TRAIN.format(self.path)}`"
                ) from None
            model.eval()
            self.manifest = manifest
            self._tokenizer, self._model = tokenizer, model

    def probabilities(self, claim: str, texts: Sequence[str]) -> list[float]:
        """P(supported) of `claim` against each of `texts`."""
        return self.score_pairs([(claim, text) for text in texts])

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(supported) of each (claim, evidence) pair, batched by length."""
        if not pairs:
            return []
        self.warm_up()
        import torch

        order = sorted(range(len(pairs)), key=lambda k: len(pairs[k][0]) + len(pairs[k][1]))
        out = [0.0] * len(pairs)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                encoded = self._tokenizer(
                    [pairs[k][0] for k in batch],
                    [pairs[k][1] for k in batch],
                    truncation="only_second",
                    max_length=MAX_LENGTH,
                    padding=True,
                    return_tensors="pt",
                )
                logits = self._model(**encoded).logits.squeeze(-1).float()
                for k, p in zip(batch, torch.sigmoid(logits).tolist(), strict=True):
                    out[k] = float(p)
        return out

    def units(self, claim: str, evidence: Sequence[str]) -> list[str]:
        """Evidence sentences, adjacent pairs, and the whole evidence when it fits."""
        units = list(dict.fromkeys(u for u in _evidence_units(evidence) if u.strip()))
        whole = " ".join(" ".join(t.split()) for t in evidence if t.strip())
        if whole and whole not in {" ".join(u.split()) for u in units}:
            self.warm_up()
            size = len(self._tokenizer(claim, whole, truncation=False)["input_ids"])
            if size <= MAX_LENGTH:
                units.append(whole)
        return units

    def judge(
        self,
        sentence: str,
        evidence: Sequence[str],
        context: Sequence[str] = (),
        question: str = "",
    ) -> Verdict:
        """Does `evidence` (the cited passages) support `sentence`? `context` is accepted for
        the judges' common interface and not used: only the cited text can support."""
        claim = strip_markers(sentence)
        if not claim or not any(t.strip() for t in evidence):
            return Verdict(False, 0.0, "nothing cited")
        units = self.units(claim, evidence)
        scores = self.probabilities(claim, units)
        best = max(range(len(units)), key=scores.__getitem__)
        score = scores[best]
        supported = score >= self.threshold
        reason = f"cross-encoder P(supported) {score:.2f} on the best of {len(units)} units"
        return Verdict(supported, round(score, 3), reason, units[best])
