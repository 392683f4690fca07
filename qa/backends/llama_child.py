"""The local model's child process: llama.cpp's OpenAI-compatible server (`llama_cpp.server`),
which also exits when the `qa` process that started it is gone, so no model is left running
after the page or the CLI stops, however they stop.

Run as `python -m qa.backends.llama_child <llama_cpp.server arguments>`.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # the parent died (even by SIGKILL): nobody will ask this model anything


def main() -> None:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
