"""Switch off every download and telemetry path of the libraries we use.

Called once when `qa` is imported. Users with internet who want hub model names resolved
set `QA_ALLOW_DOWNLOADS=1`; telemetry stays off regardless.
"""

from __future__ import annotations

import os

_TELEMETRY_OFF = {
    "ANONYMIZED_TELEMETRY": "False",  # chromadb
    "CHROMA_TELEMETRY_IMPL": "",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
_DOWNLOADS_OFF = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}


def apply() -> None:
    """Set the switches unless the user already chose a value."""
    for key, value in _TELEMETRY_OFF.items():
        if value:
            os.environ.setdefault(key, value)
    if os.environ.get("QA_ALLOW_DOWNLOADS", "").lower() not in {"1", "true", "yes"}:
        for key, value in _DOWNLOADS_OFF.items():
            os.environ.setdefault(key, value)
