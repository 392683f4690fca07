"""Generation speed of this machine's llama.cpp build: `python -m qa.bench.tokens_bench`.

Prints the build's CPU features and the median tokens/s of the bundled 1.5B model (greedy,
64 new tokens, 3 runs after one warm-up) as JSON. A native build cannot be compared on an
AVX-512 Xeon with avx512fp16: it dies with SIGSEGV at the first decode (README)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any


def main(model: str = "") -> dict[str, object]:
    from llama_cpp import Llama, llama_print_system_info

    from qa.models import resolve_gguf

    threads = os.cpu_count() or 2
    llm = Llama(model_path=str(resolve_gguf(model)), n_ctx=2048, n_threads=threads, verbose=False)
    prompt = "Write a short news report about a city council meeting that approved a new library."
    llm.create_completion(prompt, max_tokens=8, temperature=0)
    rates = []
    for _ in range(3):
        llm.reset()
        started = time.perf_counter()
        out: Any = llm.create_completion(prompt, max_tokens=64, temperature=0)
        rates.append(out["usage"]["completion_tokens"] / (time.perf_counter() - started))
    return {
        "system_info": llama_print_system_info().decode().strip(),
        "threads": threads,
        "gen_tokens_per_s_median": round(statistics.median(rates), 2),
        "runs": [round(r, 2) for r in rates],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "")))
